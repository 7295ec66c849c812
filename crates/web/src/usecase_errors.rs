//! How the use cases' outcomes reach HTTP: one mapping from each business outcome to a status
//! and a stable code with its Chinese and English message.

use crate::error::{ApiError, ErrorDetail};
use crate::views::orders::OrderView;
use axum::http::StatusCode;
use diancan_domain::balance::BalanceRefusal;
use diancan_domain::dispatch::DeliveryRefusal;
use diancan_domain::membership::MembershipRefusal;
use diancan_domain::membership::points::PointsRefusal;
use diancan_domain::ordering::{OrderRefusal, QuoteError};
use diancan_domain::payments::PaymentProvider;
use diancan_domain::refunds::RefundRefusal;
use diancan_domain::staff::Permission;
use diancan_domain::validation::Problem;
use diancan_integrations::couriers::CourierError;
use diancan_usecases::Error;

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let conflict =
            |code, zh: String, en: String| ApiError::new(StatusCode::CONFLICT, code, zh, en);
        match error {
            Error::NotFound => ApiError::not_found(),
            Error::Forbidden(permission) => forbidden(permission),
            Error::Invalid(errors) => ApiError::validation(errors),
            Error::UnknownTableCode => ApiError::new(
                StatusCode::NOT_FOUND,
                "UNKNOWN_TABLE_CODE",
                "桌码无效或已更换，请扫描桌上的新二维码",
                "This table code is invalid or was replaced; scan the code on the table",
            ),
            Error::TableNotOpen => conflict(
                "TABLE_NOT_OPEN",
                "本桌尚未开台，请联系服务员开台后点餐".into(),
                "This table is not open yet; ask a waiter to open it".into(),
            ),
            Error::TableTaken => conflict(
                "TABLE_TAKEN",
                "目标桌台已有客人，请选择空闲桌台，或使用并台".into(),
                "Diners already sit at that table; pick a free one, or join the tables instead"
                    .into(),
            ),
            Error::Quote(error) => quote_error(error),
            Error::StaleQuote(quote) => conflict(
                "STALE_QUOTE",
                format!("价格或菜品有变化，请确认新的金额 {}", quote.total_fen),
                format!(
                    "Prices or items changed; please confirm the new total {}",
                    quote.total_fen
                ),
            )
            .with_quote(serde_json::to_value(&*quote).unwrap_or_default()),
            Error::PickupTime(invalid) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "INVALID_PICKUP_TIME",
                format!(
                    "取餐时间需为营业时间内、至少 {} 分钟后",
                    invalid.lead_minutes
                ),
                format!(
                    "Pickup time must be within opening hours and at least {} minutes from now",
                    invalid.lead_minutes
                ),
            ),
            Error::KeyReused => conflict(
                "IDEMPOTENCY_KEY_REUSED",
                "该请求编号已用于另一个订单，请重新提交".into(),
                "This Idempotency-Key was used for a different order; submit again".into(),
            ),
            Error::SlotFull => conflict(
                "SLOT_FULL",
                "该时段订单已满，请选择其他取餐时间".into(),
                "That time slot is full; choose another time".into(),
            ),
            Error::SoldOut { dish } => conflict(
                "SOLD_OUT",
                format!("{dish}刚刚售罄"),
                format!("{dish} just sold out"),
            ),
            Error::CouponUnavailable => conflict(
                "COUPON_UNAVAILABLE",
                "优惠券已被使用或已失效，请重新确认订单".into(),
                "A coupon was already used or is no longer valid; check your order again".into(),
            ),
            Error::PromotionLimitReached => conflict(
                "PROMOTION_LIMIT_REACHED",
                "该优惠每人限享次数已用完，请重新确认订单".into(),
                "You have used this offer as often as it allows; check your order again".into(),
            ),
            Error::CouponsAllClaimed => conflict(
                "COUPONS_ALL_CLAIMED",
                "优惠券已被领完".into(),
                "All of these coupons have been claimed".into(),
            ),
            Error::CouponLimitReached => conflict(
                "COUPON_LIMIT_REACHED",
                "已达到每人领取上限".into(),
                "You have claimed as many of these as allowed".into(),
            ),
            Error::VersionConflict => conflict(
                "VERSION_CONFLICT",
                "内容已被他人修改，请刷新后重试".into(),
                "Someone changed this since you opened it; reload and try again".into(),
            ),
            Error::MenuChanged => conflict(
                "MENU_CHANGED",
                "菜单刚刚更新，请重新确认后下单".into(),
                "The menu was just updated; please check your order again".into(),
            ),
            Error::Refused { refusal, order } => {
                let current =
                    serde_json::to_value(OrderView::from(*order.clone())).unwrap_or_default();
                refusal_error(&refusal, order.status.label_zh()).with_order(current)
            }
            Error::TicketRefused { refusal, ticket } => {
                conflict(refusal.code(), refusal.message_zh(), refusal.message_en())
                    .with_ticket(diancan_storage::kitchen::ticket_json(&ticket))
            }
            Error::NotPayable(order) => {
                let zh = order.status.label_zh();
                conflict(
                    "ORDER_NOT_PAYABLE",
                    format!("订单当前为「{zh}」，无需在线支付"),
                    format!(
                        "The order is {} and does not wait for a payment",
                        order.status.as_str()
                    ),
                )
                .with_order(serde_json::to_value(OrderView::from(*order)).unwrap_or_default())
            }
            Error::PaymentUnavailable(provider) => conflict(
                "PAYMENT_METHOD_UNAVAILABLE",
                format!("本店暂不支持{}，请选择其他支付方式", provider_zh(provider)),
                format!(
                    "{} is not available here; choose another way to pay",
                    provider_en(provider)
                ),
            ),
            Error::SignInRequired => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "SIGN_IN_REQUIRED",
                "请先登录会员后使用余额",
                "Sign in to pay from your balance",
            ),
            Error::InsufficientBalance { available } => insufficient(available),
            Error::BalanceCoversOrder => conflict(
                "BALANCE_COVERS_ORDER",
                "余额足够支付整单，请直接使用余额支付".into(),
                "Your balance covers the whole order; pay by balance instead".into(),
            ),
            Error::Balance(refusal) => balance_refusal(refusal),
            Error::RefundRefused(refusal) => refund_refusal(refusal),
            Error::Membership(refusal) => membership_refusal(refusal),
            Error::Points(refusal) => points_refusal(refusal),
            Error::BirthdayAlreadySet => conflict(
                "BIRTHDAY_ALREADY_SET",
                "生日已填写，不能修改".into(),
                "Your birthday was set before and cannot be changed".into(),
            ),
            Error::Gateway(error) => {
                tracing::warn!(code = error.code(), %error, "gateway refused or unreachable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "PAYMENT_GATEWAY_UNAVAILABLE",
                    format!("{}，请稍后再试或选择其他支付方式", error.message_zh()),
                    "The payment service is not answering; try again or pay another way",
                )
                .with_retry_after(5)
            }
            Error::PrintJobNotHeld => conflict(
                "PRINT_JOB_NOT_HELD",
                "该打印任务已不属于此次领取（租约已过期或已转到备用打印机），请勿打印".into(),
                "This attempt no longer holds the print job (its lease ran out or it moved to the fallback); do not print it".into(),
            ),
            Error::Delivery(refusal) => delivery_refusal(refusal),
            Error::Courier(error) => courier_error(error),
            Error::CampaignNotDraft(_) => conflict(
                "CAMPAIGN_ALREADY_SENT",
                "该推送已发送，不能再次发送".into(),
                "This campaign was sent already; compose a new one".into(),
            ),
            Error::Storage(error) => error.into(),
        }
    }
}

