//! Prep-time status: how long a ticket has been cooking against its station's target, shown as
//! on time, amber and red. Measured from when its oldest item still to cook was sent to cook
//! (the ticket's creation, or the 起菜 of a held item), so a held dish does not turn a ticket red.

use super::ticket::{ItemState, KitchenTicket};
use serde::Serialize;

/// Longest target a station may set: a dish that takes longer is not a ticket anymore.
pub const MAX_PREP_SECS: u32 = 4 * 60 * 60;

/// A station's prep-time target and the elapsed times at which its tickets turn amber and red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PrepTarget {
    target_secs: u32,
    amber_after_secs: u32,
    red_after_secs: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("prep times must be 1 s to 4 h with amber no later than red")]
pub struct InvalidPrepTarget;

impl InvalidPrepTarget {
    pub const CODE: &'static str = "PREP_TARGET_INVALID";
    pub const MESSAGE_ZH: &'static str = "出餐时限需在 1 秒到 4 小时之间，且黄色提醒不晚于红色";
    pub const MESSAGE_EN: &'static str =
        "Prep times must be 1 s to 4 h, with amber no later than red";
}

impl Default for PrepTarget {
    /// Ten minutes, amber from eight: a noodle shop's usual promise.
    fn default() -> Self {
        PrepTarget {
            target_secs: 600,
            amber_after_secs: 480,
            red_after_secs: 600,
        }
    }
}

impl PrepTarget {
    pub fn parse(
        target_secs: i64,
        amber_after_secs: i64,
        red_after_secs: i64,
    ) -> Result<PrepTarget, InvalidPrepTarget> {
        let within = |secs: i64| (1..=MAX_PREP_SECS as i64).contains(&secs);
        if !within(target_secs) || !within(amber_after_secs) || !within(red_after_secs) {
            return Err(InvalidPrepTarget);
        }
        if amber_after_secs > red_after_secs {
            return Err(InvalidPrepTarget);
        }
        Ok(PrepTarget {
            target_secs: target_secs as u32,
            amber_after_secs: amber_after_secs as u32,
            red_after_secs: red_after_secs as u32,
        })
    }

    pub fn target_secs(self) -> u32 {
        self.target_secs
    }

    pub fn amber_after_secs(self) -> u32 {
        self.amber_after_secs
    }

    pub fn red_after_secs(self) -> u32 {
        self.red_after_secs
    }

    /// The status after `elapsed_ms` of cooking.
    pub fn status_after(self, elapsed_ms: i64) -> PrepStatus {
        if elapsed_ms >= self.red_after_secs as i64 * 1000 {
            PrepStatus::Red
        } else if elapsed_ms >= self.amber_after_secs as i64 * 1000 {
            PrepStatus::Amber
        } else {
            PrepStatus::OnTime
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrepStatus {
    OnTime,
    Amber,
    Red,
}

impl KitchenTicket {
    /// Since when the ticket's oldest item still to cook has been cooking; `None` when nothing
    /// on it is to cook now (all done, held or voided).
    pub fn cooking_since_ms(&self) -> Option<i64> {
        self.items
            .iter()
            .filter_map(|item| match item.state {
                ItemState::Waiting => Some(self.created_at_ms),
                ItemState::Fired => Some(
                    item.changed
                        .as_ref()
                        .map_or(self.created_at_ms, |m| m.at_ms),
                ),
                _ => None,
            })
            .min()
    }

    /// The ticket's prep-time status at `now_ms`, or `None` when nothing is cooking.
    pub fn prep_status(&self, target: PrepTarget, now_ms: i64) -> Option<PrepStatus> {
        self.cooking_since_ms()
            .map(|since| target.status_after(now_ms - since))
    }
}
