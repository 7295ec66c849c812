//! Promotions, coupons and membership (the next step of the roadmap): the pricing engine lives
//! in the domain's one pricing function; coupon redemption joins the placement unit of work.
