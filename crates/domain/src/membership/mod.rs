//! 会员: a diner's membership at a brand, begun at their first sign-in. Growth value (one per
//! yuan paid) sets the level and its benefits; points are earned per yuan and kept as a ledger
//! (`points`); stored value is recharged through the gateways with a bonus (`recharge`); member
//! day and birthdays are judged on the store's calendar.

pub mod levels;
pub mod points;
pub mod recharge;

use crate::ids::{BrandId, CustomerId, MemberId};
use crate::money::Money;
use jiff::civil::{Date, Weekday};
use levels::{LevelBenefits, LevelTable, MemberLevel};
use points::ExpiryPolicy;
use recharge::RechargeTiers;
use serde::{Deserialize, Serialize};

/// The most a member-day multiplier may be.
pub const MAX_MULTIPLIER: u32 = 10;
/// The most points one redemption may spend.
pub const MAX_REDEMPTION: i64 = 1_000_000;
/// Longest reason staff or a diner's redemption may carry.
pub const MAX_REASON_CHARS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MembershipRefusal {
    #[error("bad level table: {0}")]
    BadLevels(&'static str),
    #[error("bad points rule: {0}")]
    BadPointsRule(&'static str),
    #[error("bad recharge tiers: {0}")]
    BadTiers(&'static str),
    #[error("a recharge is between {min} and {max} fen")]
    RechargeOutOfRange { min: Money, max: Money },
    #[error("not a birthday")]
    BadBirthday,
    #[error("a redemption is between 1 and {max} points")]
    BadRedemption { max: i64 },
}

/// A birthday as month and day. 29 February is celebrated on 28 February in other years.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Birthday {
    pub month: i8,
    pub day: i8,
}

impl Birthday {
    pub fn parse(month: i8, day: i8) -> Result<Birthday, MembershipRefusal> {
        // 2024 is a leap year: every real birthday is a date in it.
        Date::new(2024, month, day).map_err(|_| MembershipRefusal::BadBirthday)?;
        Ok(Birthday { month, day })
    }

    /// Whether `date` is this birthday.
    pub fn falls_on(self, date: Date) -> bool {
        if self.month == 2 && self.day == 29 && !date.in_leap_year() {
            return date.month() == 2 && date.day() == 28;
        }
        date.month() == self.month && date.day() == self.day
    }
}

/// 会员日: one weekday on which points count `multiplier` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberDay {
    pub weekday: Weekday,
    pub multiplier: u32,
}

impl MemberDay {
    /// `iso_weekday` is 1 (Monday) to 7 (Sunday).
    pub fn parse(iso_weekday: i8, multiplier: u32) -> Result<MemberDay, MembershipRefusal> {
        let weekday = Weekday::from_monday_one_offset(iso_weekday)
            .map_err(|_| MembershipRefusal::BadPointsRule("a member day is weekday 1 to 7"))?;
        if !(1..=MAX_MULTIPLIER).contains(&multiplier) {
            return Err(MembershipRefusal::BadPointsRule(
                "a member-day multiplier of 1 to 10",
            ));
        }
        Ok(MemberDay {
            weekday,
            multiplier,
        })
    }

    pub fn iso_weekday(self) -> i8 {
        self.weekday.to_monday_one_offset()
    }
}

/// A brand's membership programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programme {
    pub levels: LevelTable,
    /// Points per whole yuan paid (0: no points).
    pub points_per_yuan: u32,
    pub expiry: ExpiryPolicy,
    pub member_day: Option<MemberDay>,
    pub recharge_tiers: RechargeTiers,
}

impl Programme {
    /// What a brand runs before it configures anything: the standard levels, a point per yuan
    /// expiring after twelve months, no member day and no recharge bonus.
    pub fn standard() -> Programme {
        Programme {
            levels: LevelTable::standard(),
            points_per_yuan: 1,
            expiry: ExpiryPolicy { months: 12 },
            member_day: None,
            recharge_tiers: RechargeTiers::default(),
        }
    }

