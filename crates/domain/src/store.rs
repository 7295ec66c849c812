//! A store's trading rules: hours, how diners pay, and the fees the pricing function adds.

use crate::money::{MAX_ITEM_PRICE, Money};
use crate::schedule::{Schedule, TimeOfDay};
use crate::validation::{FieldErrors, Problem};
use serde::{Deserialize, Serialize};

/// Pay before the kitchen starts (fast food) or settle the table's bill at the end.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayMode {
    PayFirst,
    PayAfterMeal,
}

impl PayMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PayMode::PayFirst => "pay_first",
            PayMode::PayAfterMeal => "pay_after_meal",
        }
    }

    pub fn parse(text: &str) -> Option<PayMode> {
        match text {
            "pay_first" => Some(PayMode::PayFirst),
            "pay_after_meal" => Some(PayMode::PayAfterMeal),
            _ => None,
        }
    }
}

/// The packing fee for takeaway and delivery (打包费).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PackingFee {
    None,
    PerOrder {
        #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 10_000_000))]
        fee_fen: Money,
    },
    PerItem {
        #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 10_000_000))]
        fee_fen: Money,
    },
}

/// A store's time zone in the contract: one of the IANA names this server knows, so a name it
/// would refuse is outside the schema too.
#[cfg(feature = "openapi")]
fn time_zone_schema() -> utoipa::openapi::Object {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|name| name.as_str().to_owned())
        .filter(|name| jiff::tz::TimeZone::get(name).is_ok())
        .collect();
    names.sort();
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(names))
        .description(Some("IANA time zone; business dates and hours follow it"))
        .examples(["Asia/Shanghai"])
        .build()
}

/// Everything about a store that decides whether and how it takes orders.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreRules {
    /// IANA name such as "Asia/Shanghai"; business dates and hours follow it.
    #[cfg_attr(feature = "openapi", schema(schema_with = time_zone_schema))]
    pub time_zone: crate::schedule::StoreTimeZone,
    /// Weekly opening hours; an empty list means open around the clock.
    pub hours: Schedule,
    /// The merchant's switch (营业中 / 暂停营业), independent of the hours.
    pub accepting_orders: bool,
    pub pay_mode: PayMode,
    pub packing_fee: PackingFee,
    /// Per diner, dine-in only (餐位费 / 茶位费).
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 10_000_000))]
    pub seat_fee_fen: Money,
    /// When the trading day rolls over, in local time.
    pub business_day_starts_at: TimeOfDay,
    /// Whether a table's QR code can start ordering by itself or needs staff to open the table.
    #[serde(default)]
    pub table_ordering: TableOrdering,
    /// Where the store delivers; empty means no delivery.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub delivery_zones: Vec<crate::ordering::DeliveryZone>,
    #[serde(default)]
    pub slots: crate::ordering::SlotRules,
    /// Pay-first orders not paid within this many minutes are cancelled and their stock released.
    #[serde(default = "default_unpaid_timeout")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 240))]
    pub unpaid_timeout_minutes: u16,
    /// Channels whose new orders go to the kitchen without a tap (自动接单).
    #[serde(default)]
    pub auto_accept: AutoAccept,
}

/// Which channels' new orders the store accepts by itself (自动接单): a busy noodle shop takes
/// every dine-in order as it comes, and still looks at each delivery order first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoAccept {
    #[serde(default)]
    pub dine_in: bool,
    #[serde(default)]
    pub pickup: bool,
    #[serde(default)]
    pub delivery: bool,
}

impl AutoAccept {
    pub fn covers(&self, channel: crate::ordering::Channel) -> bool {
        use crate::ordering::Channel;
        match channel {
            Channel::DineIn => self.dine_in,
            Channel::Pickup => self.pickup,
            Channel::Delivery => self.delivery,
        }
    }
}

/// IANA names are short ("America/Argentina/ComodRivadavia" is among the longest).
pub const MAX_TIME_ZONE_CHARS: usize = 64;
/// Rings and drawn areas a store may deliver to; every delivery quote tries them in order.
pub const MAX_DELIVERY_ZONES: usize = 20;

fn default_unpaid_timeout() -> u16 {
    15
}

/// How scanning a table's code relates to seating (开台).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableOrdering {
    /// The first scan opens the table.
    #[default]
    OpenOnFirstScan,
    /// Staff open the table; an idle table's code only shows the menu.
    RequireOpenTable,
}

impl StoreRules {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.delivery_zones.len() > MAX_DELIVERY_ZONES {
            errors.add(
                "delivery_zones",
                Problem::TooLarge {
                    max: MAX_DELIVERY_ZONES as i64,
                },
            );
        }
        self.hours.validate(&mut errors, "hours");
        let fee = match self.packing_fee {
            PackingFee::None => Money::ZERO,
            PackingFee::PerOrder { fee_fen } | PackingFee::PerItem { fee_fen } => fee_fen,
        };
        check_fee(&mut errors, "packing_fee.fee_fen", fee);
        check_fee(&mut errors, "seat_fee_fen", self.seat_fee_fen);
        for (i, zone) in self.delivery_zones.iter().enumerate() {
            zone.validate(&mut errors, &format!("delivery_zones[{i}]"));
        }
        crate::validation::check_range(
            &mut errors,
            "unpaid_timeout_minutes",
            self.unpaid_timeout_minutes as i64,
            1,
            240,
        );
        crate::validation::check_range(
            &mut errors,
            "slots.slot_minutes",
            self.slots.slot_minutes as i64,
            5,
            240,
        );
        errors.finish(|| ())
    }
}