fn delivery_refusal(refusal: DeliveryRefusal) -> ApiError {
    let conflict = |code, zh: String, en: String| ApiError::new(StatusCode::CONFLICT, code, zh, en);
    match refusal {
        DeliveryRefusal::NotADeliveryOrder => conflict(
            "NOT_A_DELIVERY_ORDER",
            "只有外卖订单需要派单".into(),
            "Only delivery orders are dispatched".into(),
        ),
        DeliveryRefusal::OrderNotDispatchable(status) => conflict(
            "ORDER_NOT_DISPATCHABLE",
            format!(
                "订单当前为「{}」，接单后、出发前才能派单",
                status.label_zh()
            ),
            format!(
                "The order is {}; it can be dispatched once accepted and before it leaves",
                status.as_str()
            ),
        ),
        DeliveryRefusal::OrderNotReady(status) => conflict(
            "ORDER_NOT_READY",
            format!("订单当前为「{}」，出餐后才能取货", status.label_zh()),
            format!(
                "The order is {}; pick it up once it is ready",
                status.as_str()
            ),
        ),
        DeliveryRefusal::AlreadyAssigned => conflict(
            "DELIVERY_ALREADY_ASSIGNED",
            "该订单已派单，请刷新查看配送状态".into(),
            "This order already has a delivery; refresh to see it".into(),
        ),
        DeliveryRefusal::Illegal { from, to } => conflict(
            "ILLEGAL_DELIVERY_STEP",
            format!(
                "配送当前为「{}」，不能改为「{}」",
                from.label_zh(),
                to.label_zh()
            ),
            format!(
                "The delivery is {}; it cannot become {}",
                from.as_str(),
                to.as_str()
            ),
        ),
        DeliveryRefusal::Forbidden(permission) => forbidden(permission),
        DeliveryRefusal::NotYourDelivery => ApiError::new(
            StatusCode::FORBIDDEN,
            "NOT_YOUR_DELIVERY",
            "这单派给了其他骑手",
            "This delivery was given to another rider",
        ),
        DeliveryRefusal::CourierDrives => conflict(
            "COURIER_DRIVES_DELIVERY",
            "第三方配送的状态由配送平台回传，只能取消".into(),
            "A courier's delivery moves by its own reports; it can only be called back".into(),
        ),
        DeliveryRefusal::NotARider => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "NOT_A_RIDER",
            "所选员工不是本店的骑手",
            "The chosen staff member is not one of this store's riders",
        ),
    }
}

