//! A kitchen ticket (厨打单): the items of one order for one station, and every decision about
//! changing it (划菜 per item or per ticket, 叫起 / 起菜, recall, voiding on a cancel). Each
//! decision returns the ticket after it together with the item moves the all-day counts follow.

use crate::ids::*;
use crate::ordering::Channel;
use crate::schedule::BusinessDate;
use serde::Serialize;

/// Where one item stands in the kitchen.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// To cook now.
    Waiting,
    /// 叫起: the diner wants it later; not to be cooked until fired.
    Held,
    /// 起菜: was held, now to cook.
    Fired,
    /// 划菜: cooked and out.
    Done,
    /// The order was cancelled before it was cooked: kept, struck through, never deleted.
    Voided,
}

impl ItemState {
    pub const ALL: [ItemState; 5] = [
        ItemState::Waiting,
        ItemState::Held,
        ItemState::Fired,
        ItemState::Done,
        ItemState::Voided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Waiting => "waiting",
            ItemState::Held => "held",
            ItemState::Fired => "fired",
            ItemState::Done => "done",
            ItemState::Voided => "voided",
        }
    }

    pub fn parse(text: &str) -> Option<ItemState> {
        ItemState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Still the kitchen's to cook (now or when fired).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ItemState::Waiting | ItemState::Held | ItemState::Fired
        )
    }

    /// To cook now: what the prep-time clock and the all-day "open" count follow.
    pub fn is_cooking(self) -> bool {
        matches!(self, ItemState::Waiting | ItemState::Fired)
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketState {
    Open,
    /// 出餐: the whole ticket is done.
    Bumped,
    /// Bumped, then called back onto the screens; cooks treat it as open.
    Recalled,
}

impl TicketState {
    pub const ALL: [TicketState; 3] = [
        TicketState::Open,
        TicketState::Bumped,
        TicketState::Recalled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketState::Open => "open",
            TicketState::Bumped => "bumped",
            TicketState::Recalled => "recalled",
        }
    }

    pub fn parse(text: &str) -> Option<TicketState> {
        TicketState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Who did something and when (`staff:<id>`, `system:<what>`, as order history records it).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mark {
    pub by: String,
    pub at_ms: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketItem {
    /// The item's place among its order's priced lines: its stable name within the ticket.
    pub line: i64,
    pub dish_id: DishId,
    pub sku_id: SkuId,
    pub dish_name: String,
    /// Spec, tastes and add-ons, and a set meal's chosen dishes, shown beneath the name.
    pub specs: Vec<String>,
    pub note: Option<String>,
    pub quantity: i64,
    pub state: ItemState,
    /// The latest change of state; `None` while the item is as it was created.
    pub changed: Option<Mark>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KitchenTicket {
    pub id: KitchenTicketId,
    pub order_id: OrderId,
    pub brand_id: BrandId,
    pub store_id: StoreId,
    /// `None` only for a brand without any station: one ticket for the whole kitchen.
    pub station_id: Option<StationId>,
    /// What the kitchen calls the order: the table code ("A3") or the pickup number ("12").
    pub label: String,
    pub channel: Channel,
    /// 1 for a table sitting's first order, 2.. for each 加菜.
    pub round: i64,
    pub business_date: BusinessDate,
    pub items: Vec<TicketItem>,
    pub state: TicketState,
    /// 1 when created; up by one with every change. Callers send the version they saw.
    pub version: i64,
    pub created_at_ms: i64,
    /// The latest bump of the whole ticket, while it stays bumped.
    pub bumped: Option<Mark>,
    /// How often it was recalled, for the record and for screens that mark recalled tickets.
    pub recalls: i64,
}

/// Something a cook (or expo) does to a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketCommand {
    /// 划菜 one item.
    BumpItem { line: i64 },
    /// 出餐 the whole ticket: every item still to cook is done.
    BumpTicket,
    /// Call a bumped ticket of today back onto the screens.
    Recall,
    /// 叫起: keep these dine-in items until the table asks.
    Hold { lines: Vec<i64> },
    /// 起菜: cook these held items now.
    Fire { lines: Vec<i64> },
}

impl TicketCommand {
    /// Every command's name, as the API takes it.
    pub const NAMES: [&'static str; 5] = ["bump_item", "bump_ticket", "recall", "hold", "fire"];

    pub fn as_str(&self) -> &'static str {
        match self {
            TicketCommand::BumpItem { .. } => "bump_item",
            TicketCommand::BumpTicket => "bump_ticket",
            TicketCommand::Recall => "recall",
            TicketCommand::Hold { .. } => "hold",
            TicketCommand::Fire { .. } => "fire",
        }
    }
}

/// Why a ticket was not changed. Each has a stable code and a message in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketRefusal {
    #[error("the ticket changed since version {seen} (now {current})")]
    Stale { seen: i64, current: i64 },
    /// A second bump of the same ticket: it is done already.
    #[error("the ticket is already bumped")]
    AlreadyBumped,
    #[error("only a bumped ticket can be recalled")]
    NotBumped,
    /// Recall reaches back to the store's business day only.
    #[error("the ticket is not of today's business day")]
    NotToday,
    #[error("the ticket has no item {line}")]
    NoSuchItem { line: i64 },
    #[error("item {line} is already done")]
    ItemDone { line: i64 },
    #[error("item {line} was cancelled")]
    ItemVoided { line: i64 },
    /// A held item is fired before it is cooked or bumped.
    #[error("item {line} is held")]
    ItemHeld { line: i64 },
    #[error("item {line} is not held")]
    NotHeld { line: i64 },
    #[error("item {line} is no longer waiting and cannot be held")]
    CannotHold { line: i64 },
    /// 叫起 is for diners at a table; a pickup or delivery order is cooked as it comes.
    #[error("only dine-in items can be held")]
    HoldOnlyDineIn,
    /// A ticket with held items is bumped only after they are fired.
    #[error("the ticket still has held items")]
    ItemsHeld,
    #[error("no items named")]
    NoItems,
}

impl TicketRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            TicketRefusal::Stale { .. } => "TICKET_CHANGED",
            TicketRefusal::AlreadyBumped => "TICKET_ALREADY_BUMPED",
            TicketRefusal::NotBumped => "TICKET_NOT_BUMPED",
            TicketRefusal::NotToday => "TICKET_NOT_TODAY",
            TicketRefusal::NoSuchItem { .. } => "TICKET_ITEM_NOT_FOUND",
            TicketRefusal::ItemDone { .. } => "TICKET_ITEM_DONE",
            TicketRefusal::ItemVoided { .. } => "TICKET_ITEM_VOIDED",
            TicketRefusal::ItemHeld { .. } => "TICKET_ITEM_HELD",
            TicketRefusal::NotHeld { .. } => "TICKET_ITEM_NOT_HELD",
            TicketRefusal::CannotHold { .. } => "TICKET_ITEM_CANNOT_HOLD",
            TicketRefusal::HoldOnlyDineIn => "TICKET_HOLD_DINE_IN_ONLY",
            TicketRefusal::ItemsHeld => "TICKET_HAS_HELD_ITEMS",
            TicketRefusal::NoItems => "TICKET_NO_ITEMS",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            TicketRefusal::Stale { .. } => "这张单刚被别人改过，请看最新状态".into(),
            TicketRefusal::AlreadyBumped => "这张单已出餐".into(),
            TicketRefusal::NotBumped => "只有已出餐的单可以召回".into(),
            TicketRefusal::NotToday => "只能召回本营业日的单".into(),
            TicketRefusal::NoSuchItem { line } => format!("单上没有第 {} 项", line + 1),
            TicketRefusal::ItemDone { line } => format!("第 {} 项已划菜", line + 1),
            TicketRefusal::ItemVoided { line } => format!("第 {} 项已取消", line + 1),
            TicketRefusal::ItemHeld { line } => format!("第 {} 项已叫起，请先起菜", line + 1),
            TicketRefusal::NotHeld { line } => format!("第 {} 项没有叫起", line + 1),
            TicketRefusal::CannotHold { line } => format!("第 {} 项已在制作，不能叫起", line + 1),
            TicketRefusal::HoldOnlyDineIn => "只有堂食的菜可以叫起".into(),
            TicketRefusal::ItemsHeld => "单上还有叫起的菜，请先起菜".into(),
            TicketRefusal::NoItems => "请选择菜品".into(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            TicketRefusal::Stale { .. } => {
                "Someone else just changed this ticket; here it is now".into()
            }
            TicketRefusal::AlreadyBumped => "This ticket is already bumped".into(),
            TicketRefusal::NotBumped => "Only a bumped ticket can be recalled".into(),
            TicketRefusal::NotToday => {
                "Only tickets of today's business day can be recalled".into()
            }
            TicketRefusal::NoSuchItem { line } => format!("The ticket has no item {}", line + 1),
            TicketRefusal::ItemDone { line } => format!("Item {} is already done", line + 1),
            TicketRefusal::ItemVoided { line } => format!("Item {} was cancelled", line + 1),
            TicketRefusal::ItemHeld { line } => format!("Item {} is held; fire it first", line + 1),
            TicketRefusal::NotHeld { line } => format!("Item {} is not held", line + 1),
            TicketRefusal::CannotHold { line } => {
                format!(
                    "Item {} is already being cooked and cannot be held",
                    line + 1
                )
            }
            TicketRefusal::HoldOnlyDineIn => "Only dine-in items can be held".into(),
            TicketRefusal::ItemsHeld => "The ticket has held items; fire them first".into(),
            TicketRefusal::NoItems => "Name at least one item".into(),
        }
    }
}

