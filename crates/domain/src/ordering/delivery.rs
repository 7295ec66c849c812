//! Where a store delivers (配送范围), what it charges there, and how many orders fit in a slot.

use crate::money::Money;
use crate::store::GeoPoint;
use crate::text::{Lines, check_text};
use crate::validation::{FieldErrors, Problem, check_range};
use serde::{Deserialize, Serialize};

/// A zone's name as the checkout shows it ("3公里内").
pub const MAX_ZONE_NAME_CHARS: usize = 20;
pub const MAX_ZONE_POINTS: usize = 200;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ZoneArea {
    /// Everything within `radius_m` metres of the store.
    Radius {
        #[cfg_attr(feature = "openapi", schema(minimum = 100, maximum = 50000))]
        radius_m: u32,
    },
    /// A hand-drawn area; points in order, the last joins the first.
    Polygon {
        #[cfg_attr(feature = "openapi", schema(min_items = 3, max_items = 200))]
        points: Vec<GeoPoint>,
    },
}

/// One delivery zone with its fee and minimum order. Zones are tried in order; the first that
/// contains the address applies, so put the inner (cheaper) ring first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryZone {
    #[cfg_attr(feature = "openapi", schema(max_length = 20))]
    pub name: String,
    pub area: ZoneArea,
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 10_000_000))]
    pub fee_fen: Money,
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 10_000_000))]
    pub minimum_order_fen: Money,
}

impl DeliveryZone {
    pub fn contains(&self, store: GeoPoint, address: GeoPoint) -> bool {
        match &self.area {
            ZoneArea::Radius { radius_m } => store.distance_m(address) <= *radius_m,
            ZoneArea::Polygon { points } => polygon_contains(points, address),
        }
    }

    pub fn validate(&self, errors: &mut FieldErrors, field: &str) {
        let name = self.name.trim();
        if name.is_empty() {
            errors.add(format!("{field}.name"), Problem::Required);
        } else if let Err(problem) = check_text(name, MAX_ZONE_NAME_CHARS, Lines::One) {
            errors.add(format!("{field}.name"), problem);
        }
        match &self.area {
            ZoneArea::Radius { radius_m } => check_range(
                errors,
                &format!("{field}.area.radius_m"),
                *radius_m as i64,
                100,
                50_000,
            ),
            ZoneArea::Polygon { points } if points.len() < 3 => {
                errors.add(format!("{field}.area.points"), Problem::Empty)
            }
            // Every delivery quote walks the points: keep the walk short.
            ZoneArea::Polygon { points } if points.len() > MAX_ZONE_POINTS => errors.add(
                format!("{field}.area.points"),
                Problem::TooLarge {
                    max: MAX_ZONE_POINTS as i64,
                },
            ),
            ZoneArea::Polygon { .. } => {}
        }
        crate::store::check_fee(errors, &format!("{field}.fee_fen"), self.fee_fen);
        crate::store::check_fee(
            errors,
            &format!("{field}.minimum_order_fen"),
            self.minimum_order_fen,
        );
    }
}

/// The first zone that contains `address`.
pub fn zone_for(
    zones: &[DeliveryZone],
    store: GeoPoint,
    address: GeoPoint,
) -> Option<&DeliveryZone> {
    zones.iter().find(|z| z.contains(store, address))
}

/// Ray casting on micro-degree coordinates; fine at city scale.
fn polygon_contains(points: &[GeoPoint], p: GeoPoint) -> bool {
    let (x, y) = (p.longitude_e6() as i64, p.latitude_e6() as i64);
    let mut inside = false;
    let mut j = points.len().wrapping_sub(1);
    for i in 0..points.len() {
        let (xi, yi) = (
            points[i].longitude_e6() as i64,
            points[i].latitude_e6() as i64,
        );
        let (xj, yj) = (
            points[j].longitude_e6() as i64,
            points[j].latitude_e6() as i64,
        );
        if (yi > y) != (yj > y) {
            // x < xi + (y - yi) * (xj - xi) / (yj - yi), kept in integers by cross-multiplying.
            let lhs = (x - xi) * (yj - yi);
            let rhs = (y - yi) * (xj - xi);
            if (yj > yi && lhs < rhs) || (yj < yi && lhs > rhs) {
                inside = !inside;
            }
        }
        j = i;
    }
    inside
}

/// Delivery and pickup timing: how far ahead the kitchen needs, and how many orders a slot holds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotRules {
    /// Minutes between placing an order and the earliest pickup or delivery time.
    #[cfg_attr(feature = "openapi", schema(maximum = 65_535))]
    pub lead_minutes: u16,
    #[cfg_attr(feature = "openapi", schema(minimum = 5, maximum = 240))]
    pub slot_minutes: u16,
    /// Orders per slot; 0 means unlimited.
    #[cfg_attr(feature = "openapi", schema(maximum = 65_535))]
    pub capacity_per_slot: u16,
}

impl Default for SlotRules {
    fn default() -> Self {
        SlotRules {
            lead_minutes: 20,
            slot_minutes: 15,
            capacity_per_slot: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(lat: i64, lng: i64) -> GeoPoint {
        GeoPoint::parse(lat, lng).unwrap()
    }

    #[test]
    fn first_matching_zone_applies() {
        let store = point(31_230_000, 121_470_000);
        let zones = vec![
            DeliveryZone {
                name: "3公里".into(),
                area: ZoneArea::Radius { radius_m: 3_000 },
                fee_fen: Money::from_fen(300),
                minimum_order_fen: Money::from_fen(2000),
            },
            DeliveryZone {
                name: "5公里".into(),
                area: ZoneArea::Radius { radius_m: 5_000 },
                fee_fen: Money::from_fen(600),
                minimum_order_fen: Money::from_fen(4000),
            },
        ];
        assert_eq!(
            zone_for(&zones, store, point(31_240_000, 121_470_000))
                .unwrap()
                .name,
            "3公里"
        );
        assert_eq!(
            zone_for(&zones, store, point(31_265_000, 121_470_000))
                .unwrap()
                .name,
            "5公里"
        );
        assert!(zone_for(&zones, store, point(31_330_000, 121_470_000)).is_none());
    }

    #[test]
    fn polygon_contains_inside_points_only() {
        let square = ZoneArea::Polygon {
            points: vec![
                point(31_000_000, 121_000_000),
                point(31_000_000, 121_100_000),
                point(31_100_000, 121_100_000),
                point(31_100_000, 121_000_000),
            ],
        };
        let zone = DeliveryZone {
            name: "园区".into(),
            area: square,
            fee_fen: Money::ZERO,
            minimum_order_fen: Money::ZERO,
        };
        let store = point(31_050_000, 121_050_000);
        assert!(zone.contains(store, point(31_050_000, 121_050_000)));
        assert!(!zone.contains(store, point(31_150_000, 121_050_000)));
        assert!(!zone.contains(store, point(31_050_000, 120_990_000)));
    }
}