fn courier_error(error: CourierError) -> ApiError {
    match error {
        CourierError::Declined(reason) => ApiError::new(
            StatusCode::CONFLICT,
            "COURIER_DECLINED",
            format!("配送平台拒绝接单：{reason}"),
            format!("The courier declined: {reason}"),
        ),
        CourierError::Unavailable(why) => {
            tracing::warn!(%why, "courier unavailable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "COURIER_UNAVAILABLE",
                "配送平台暂时无法连接，请稍后再试或派给自己的骑手",
                "The courier is not answering; try again or give it to one of your riders",
            )
            .with_retry_after(5)
        }
        CourierError::BadReport(why) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "BAD_COURIER_REPORT",
            format!("配送回调无法验证：{why}"),
            format!("The courier's report could not be verified: {why}"),
        ),
        CourierError::UnknownDelivery(_) => ApiError::not_found(),
    }
}

fn insufficient(available: diancan_domain::Money) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "INSUFFICIENT_BALANCE",
        format!("余额不足，可用余额 ¥{}", available.to_yuan_string()),
        format!(
            "Not enough balance: ¥{} available",
            available.to_yuan_string()
        ),
    )
}

fn balance_refusal(refusal: BalanceRefusal) -> ApiError {
    match refusal {
        BalanceRefusal::Insufficient { available } => insufficient(available),
        BalanceRefusal::NotPositive => {
            ApiError::invalid_field("amount_fen", Problem::MustBePositive)
        }
        BalanceRefusal::TooLarge => ApiError::new(
            StatusCode::CONFLICT,
            "BALANCE_LIMIT",
            "余额将超过上限",
            "The balance would pass its limit",
        ),
        BalanceRefusal::NotHeld => ApiError::internal(refusal),
    }
}