/// One item changing state, with what the all-day counts need to follow it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemMove {
    /// The item's line on its ticket.
    pub line: i64,
    pub station_id: Option<StationId>,
    pub dish_id: DishId,
    pub dish_name: String,
    pub quantity: i64,
    /// `None` when the item is new (its ticket was just created).
    pub from: Option<ItemState>,
    pub to: ItemState,
}

/// The kinds of event the kitchen stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TicketEventKind {
    Created,
    ItemBumped,
    Bumped,
    Recalled,
    Held,
    Fired,
    /// The order was cancelled: its open items are struck through.
    Voided,
    /// 换台: the order is now served at another table, so the ticket's label changed.
    Relabelled,
}

impl TicketEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketEventKind::Created => "ticket.created",
            TicketEventKind::ItemBumped => "ticket.item_bumped",
            TicketEventKind::Bumped => "ticket.bumped",
            TicketEventKind::Recalled => "ticket.recalled",
            TicketEventKind::Held => "ticket.held",
            TicketEventKind::Fired => "ticket.fired",
            TicketEventKind::Voided => "ticket.voided",
            TicketEventKind::Relabelled => "ticket.relabelled",
        }
    }
}

/// A decided change: the ticket after it, and each item that moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketChange {
    pub ticket: KitchenTicket,
    pub moves: Vec<ItemMove>,
    pub event: TicketEventKind,
}

