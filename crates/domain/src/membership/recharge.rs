//! 充值: a diner puts money on their stored value through a gateway, with a bonus by the brand's
//! tiers (充100送20). The recharge is its own payment at the gateway; when its money arrives the
//! balance is credited the amount (Recharge) and the bonus (Bonus), once.

use super::MembershipRefusal;
use crate::ids::{BrandId, CustomerId, RechargeId};
use crate::money::Money;
use crate::payments::{ArrivedMoney, PaymentProvider};
use serde::{Deserialize, Serialize};

/// The least a diner may recharge at once.
pub const MIN_RECHARGE: Money = Money::from_yuan(1);
/// The most a diner may recharge at once.
pub const MAX_RECHARGE: Money = Money::from_yuan(5_000);
/// The most tiers a brand may offer.
pub const MAX_TIERS: usize = 8;

/// 充 `pay` 送 `bonus`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RechargeTier {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub pay_fen: Money,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub bonus_fen: Money,
}

/// A brand's tiers, lowest first; a recharge gets the bonus of the highest tier it reaches.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RechargeTiers(Vec<RechargeTier>);

impl RechargeTiers {
    pub fn parse(tiers: &[RechargeTier]) -> Result<RechargeTiers, MembershipRefusal> {
        if tiers.len() > MAX_TIERS {
            return Err(MembershipRefusal::BadTiers("at most eight tiers"));
        }
        let mut sorted = tiers.to_vec();
        sorted.sort_by_key(|t| t.pay_fen);
        for tier in &sorted {
            check_amount(tier.pay_fen)
                .map_err(|_| MembershipRefusal::BadTiers("1 to 5,000 yuan"))?;
            if tier.bonus_fen <= Money::ZERO || tier.bonus_fen > tier.pay_fen {
                return Err(MembershipRefusal::BadTiers(
                    "a bonus above zero and at most what is paid",
                ));
            }
        }
        if sorted
            .windows(2)
            .any(|w| w[0].pay_fen == w[1].pay_fen || w[1].bonus_fen < w[0].bonus_fen)
        {
            return Err(MembershipRefusal::BadTiers(
                "one tier per amount, bonuses rising",
            ));
        }
        Ok(RechargeTiers(sorted))
    }

    pub fn tiers(&self) -> &[RechargeTier] {
        &self.0
    }

    /// The bonus a recharge of `amount` earns.
    pub fn bonus_for(&self, amount: Money) -> Money {
        self.0
            .iter()
            .rev()
            .find(|t| amount >= t.pay_fen)
            .map_or(Money::ZERO, |t| t.bonus_fen)
    }
}