/// A fee must be between zero and the largest sensible item price.
pub fn check_fee(errors: &mut FieldErrors, field: &str, fee: Money) {
    if fee.is_negative() {
        errors.add(field, Problem::MustNotBeNegative);
    } else if fee > MAX_ITEM_PRICE {
        errors.add(
            field,
            Problem::TooLarge {
                max: MAX_ITEM_PRICE.fen(),
            },
        );
    }
}

/// A point on the map in micro-degrees (WGS-84), kept as integers like money. The fields are
/// private and deserializing checks them, so a point is on the globe by construction.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "GeoPointWire")]
pub struct GeoPoint {
    #[cfg_attr(feature = "openapi", schema(minimum = -90000000, maximum = 90000000))]
    latitude_e6: i32,
    #[cfg_attr(feature = "openapi", schema(minimum = -180000000, maximum = 180000000))]
    longitude_e6: i32,
}

pub const MAX_LATITUDE_E6: i64 = 90_000_000;
pub const MAX_LONGITUDE_E6: i64 = 180_000_000;

/// A point as it arrives, before its range is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GeoPointWire {
    latitude_e6: i64,
    longitude_e6: i64,
}

impl TryFrom<GeoPointWire> for GeoPoint {
    type Error = FieldErrors;
    fn try_from(wire: GeoPointWire) -> Result<GeoPoint, FieldErrors> {
        GeoPoint::parse(wire.latitude_e6, wire.longitude_e6)
    }
}

impl GeoPoint {
    /// Latitude within ±90°, longitude within ±180°; each field out of range is named.
    pub fn parse(latitude_e6: i64, longitude_e6: i64) -> Result<GeoPoint, FieldErrors> {
        let mut errors = FieldErrors::new();
        crate::validation::check_range(
            &mut errors,
            "latitude_e6",
            latitude_e6,
            -MAX_LATITUDE_E6,
            MAX_LATITUDE_E6,
        );
        crate::validation::check_range(
            &mut errors,
            "longitude_e6",
            longitude_e6,
            -MAX_LONGITUDE_E6,
            MAX_LONGITUDE_E6,
        );
        // In range means it fits: ±180,000,000 is well inside i32.
        errors.finish(|| GeoPoint {
            latitude_e6: latitude_e6 as i32,
            longitude_e6: longitude_e6 as i32,
        })
    }

    pub fn latitude_e6(self) -> i32 {
        self.latitude_e6
    }

    pub fn longitude_e6(self) -> i32 {
        self.longitude_e6
    }

    /// Great-circle distance in metres (haversine; plenty for "nearest store").
    pub fn distance_m(self, other: GeoPoint) -> u32 {
        const EARTH_RADIUS_M: f64 = 6_371_000.0;
        let to_rad = |e6: i32| (e6 as f64 / 1e6).to_radians();
        let (lat1, lat2) = (to_rad(self.latitude_e6), to_rad(other.latitude_e6));
        let d_lat = lat2 - lat1;
        let d_lon = to_rad(other.longitude_e6) - to_rad(self.longitude_e6);
        let a = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lon / 2.0).sin().powi(2);
        (2.0 * EARTH_RADIUS_M * a.sqrt().asin()).round() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_between_two_shanghai_points() {
        let people_square = GeoPoint::parse(31_232_000, 121_475_000).unwrap();
        let bund = GeoPoint::parse(31_240_000, 121_490_000).unwrap();
        let d = people_square.distance_m(bund);
        assert!((1_500..1_800).contains(&d), "{d} m");
        assert_eq!(people_square.distance_m(people_square), 0);
    }

    #[test]
    fn a_point_off_the_globe_names_its_field_and_does_not_deserialize() {
        let errors = GeoPoint::parse(2_000_000_000, 121_000_000).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["latitude_e6"]);
        assert_eq!(
            errors.iter().next().unwrap().problem,
            Problem::OutOfRange {
                min: -90_000_000,
                max: 90_000_000
            }
        );
        assert!(GeoPoint::parse(90_000_000, -180_000_000).is_ok());
        assert!(GeoPoint::parse(0, 180_000_001).is_err());
        let wire = r#"{"latitude_e6": 2000000000, "longitude_e6": 121000000}"#;
        assert!(serde_json::from_str::<GeoPoint>(wire).is_err());
        let point: GeoPoint =
            serde_json::from_str(r#"{"latitude_e6": 31230000, "longitude_e6": 121470000}"#)
                .unwrap();
        assert_eq!(point.latitude_e6(), 31_230_000);
    }

    #[test]
    fn rejects_negative_fees_and_unknown_zones() {
        assert!(crate::schedule::StoreTimeZone::parse("Mars/Olympus").is_err());
        let unknown: Result<StoreRules, _> =
            serde_json::from_str(r#"{"time_zone": "Mars/Olympus"}"#);
        assert!(unknown.unwrap_err().to_string().contains("Mars/Olympus"));
        let rules = StoreRules {
            time_zone: crate::schedule::StoreTimeZone::shanghai(),
            hours: Schedule::always(),
            accepting_orders: true,
            pay_mode: PayMode::PayFirst,
            packing_fee: PackingFee::PerItem {
                fee_fen: Money::from_fen(-1),
            },
            seat_fee_fen: Money::ZERO,
            business_day_starts_at: TimeOfDay::MIDNIGHT,
            table_ordering: TableOrdering::default(),
            delivery_zones: Vec::new(),
            slots: crate::ordering::SlotRules::default(),
            unpaid_timeout_minutes: 15,
            auto_accept: Default::default(),
        };
        let errors = rules.validate().unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["packing_fee.fee_fen"]);
    }
}