impl KitchenTicket {
    /// The moves that bring a new ticket's items into the counts.
    pub fn created_moves(&self) -> Vec<ItemMove> {
        self.items
            .iter()
            .map(|item| self.item_move(item, None))
            .collect()
    }

    fn item_move(&self, item: &TicketItem, from: Option<ItemState>) -> ItemMove {
        ItemMove {
            line: item.line,
            station_id: self.station_id,
            dish_id: item.dish_id,
            dish_name: item.dish_name.clone(),
            quantity: item.quantity,
            from,
            to: item.state,
        }
    }

    /// Whether the kitchen still has something on this ticket to cook or fire.
    pub fn has_open_items(&self) -> bool {
        self.items.iter().any(|i| i.state.is_open())
    }

    /// A cook's command on the version `seen`, by `by` (`staff:<id>`), on business day `today`.
    pub fn decide(
        &self,
        command: &TicketCommand,
        by: &str,
        seen: i64,
        today: BusinessDate,
        now_ms: i64,
    ) -> Result<TicketChange, TicketRefusal> {
        // A second bump is answered as what it is, whoever saw which version: the ticket is done.
        if self.state == TicketState::Bumped && *command != TicketCommand::Recall {
            return Err(TicketRefusal::AlreadyBumped);
        }
        if seen != self.version {
            return Err(TicketRefusal::Stale {
                seen,
                current: self.version,
            });
        }
        let mark = Mark {
            by: by.to_owned(),
            at_ms: now_ms,
        };
        let mut next = self.clone();
        let mut moved = Vec::new();
        let event = match command {
            TicketCommand::BumpItem { line } => {
                let item = self.item(*line)?;
                match item.state {
                    ItemState::Waiting | ItemState::Fired => {}
                    ItemState::Held => return Err(TicketRefusal::ItemHeld { line: *line }),
                    ItemState::Done => return Err(TicketRefusal::ItemDone { line: *line }),
                    ItemState::Voided => return Err(TicketRefusal::ItemVoided { line: *line }),
                }
                moved.push((*line, ItemState::Done));
                TicketEventKind::ItemBumped
            }
            TicketCommand::BumpTicket => {
                if self.items.iter().any(|i| i.state == ItemState::Held) {
                    return Err(TicketRefusal::ItemsHeld);
                }
                for item in self.items.iter().filter(|i| i.state.is_cooking()) {
                    moved.push((item.line, ItemState::Done));
                }
                TicketEventKind::Bumped
            }
            TicketCommand::Recall => {
                if self.state != TicketState::Bumped {
                    return Err(TicketRefusal::NotBumped);
                }
                if self.business_date != today {
                    return Err(TicketRefusal::NotToday);
                }
                for item in self.items.iter().filter(|i| i.state == ItemState::Done) {
                    moved.push((item.line, ItemState::Waiting));
                }
                next.state = TicketState::Recalled;
                next.bumped = None;
                next.recalls += 1;
                TicketEventKind::Recalled
            }
            TicketCommand::Hold { lines } => {
                if self.channel != Channel::DineIn {
                    return Err(TicketRefusal::HoldOnlyDineIn);
                }
                for line in self.named(lines)? {
                    let item = self.item(line)?;
                    if item.state != ItemState::Waiting {
                        return Err(TicketRefusal::CannotHold { line });
                    }
                    moved.push((line, ItemState::Held));
                }
                TicketEventKind::Held
            }
            TicketCommand::Fire { lines } => {
                for line in self.named(lines)? {
                    if self.item(line)?.state != ItemState::Held {
                        return Err(TicketRefusal::NotHeld { line });
                    }
                    moved.push((line, ItemState::Fired));
                }
                TicketEventKind::Fired
            }
        };
        let moves = next.move_items(&moved, &mark);
        if matches!(
            command,
            TicketCommand::BumpItem { .. } | TicketCommand::BumpTicket
        ) && !next.has_open_items()
        {
            // The last item out bumps the ticket: expo and the screens need no second tap.
            next.state = TicketState::Bumped;
            next.bumped = Some(mark);
        }
        next.version += 1;
        let event = match (event, next.state) {
            (TicketEventKind::ItemBumped, TicketState::Bumped) => TicketEventKind::Bumped,
            (event, _) => event,
        };
        Ok(TicketChange {
            ticket: next,
            moves,
            event,
        })
    }

