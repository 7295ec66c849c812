//! All-day counts (全天汇总): how many of each dish are still open across a store's tickets,
//! per station (红烧牛肉面 ×7). Kept as a fold over item moves, so a screen updates from each
//! event without reading every ticket again; [`AllDayCounts::recount`] is the full recount the
//! fold must always agree with.

use super::ticket::{ItemMove, ItemState, KitchenTicket};
use crate::ids::{DishId, StationId};
use serde::Serialize;
use std::collections::BTreeMap;

/// One dish at one station.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AllDayKey {
    pub station_id: Option<StationId>,
    pub dish_id: DishId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllDayCount {
    pub dish_name: String,
    /// To cook now (waiting or fired).
    pub open: i64,
    /// 叫起: waiting for the table.
    pub held: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllDayCounts {
    counts: BTreeMap<AllDayKey, AllDayCount>,
}

impl AllDayCounts {
    /// Counts from scratch over `tickets`.
    pub fn recount<'a>(tickets: impl IntoIterator<Item = &'a KitchenTicket>) -> AllDayCounts {
        let mut counts = AllDayCounts::default();
        for ticket in tickets {
            counts.apply(&ticket.created_moves());
        }
        counts
    }

    /// Follows one change's moves.
    pub fn apply(&mut self, moves: &[ItemMove]) {
        for item in moves {
            let key = AllDayKey {
                station_id: item.station_id,
                dish_id: item.dish_id,
            };
            if let Some(from) = item.from {
                self.add(key, &item.dish_name, from, -item.quantity);
            }
            self.add(key, &item.dish_name, item.to, item.quantity);
        }
    }

    fn add(&mut self, key: AllDayKey, dish_name: &str, state: ItemState, quantity: i64) {
        let (open, held) = match state {
            ItemState::Waiting | ItemState::Fired => (quantity, 0),
            ItemState::Held => (0, quantity),
            ItemState::Done | ItemState::Voided => return,
        };
        let count = self.counts.entry(key).or_insert_with(|| AllDayCount {
            dish_name: dish_name.to_owned(),
            open: 0,
            held: 0,
        });
        count.open += open;
        count.held += held;
        if count.open == 0 && count.held == 0 {
            self.counts.remove(&key);
        }
    }

    pub fn get(&self, key: &AllDayKey) -> Option<&AllDayCount> {
        self.counts.get(key)
    }

    /// Dishes with anything open, by station and dish.
    pub fn iter(&self) -> impl Iterator<Item = (&AllDayKey, &AllDayCount)> {
        self.counts.iter()
    }

    /// Only one station's dishes (a station's own screen).
    pub fn of_station(&self, station: Option<StationId>) -> AllDayCounts {
        AllDayCounts {
            counts: self
                .counts
                .iter()
                .filter(|(key, _)| key.station_id == station)
                .map(|(key, count)| (*key, count.clone()))
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}