/// A recharge amount within range, or why not.
pub fn check_amount(amount: Money) -> Result<Money, MembershipRefusal> {
    if (MIN_RECHARGE..=MAX_RECHARGE).contains(&amount) {
        Ok(amount)
    } else {
        Err(MembershipRefusal::RechargeOutOfRange {
            min: MIN_RECHARGE,
            max: MAX_RECHARGE,
        })
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RechargeState {
    Pending,
    /// The money arrived and the balance was credited.
    Paid,
    /// Closed at the gateway unpaid.
    Closed,
}

impl RechargeState {
    pub fn as_str(self) -> &'static str {
        match self {
            RechargeState::Pending => "pending",
            RechargeState::Paid => "paid",
            RechargeState::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<RechargeState> {
        [
            RechargeState::Pending,
            RechargeState::Paid,
            RechargeState::Closed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One recharge attempt at one gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recharge {
    pub id: RechargeId,
    pub brand_id: BrandId,
    pub customer_id: CustomerId,
    pub provider: PaymentProvider,
    pub method: String,
    /// Our number at the gateway: the id without hyphens, like an order's payment.
    pub out_trade_no: String,
    pub amount: Money,
    pub bonus: Money,
    pub state: RechargeState,
    pub transaction_id: Option<String>,
    pub paid_at_ms: Option<i64>,
    /// Why the money that arrived is not what we asked for, if it is not.
    pub flagged: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Recharge {
    pub fn start(
        brand_id: BrandId,
        customer_id: CustomerId,
        provider: PaymentProvider,
        method: &str,
        amount: Money,
        bonus: Money,
        now_ms: i64,
    ) -> Recharge {
        let id = RechargeId::new();
        Recharge {
            id,
            brand_id,
            customer_id,
            provider,
            method: method.to_owned(),
            out_trade_no: id.as_uuid().simple().to_string(),
            amount,
            bonus,
            state: RechargeState::Pending,
            transaction_id: None,
            paid_at_ms: None,
            flagged: None,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
        }
    }
}

/// What a report of arrived money does to a recharge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RechargeSettlement {
    /// First report of this money: credit the amount and the bonus.
    Credit,
    AlreadySettled,
    /// Not what we asked for: set aside for reconciliation, nothing credited.
    Flag(&'static str),
}

/// Decides what `arrived` does to `recharge`. Money for a closed recharge is credited too: the
/// diner paid, and a balance is the way back to them.
pub fn settle_recharge(recharge: &Recharge, arrived: &ArrivedMoney) -> RechargeSettlement {
    if arrived.provider != recharge.provider {
        return RechargeSettlement::Flag("provider");
    }
    if arrived.amount_fen != recharge.amount.fen() {
        return RechargeSettlement::Flag("amount");
    }
    match (recharge.state, recharge.transaction_id.as_deref()) {
        (RechargeState::Paid, Some(known)) if known == arrived.transaction_id => {
            RechargeSettlement::AlreadySettled
        }
        (RechargeState::Paid, _) => RechargeSettlement::Flag("second_transaction"),
        (RechargeState::Pending | RechargeState::Closed, _) => RechargeSettlement::Credit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(pay: i64, bonus: i64) -> RechargeTier {
        RechargeTier {
            pay_fen: Money::from_yuan(pay),
            bonus_fen: Money::from_yuan(bonus),
        }
    }

    #[test]
    fn a_recharge_gets_the_bonus_of_the_highest_tier_it_reaches() {
        let tiers = RechargeTiers::parse(&[tier(200, 50), tier(100, 20)]).unwrap();
        assert_eq!(tiers.tiers()[0], tier(100, 20));
        assert_eq!(tiers.bonus_for(Money::from_yuan(99)), Money::ZERO);
        assert_eq!(tiers.bonus_for(Money::from_yuan(100)), Money::from_yuan(20));
        assert_eq!(tiers.bonus_for(Money::from_yuan(199)), Money::from_yuan(20));
        assert_eq!(tiers.bonus_for(Money::from_yuan(500)), Money::from_yuan(50));
    }

    #[test]
    fn bad_tiers_and_amounts_are_refused() {
        assert!(RechargeTiers::parse(&[tier(100, 0)]).is_err());
        assert!(RechargeTiers::parse(&[tier(100, 101)]).is_err());
        assert!(RechargeTiers::parse(&[tier(100, 20), tier(100, 30)]).is_err());
        assert!(RechargeTiers::parse(&[tier(100, 30), tier(200, 20)]).is_err());
        assert!(RechargeTiers::parse(&[tier(6_000, 20)]).is_err());
        assert!(RechargeTiers::parse(&[tier(10, 1); 9]).is_err());
        assert!(check_amount(Money::from_fen(99)).is_err());
        assert!(check_amount(Money::from_yuan(5_001)).is_err());
        assert!(check_amount(Money::from_yuan(5_000)).is_ok());
    }

    #[test]
    fn arrived_money_credits_a_recharge_once() {
        let mut recharge = Recharge::start(
            BrandId::new(),
            CustomerId::new(),
            PaymentProvider::WechatPay,
            "h5",
            Money::from_yuan(100),
            Money::from_yuan(20),
            0,
        );
        let arrived = ArrivedMoney {
            provider: PaymentProvider::WechatPay,
            out_trade_no: recharge.out_trade_no.clone(),
            transaction_id: "4200".into(),
            amount_fen: 10_000,
            paid_at_ms: 1,
        };
        assert_eq!(
            settle_recharge(&recharge, &arrived),
            RechargeSettlement::Credit
        );
        recharge.state = RechargeState::Paid;
        recharge.transaction_id = Some("4200".into());
        assert_eq!(
            settle_recharge(&recharge, &arrived),
            RechargeSettlement::AlreadySettled
        );
        let other = ArrivedMoney {
            transaction_id: "4201".into(),
            ..arrived.clone()
        };
        assert_eq!(
            settle_recharge(&recharge, &other),
            RechargeSettlement::Flag("second_transaction")
        );
        let short = ArrivedMoney {
            amount_fen: 1,
            ..arrived
        };
        assert_eq!(
            settle_recharge(&recharge, &short),
            RechargeSettlement::Flag("amount")
        );
    }
}