    /// The order was cancelled: every item not yet cooked is voided (kept and struck through).
    /// `None` when nothing on the ticket was still open.
    pub fn void_open_items(&self, by: &str, now_ms: i64) -> Option<TicketChange> {
        let moved: Vec<(i64, ItemState)> = self
            .items
            .iter()
            .filter(|i| i.state.is_open())
            .map(|i| (i.line, ItemState::Voided))
            .collect();
        if moved.is_empty() {
            return None;
        }
        let mark = Mark {
            by: by.to_owned(),
            at_ms: now_ms,
        };
        let mut next = self.clone();
        let moves = next.move_items(&moved, &mark);
        next.version += 1;
        Some(TicketChange {
            ticket: next,
            moves,
            event: TicketEventKind::Voided,
        })
    }

    /// 换台: the order moved to the table called `label`. Every item keeps its state (nothing
    /// is cooked again); only what the kitchen calls the order changes. `None` when the ticket
    /// already carries that label.
    pub fn relabel(&self, label: &str) -> Option<TicketChange> {
        if self.label == label {
            return None;
        }
        let mut next = self.clone();
        next.label = label.to_owned();
        next.version += 1;
        Some(TicketChange {
            ticket: next,
            moves: Vec::new(),
            event: TicketEventKind::Relabelled,
        })
    }

    fn item(&self, line: i64) -> Result<&TicketItem, TicketRefusal> {
        self.items
            .iter()
            .find(|i| i.line == line)
            .ok_or(TicketRefusal::NoSuchItem { line })
    }

    /// The lines a hold or fire names, each once.
    fn named(&self, lines: &[i64]) -> Result<Vec<i64>, TicketRefusal> {
        let mut named: Vec<i64> = lines.to_vec();
        named.sort_unstable();
        named.dedup();
        if named.is_empty() {
            return Err(TicketRefusal::NoItems);
        }
        Ok(named)
    }

    fn move_items(&mut self, moved: &[(i64, ItemState)], mark: &Mark) -> Vec<ItemMove> {
        let mut moves = Vec::with_capacity(moved.len());
        for (line, to) in moved {
            let Some(index) = self.items.iter().position(|i| i.line == *line) else {
                continue;
            };
            let from = self.items[index].state;
            self.items[index].state = *to;
            self.items[index].changed = Some(mark.clone());
            moves.push(self.item_move(&self.items[index], Some(from)));
        }
        moves
    }
}
