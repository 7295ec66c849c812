//! Why an offer does not apply: to this order at all, to this cart, or alongside another one.
//! Each reason has a stable code and a message in Chinese and English for the checkout page.

use crate::ids::{CouponGrantId, PromotionId};
use crate::money::Money;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One offer on an order: an active promotion, or one of the diner's own coupons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum OfferRef {
    Promotion(PromotionId),
    Coupon(CouponGrantId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefusalReason {
    /// Not an active promotion, or not one of this diner's coupons.
    UnknownOffer,
    WrongChannel,
    WrongStore,
    OutsideHours,
    MemberLevelTooLow,
    NotFirstOrder,
    TooFewDiners {
        min: i64,
    },
    CouponNotYetValid {
        from: Timestamp,
    },
    CouponExpired {
        until: Timestamp,
    },
    CouponAlreadyUsed,
    /// Spend this much more (after the discounts that come first) to meet the threshold.
    ThresholdNotMet {
        short_by: Money,
    },
    /// Nothing in this cart (or nothing left after earlier discounts) for it to reduce.
    NothingToDiscount,
    CannotCombine {
        with: OfferRef,
    },
    OneCouponPerClass {
        with: OfferRef,
    },
    ChosenTwice,
}

impl RefusalReason {
    pub fn code(&self) -> &'static str {
        match self {
            RefusalReason::UnknownOffer => "UNKNOWN_OFFER",
            RefusalReason::WrongChannel => "WRONG_CHANNEL",
            RefusalReason::WrongStore => "WRONG_STORE",
            RefusalReason::OutsideHours => "OUTSIDE_HOURS",
            RefusalReason::MemberLevelTooLow => "MEMBER_LEVEL_TOO_LOW",
            RefusalReason::NotFirstOrder => "NOT_FIRST_ORDER",
            RefusalReason::TooFewDiners { .. } => "TOO_FEW_DINERS",
            RefusalReason::CouponNotYetValid { .. } => "COUPON_NOT_YET_VALID",
            RefusalReason::CouponExpired { .. } => "COUPON_EXPIRED",
            RefusalReason::CouponAlreadyUsed => "COUPON_ALREADY_USED",
            RefusalReason::ThresholdNotMet { .. } => "THRESHOLD_NOT_MET",
            RefusalReason::NothingToDiscount => "NOTHING_TO_DISCOUNT",
            RefusalReason::CannotCombine { .. } => "CANNOT_COMBINE",
            RefusalReason::OneCouponPerClass { .. } => "ONE_COUPON_PER_CLASS",
            RefusalReason::ChosenTwice => "CHOSEN_TWICE",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            RefusalReason::UnknownOffer => "该优惠不存在或不属于你".into(),
            RefusalReason::WrongChannel => "该优惠不适用于当前用餐方式".into(),
            RefusalReason::WrongStore => "该优惠不适用于本门店".into(),
            RefusalReason::OutsideHours => "不在优惠时段内".into(),
            RefusalReason::MemberLevelTooLow => "会员等级不足".into(),
            RefusalReason::NotFirstOrder => "仅限首单使用".into(),
            RefusalReason::TooFewDiners { min } => format!("需 {min} 人及以上用餐"),
            RefusalReason::CouponNotYetValid { .. } => "优惠券尚未生效".into(),
            RefusalReason::CouponExpired { .. } => "优惠券已过期".into(),
            RefusalReason::CouponAlreadyUsed => "优惠券已使用".into(),
            RefusalReason::ThresholdNotMet { short_by } => {
                format!("还差 {} 元可用", short_by.to_yuan_string())
            }
            RefusalReason::NothingToDiscount => "购物车中没有可优惠的菜品".into(),
            RefusalReason::CannotCombine { .. } => "与已选优惠不可同享".into(),
            RefusalReason::OneCouponPerClass { .. } => "同类优惠券每单限用一张".into(),
            RefusalReason::ChosenTwice => "同一优惠不能重复使用".into(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            RefusalReason::UnknownOffer => "This offer does not exist or is not yours".into(),
            RefusalReason::WrongChannel => "This offer is not for this way of ordering".into(),
            RefusalReason::WrongStore => "This offer is not valid at this store".into(),
            RefusalReason::OutsideHours => "This offer is not valid at this time".into(),
            RefusalReason::MemberLevelTooLow => "Your member level is too low".into(),
            RefusalReason::NotFirstOrder => "For a first order only".into(),
            RefusalReason::TooFewDiners { min } => format!("For {min} or more diners"),
            RefusalReason::CouponNotYetValid { .. } => "This coupon is not valid yet".into(),
            RefusalReason::CouponExpired { .. } => "This coupon has expired".into(),
            RefusalReason::CouponAlreadyUsed => "This coupon has been used".into(),
            RefusalReason::ThresholdNotMet { short_by } => {
                format!("Spend ¥{} more to use it", short_by.to_yuan_string())
            }
            RefusalReason::NothingToDiscount => "Nothing in the cart for this offer".into(),
            RefusalReason::CannotCombine { .. } => {
                "Cannot be combined with an offer already chosen".into()
            }
            RefusalReason::OneCouponPerClass { .. } => {
                "Only one coupon of this kind per order".into()
            }
            RefusalReason::ChosenTwice => "The same offer cannot be used twice".into(),
        }
    }
}

/// An offer that was not applied, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub offer: OfferRef,
    pub reason: RefusalReason,
}
