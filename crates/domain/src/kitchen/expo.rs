//! Expo (传菜 / 出品): the screen that sees every station. An order is ready to go out once
//! every station's ticket is bumped; tickets that held nothing but cancelled items do not wait
//! to be cleared, but an order whose every item was cancelled is never "ready".

use super::ticket::{ItemState, KitchenTicket, TicketState};
use serde::Serialize;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ExpoStatus {
    /// Tickets with something to send out.
    pub tickets: usize,
    pub bumped: usize,
    pub ready: bool,
}

/// Where one order's tickets stand. `tickets` are that order's tickets, all stations.
pub fn expo_status(tickets: &[KitchenTicket]) -> ExpoStatus {
    let counted: Vec<&KitchenTicket> = tickets
        .iter()
        .filter(|t| t.items.iter().any(|i| i.state != ItemState::Voided))
        .collect();
    let bumped = counted
        .iter()
        .filter(|t| t.state == TicketState::Bumped)
        .count();
    ExpoStatus {
        tickets: counted.len(),
        bumped,
        ready: !counted.is_empty() && bumped == counted.len(),
    }
}