fn membership_refusal(refusal: MembershipRefusal) -> ApiError {
    let invalid = |code: &'static str, zh: String, en: String| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, zh, en)
    };
    match refusal {
        MembershipRefusal::RechargeOutOfRange { min, max } => invalid(
            "RECHARGE_OUT_OF_RANGE",
            format!(
                "充值金额须在 ¥{} 到 ¥{} 之间",
                min.to_yuan_string(),
                max.to_yuan_string()
            ),
            format!(
                "A recharge is between ¥{} and ¥{}",
                min.to_yuan_string(),
                max.to_yuan_string()
            ),
        ),
        MembershipRefusal::BadRedemption { max } => invalid(
            "BAD_POINTS_AMOUNT",
            format!("积分数须在 1 到 {max} 之间"),
            format!("Points must be between 1 and {max}"),
        ),
        MembershipRefusal::BadBirthday => invalid(
            "BAD_BIRTHDAY",
            "生日日期无效".into(),
            "That is not a date of the year".into(),
        ),
        MembershipRefusal::BadLevels(what) => invalid(
            "BAD_LEVELS",
            "会员等级设置有误：须为青铜到钻石四级、青铜从 0 开始、门槛递增、折扣不超过 30%".into(),
            format!("Bad level table: {what}"),
        ),
        MembershipRefusal::BadPointsRule(what) => invalid(
            "BAD_POINTS_RULE",
            "积分规则有误：每元至多 100 积分，有效期至多 60 个月，会员日为周一到周日、倍数 1 到 10".into(),
            format!("Bad points rule: {what}"),
        ),
        MembershipRefusal::BadTiers(what) => invalid(
            "BAD_RECHARGE_TIERS",
            "充值档位有误：至多 8 档，金额 ¥1 到 ¥5000 且不重复，赠送大于 0、不超过充值额、随档位递增".into(),
            format!("Bad recharge tiers: {what}"),
        ),
    }
}

fn points_refusal(refusal: PointsRefusal) -> ApiError {
    match refusal {
        PointsRefusal::Insufficient { available } => ApiError::new(
            StatusCode::CONFLICT,
            "INSUFFICIENT_POINTS",
            format!("积分不足，可用 {available} 积分"),
            format!("Not enough points: {available} available"),
        ),
        PointsRefusal::TooLarge => ApiError::new(
            StatusCode::CONFLICT,
            "POINTS_LIMIT",
            "积分将超过上限",
            "The points would pass their limit",
        ),
        PointsRefusal::WrongSign | PointsRefusal::NoSuchLot => {
            ApiError::internal(format!("points entry refused: {refusal}"))
        }
    }
}

fn refund_refusal(refusal: RefundRefusal) -> ApiError {
    match refusal {
        RefundRefusal::NotPaid => ApiError::new(
            StatusCode::CONFLICT,
            "NOT_PAID",
            "该订单没有可退的付款",
            "This order has no payment to refund",
        ),
        RefundRefusal::Zero => ApiError::invalid_field("amount_fen", Problem::MustBePositive),
        RefundRefusal::AboveWhatWasPaid { left } => ApiError::new(
            StatusCode::CONFLICT,
            "REFUND_ABOVE_PAID",
            format!("最多还能退 ¥{}", left.to_yuan_string()),
            format!("At most ¥{} can still be refunded", left.to_yuan_string()),
        ),
    }
}

fn provider_zh(provider: PaymentProvider) -> &'static str {
    match provider {
        PaymentProvider::WechatPay => "微信支付",
        PaymentProvider::Alipay => "支付宝",
    }
}

fn provider_en(provider: PaymentProvider) -> &'static str {
    match provider {
        PaymentProvider::WechatPay => "WeChat Pay",
        PaymentProvider::Alipay => "Alipay",
    }
}

fn forbidden(permission: Permission) -> ApiError {
    let mut error = ApiError::forbidden();
    error.details = vec![ErrorDetail {
        field: "permission".into(),
        code: serde_json::to_value(permission)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        message: "你的角色不能执行此操作".into(),
        message_en: "Your role may not do this".into(),
    }];
    error
}

fn refusal_error(refusal: &OrderRefusal, status_zh: &str) -> ApiError {
    let conflict = |code, zh: String, en: String| ApiError::new(StatusCode::CONFLICT, code, zh, en);
    match refusal {
        OrderRefusal::Stale { seen, current } => conflict(
            "ORDER_CHANGED",
            format!("订单刚被其他人更新（现为「{status_zh}」），请刷新后重试"),
            format!(
                "Someone else just changed this order (version {seen} → {current}); refresh and retry"
            ),
        ),
        OrderRefusal::Illegal(illegal) => conflict(
            "ILLEGAL_TRANSITION",
            format!("订单当前为「{status_zh}」，不能执行该操作"),
            format!(
                "The order is {}; {} is not possible now",
                illegal.from.as_str(),
                illegal.action.as_str()
            ),
        ),
        OrderRefusal::Forbidden(permission) => forbidden(*permission),
        OrderRefusal::NoCancelRequest => conflict(
            "NO_CANCEL_REQUEST",
            "顾客没有申请取消".into(),
            "There is no cancel request to decide".into(),
        ),
        OrderRefusal::Finished => conflict(
            "ORDER_FINISHED",
            "订单已完成或已取消".into(),
            "The order is already finished or cancelled".into(),
        ),
        OrderRefusal::CannotHurry => conflict(
            "CANNOT_HURRY",
            "当前状态无需催单".into(),
            "This order cannot be hurried now".into(),
        ),
        OrderRefusal::HurriedTooSoon => ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "HURRY_TOO_SOON",
            "已经催过了，后厨正在加紧制作，请两分钟后再催",
            "The kitchen was just reminded; try again in two minutes",
        ),
        OrderRefusal::NotDue => conflict(
            "NOT_DUE",
            "订单不在待支付超时状态".into(),
            "The order is not waiting for payment past its deadline".into(),
        ),
    }
}

