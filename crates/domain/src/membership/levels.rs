//! 会员等级: 青铜, 白银, 黄金, 钻石, reached by growth value (one per yuan paid), each with its
//! benefits. A brand sets the thresholds and benefits; the table is checked once, at the edge.

use super::MembershipRefusal;
use serde::{Deserialize, Serialize};

/// The most a level may take off (30 %): anything above is a typo, not a benefit.
pub const MAX_DISCOUNT_BPS: u32 = 3_000;
/// The highest threshold a brand may set (growth value, i.e. yuan paid).
pub const MAX_THRESHOLD: i64 = 10_000_000;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberLevel {
    Bronze,
    Silver,
    Gold,
    Diamond,
}

impl MemberLevel {
    pub const ALL: [MemberLevel; 4] = [
        MemberLevel::Bronze,
        MemberLevel::Silver,
        MemberLevel::Gold,
        MemberLevel::Diamond,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberLevel::Bronze => "bronze",
            MemberLevel::Silver => "silver",
            MemberLevel::Gold => "gold",
            MemberLevel::Diamond => "diamond",
        }
    }

    pub fn parse(text: &str) -> Option<MemberLevel> {
        Self::ALL.into_iter().find(|l| l.as_str() == text)
    }

    /// The level as the promotions engine ranks it (1 = 青铜 … 4 = 钻石): what member prices
    /// and a promotion's minimum level are compared with.
    pub fn rank(self) -> crate::promotions::MemberLevel {
        crate::promotions::MemberLevel(match self {
            MemberLevel::Bronze => 1,
            MemberLevel::Silver => 2,
            MemberLevel::Gold => 3,
            MemberLevel::Diamond => 4,
        })
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            MemberLevel::Bronze => "青铜",
            MemberLevel::Silver => "白银",
            MemberLevel::Gold => "黄金",
            MemberLevel::Diamond => "钻石",
        }
    }
}

/// What a level gives its members.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LevelBenefits {
    /// Taken off the order, in basis points (500 = 5 % off, 95折); at most [`MAX_DISCOUNT_BPS`].
    pub discount_bps: u32,
    pub free_delivery: bool,
    /// A birthday gift on the member's birthday (in the store's time zone).
    pub birthday_gift: bool,
}

/// One row of the table: the level, the growth value it starts at, its benefits.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelRule {
    pub level: MemberLevel,
    pub growth_from: i64,
    pub benefits: LevelBenefits,
}

/// A brand's four levels in order, 青铜 from zero, thresholds strictly rising.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelTable {
    rules: [LevelRule; 4],
}

impl LevelTable {
    /// Checks a table as a brand wrote it.
    pub fn parse(rules: &[LevelRule]) -> Result<LevelTable, MembershipRefusal> {
        let rules: [LevelRule; 4] = rules
            .try_into()
            .map_err(|_| MembershipRefusal::BadLevels("four levels, 青铜 to 钻石"))?;
        for (rule, level) in rules.iter().zip(MemberLevel::ALL) {
            if rule.level != level {
                return Err(MembershipRefusal::BadLevels("levels in order 青铜 to 钻石"));
            }
            if rule.benefits.discount_bps > MAX_DISCOUNT_BPS {
                return Err(MembershipRefusal::BadLevels("a discount of at most 30 %"));
            }
            if !(0..=MAX_THRESHOLD).contains(&rule.growth_from) {
                return Err(MembershipRefusal::BadLevels("thresholds within range"));
            }
        }
        if rules[0].growth_from != 0 {
            return Err(MembershipRefusal::BadLevels("青铜 starts at zero"));
        }
        if rules
            .windows(2)
            .any(|w| w[1].growth_from <= w[0].growth_from)
        {
            return Err(MembershipRefusal::BadLevels("thresholds strictly rising"));
        }
        Ok(LevelTable { rules })
    }

    /// The table a brand starts with: 白银 at 500, 黄金 at 2,000, 钻石 at 5,000 yuan paid.
    pub fn standard() -> LevelTable {
        let rule = |level, growth_from, discount_bps, free_delivery, birthday_gift| LevelRule {
            level,
            growth_from,
            benefits: LevelBenefits {
                discount_bps,
                free_delivery,
                birthday_gift,
            },
        };
        LevelTable {
            rules: [
                rule(MemberLevel::Bronze, 0, 0, false, false),
                rule(MemberLevel::Silver, 500, 200, false, true),
                rule(MemberLevel::Gold, 2_000, 500, true, true),
                rule(MemberLevel::Diamond, 5_000, 1_000, true, true),
            ],
        }
    }

    pub fn rules(&self) -> &[LevelRule; 4] {
        &self.rules
    }

    /// The level a member with `growth` holds.
    pub fn level_for(&self, growth: i64) -> &LevelRule {
        self.rules
            .iter()
            .rev()
            .find(|r| growth >= r.growth_from)
            .unwrap_or(&self.rules[0])
    }

    /// The next level and how much growth it still needs; `None` at the top.
    pub fn next_after(&self, growth: i64) -> Option<(MemberLevel, i64)> {
        self.rules
            .iter()
            .find(|r| r.growth_from > growth)
            .map(|r| (r.level, r.growth_from - growth.max(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_level_is_the_highest_threshold_reached() {
        let table = LevelTable::standard();
        assert_eq!(table.level_for(0).level, MemberLevel::Bronze);
        assert_eq!(table.level_for(499).level, MemberLevel::Bronze);
        assert_eq!(table.level_for(500).level, MemberLevel::Silver);
        assert_eq!(table.level_for(4_999).level, MemberLevel::Gold);
        assert_eq!(table.level_for(5_000).level, MemberLevel::Diamond);
        assert_eq!(table.next_after(120), Some((MemberLevel::Silver, 380)));
        assert_eq!(table.next_after(5_000), None);
    }

    #[test]
    fn a_badly_written_table_is_refused() {
        let mut rules = *LevelTable::standard().rules();
        rules[2].growth_from = 500;
        assert!(LevelTable::parse(&rules).is_err());
        let mut rules = *LevelTable::standard().rules();
        rules[0].growth_from = 1;
        assert!(LevelTable::parse(&rules).is_err());
        let mut rules = *LevelTable::standard().rules();
        rules[3].benefits.discount_bps = 3_001;
        assert!(LevelTable::parse(&rules).is_err());
        let mut rules = *LevelTable::standard().rules();
        rules.swap(1, 2);
        assert!(LevelTable::parse(&rules).is_err());
        assert!(LevelTable::parse(&rules[..3]).is_err());
        assert!(LevelTable::parse(LevelTable::standard().rules()).is_ok());
    }

    proptest! {
        #[test]
        fn more_growth_never_lowers_the_level(a in 0i64..20_000, b in 0i64..20_000) {
            let table = LevelTable::standard();
            let (low, high) = (a.min(b), a.max(b));
            prop_assert!(table.level_for(low).level <= table.level_for(high).level);
        }
    }
}