    pub fn check_points_per_yuan(per_yuan: u32) -> Result<u32, MembershipRefusal> {
        if per_yuan > points::MAX_POINTS_PER_YUAN {
            return Err(MembershipRefusal::BadPointsRule(
                "at most 100 points per yuan",
            ));
        }
        Ok(per_yuan)
    }

    /// The points multiplier on `date` (the store's business day).
    pub fn multiplier_on(&self, date: Date) -> u32 {
        self.member_day
            .filter(|d| d.weekday == date.weekday())
            .map_or(1, |d| d.multiplier)
    }
}

/// One diner's membership at one brand. Growth and points are the ledger folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: MemberId,
    pub brand_id: BrandId,
    pub customer_id: CustomerId,
    pub growth: i64,
    pub points: i64,
    pub birthday: Option<Birthday>,
    pub version: i64,
    pub joined_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Member {
    pub fn join(brand_id: BrandId, customer_id: CustomerId, now_ms: i64) -> Member {
        Member {
            id: MemberId::new(),
            brand_id,
            customer_id,
            growth: 0,
            points: 0,
            birthday: None,
            version: 0,
            joined_at_ms: now_ms,
            updated_at_ms: now_ms,
        }
    }
}

/// What a member is today, for the diner's page and for pricing: the level and its
/// benefits, and whether today is the member day or their birthday.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MemberStanding {
    pub level: MemberLevel,
    pub benefits: LevelBenefits,
    /// The next level and the growth it still needs; `None` at the top.
    pub next_level: Option<MemberLevel>,
    pub growth_to_next: Option<i64>,
    pub member_day: bool,
    pub birthday: bool,
    /// The birthday gift applies today: the level gives one, and it is the birthday.
    pub birthday_gift_today: bool,
    pub points_multiplier: u32,
}

/// The member's standing on `today` (the store's business day).
pub fn standing(member: &Member, programme: &Programme, today: Date) -> MemberStanding {
    let rule = programme.levels.level_for(member.growth);
    let next = programme.levels.next_after(member.growth);
    let birthday = member.birthday.is_some_and(|b| b.falls_on(today));
    let multiplier = programme.multiplier_on(today);
    MemberStanding {
        level: rule.level,
        benefits: rule.benefits,
        next_level: next.map(|n| n.0),
        growth_to_next: next.map(|n| n.1),
        member_day: programme
            .member_day
            .is_some_and(|d| d.weekday == today.weekday()),
        birthday,
        birthday_gift_today: birthday && rule.benefits.birthday_gift,
        points_multiplier: multiplier,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_birthday_on_the_29th_of_february_is_kept_in_other_years() {
        let leap = Birthday::parse(2, 29).unwrap();
        assert!(leap.falls_on(date(2028, 2, 29)));
        assert!(!leap.falls_on(date(2028, 2, 28)));
        assert!(leap.falls_on(date(2027, 2, 28)));
        assert!(Birthday::parse(2, 30).is_err());
        assert!(Birthday::parse(13, 1).is_err());
    }

    #[test]
    fn member_day_and_birthday_are_judged_on_the_stores_day() {
        let mut programme = Programme::standard();
        programme.member_day = Some(MemberDay::parse(3, 2).unwrap());
        let mut member = Member::join(BrandId::new(), CustomerId::new(), 0);
        member.growth = 2_000;
        member.birthday = Some(Birthday::parse(12, 9).unwrap());
        // 2026-12-09 is a Wednesday.
        let wednesday = standing(&member, &programme, date(2026, 12, 9));
        assert_eq!(wednesday.level, MemberLevel::Gold);
        assert!(wednesday.member_day && wednesday.birthday && wednesday.birthday_gift_today);
        assert_eq!(wednesday.points_multiplier, 2);
        assert_eq!(wednesday.next_level, Some(MemberLevel::Diamond));
        assert_eq!(wednesday.growth_to_next, Some(3_000));
        let thursday = standing(&member, &programme, date(2026, 12, 10));
        assert!(!thursday.member_day && !thursday.birthday);
        assert_eq!(thursday.points_multiplier, 1);
        assert!(MemberDay::parse(8, 2).is_err());
        assert!(MemberDay::parse(1, 11).is_err());
    }
}