fn quote_error(error: QuoteError) -> ApiError {
    let unprocessable = |code, zh: String, en: String| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, zh, en)
    };
    match error {
        QuoteError::StoreClosed { opens_at } => {
            let when = opens_at.map(|t| t.replace('T', " ")).unwrap_or_default();
            let (zh, en) = if when.is_empty() {
                (
                    "门店暂停营业，暂不接单".to_owned(),
                    "The store is not taking orders right now".to_owned(),
                )
            } else {
                (
                    format!("门店已打烊，{when} 开始营业"),
                    format!("The store is closed; it opens at {when}"),
                )
            };
            unprocessable("STORE_CLOSED", zh, en)
        }
        QuoteError::TotalTooLarge => unprocessable(
            "TOTAL_TOO_LARGE",
            "订单金额超出上限，请减少数量".into(),
            "The order total is too large; order fewer items".into(),
        ),
        QuoteError::Empty => unprocessable(
            "EMPTY_ORDER",
            "购物车是空的".into(),
            "The cart is empty".into(),
        ),
        QuoteError::TooManyLines { max } => unprocessable(
            "TOO_MANY_LINES",
            format!("一次最多 {max} 行"),
            format!("At most {max} lines per order"),
        ),
        QuoteError::Lines(lines) => {
            let details = lines
                .iter()
                .map(|l| ErrorDetail {
                    field: format!("lines[{}]", l.index),
                    code: l.problem.code().to_owned(),
                    message: l.problem.message_zh(&l.item),
                    message_en: l.problem.message_en(&l.item),
                })
                .collect();
            let first = lines
                .first()
                .map(|l| (l.problem.message_zh(&l.item), l.problem.message_en(&l.item)))
                .unwrap_or_default();
            unprocessable("LINE_PROBLEMS", first.0, first.1).with_details(details)
        }
        QuoteError::OffersRefused(refusals) => {
            let details = refusals
                .iter()
                .map(|r| ErrorDetail {
                    field: r.source.clone(),
                    code: r.code.clone(),
                    message: format!("{}：{}", r.label, r.message),
                    message_en: format!("{}: {}", r.label, r.message_en),
                })
                .collect();
            unprocessable(
                "OFFERS_REFUSED",
                "所选优惠无法使用，请重新选择".into(),
                "The chosen offers cannot be used; choose again".into(),
            )
            .with_details(details)
        }
        QuoteError::DinersOutOfRange { max } => unprocessable(
            "DINERS_OUT_OF_RANGE",
            format!("就餐人数需在 1 到 {max} 之间"),
            format!("Diners must be 1 to {max}"),
        ),
        QuoteError::DeliveryAddressRequired => unprocessable(
            "DELIVERY_ADDRESS_REQUIRED",
            "请填写送餐地址".into(),
            "Enter a delivery address".into(),
        ),
        QuoteError::OutsideDeliveryZones => unprocessable(
            "OUTSIDE_DELIVERY_ZONES",
            "该地址不在配送范围内，可选择到店自取".into(),
            "This address is outside the delivery area; try pickup".into(),
        ),
        QuoteError::BelowMinimumOrder {
            minimum_fen,
            subtotal_fen,
        } => unprocessable(
            "BELOW_MINIMUM_ORDER",
            format!("起送价 {minimum_fen}，还差 {}", minimum_fen - subtotal_fen),
            format!(
                "Minimum order {minimum_fen}; add {} more",
                minimum_fen - subtotal_fen
            ),
        ),
    }
}
