//! The kitchen's rules as stories, and the property that the all-day fold always equals a full
//! recount, whatever orders, bumps, cancels, 加菜 and recalls come in whatever order.

use super::*;
use crate::ids::*;
use crate::money::Money;
use crate::ordering::{
    Channel, ChosenComboItem, ChosenOption, Order, OrderStatus, OrderTable, Quote, QuotedLine,
};
use crate::schedule::BusinessDate;
use proptest::prelude::*;

const NOW: i64 = 1_795_000_000_000;

fn today() -> BusinessDate {
    BusinessDate::from_date(jiff::civil::date(2026, 11, 26))
}

fn yesterday() -> BusinessDate {
    BusinessDate::from_date(jiff::civil::date(2026, 11, 25))
}

/// A fixed menu of six dishes, so lines of different orders count together.
fn dish(index: usize) -> (DishId, &'static str) {
    const NAMES: [&str; 6] = [
        "红烧牛肉面",
        "葱油拌面",
        "凉拌黄瓜",
        "酸梅汤",
        "小笼包",
        "排骨年糕",
    ];
    (
        DishId::from_uuid(uuid::Uuid::from_u128(1000 + index as u128)),
        NAMES[index],
    )
}

fn station(index: usize) -> StationId {
    StationId::from_uuid(uuid::Uuid::from_u128(2000 + index as u128))
}

fn line(dish_index: usize, station_id: Option<StationId>, quantity: i64) -> QuotedLine {
    let (dish_id, name) = dish(dish_index);
    QuotedLine {
        dish_id,
        sku_id: SkuId::from_uuid(dish_id.as_uuid()),
        dish_name: name.into(),
        dish_name_en: None,
        sku_name: None,
        sku_name_en: None,
        station_id,
        quantity,
        options: Vec::new(),
        combo_items: Vec::new(),
        note: None,
        unit_price_fen: Money::from_fen(1000),
        line_total_fen: Money::from_fen(1000 * quantity),
        discount_fen: Money::ZERO,
    }
}

fn order(channel: Channel, table: Option<&str>, round: i64, lines: Vec<QuotedLine>) -> Order {
    Order {
        id: OrderId::new(),
        brand_id: BrandId::from_uuid(uuid::Uuid::from_u128(1)),
        store_id: StoreId::from_uuid(uuid::Uuid::from_u128(2)),
        channel,
        status: OrderStatus::Accepted,
        version: 2,
        table: table.map(|code| OrderTable {
            table_id: TableId::new(),
            session_id: TableSessionId::new(),
            code: code.into(),
            area_name: "大厅".into(),
        }),
        pickup_number: 12,
        business_date: today(),
        round,
        diners: None,
        total: Money::ZERO,
        quote: Quote {
            version: "v".into(),
            channel,
            item_count: lines.iter().map(|l| l.quantity).sum(),
            lines,
            subtotal_fen: Money::ZERO,
            packing_fee_fen: Money::ZERO,
            seat_fee_fen: Money::ZERO,
            delivery_fee_fen: Money::ZERO,
            delivery_zone: None,
            discounts: Vec::new(),
            discount_total_fen: Money::ZERO,
            total_fen: Money::ZERO,
            gifts: Vec::new(),
            saving_fen: Money::ZERO,
            chosen: Vec::new(),
            best_proven: false,
            hint: None,
            not_applicable: Vec::new(),
        },
        contact_sealed: None,
        note: None,
        ready_by_ms: None,
        pay_by_ms: None,
        paid_at_ms: None,
        cancel_requested: false,
        last_hurry_ms: None,
        customer_id: None,
        slot_start_ms: None,
        placed_at_ms: NOW,
        updated_at_ms: NOW,
    }
}

fn tickets_of(order: &Order) -> Vec<KitchenTicket> {
    route_order(order, Some(station(0)), KitchenTicketId::new, NOW)
}

fn dine_in_ticket() -> KitchenTicket {
    let order = order(
        Channel::DineIn,
        Some("A3"),
        1,
        vec![line(0, Some(station(0)), 2), line(1, Some(station(0)), 1)],
    );
    tickets_of(&order).remove(0)
}

fn cook(ticket: &KitchenTicket, command: TicketCommand) -> Result<TicketChange, TicketRefusal> {
    ticket.decide(
        &command,
        "staff:cook",
        ticket.version,
        today(),
        NOW + 60_000,
    )
}

#[test]
fn an_order_is_split_by_station_and_unstationed_lines_go_to_the_default() {
    let mut pork = line(5, None, 1);
    pork.sku_name = Some("大份".into());
    pork.options.push(ChosenOption {
        id: OptionId::new(),
        group_name: "辣度".into(),
        name: "微辣".into(),
        name_en: None,
        price_delta_fen: Money::ZERO,
    });
    pork.note = Some("不要葱".into());
    let mut set = line(4, Some(station(2)), 1);
    set.combo_items.push(ChosenComboItem {
        id: ComboChoiceId::new(),
        slot_name: "饮品".into(),
        sku_id: SkuId::new(),
        dish_name: "酸梅汤".into(),
        dish_name_en: None,
        sku_name: Some("冰".into()),
        quantity: 2,
        price_delta_fen: Money::ZERO,
    });
    let lines = vec![
        line(0, Some(station(1)), 2),
        pork,
        line(2, Some(station(1)), 1),
        set,
    ];
    let placed = order(Channel::Pickup, None, 1, lines);
    let tickets = tickets_of(&placed);
    let stations: Vec<Option<StationId>> = tickets.iter().map(|t| t.station_id).collect();
    assert_eq!(
        stations,
        vec![Some(station(1)), Some(station(0)), Some(station(2))]
    );
    let lines_of = |t: &KitchenTicket| t.items.iter().map(|i| i.line).collect::<Vec<_>>();
    assert_eq!(lines_of(&tickets[0]), vec![0, 2]);
    assert_eq!(lines_of(&tickets[1]), vec![1]);
    assert_eq!(tickets[1].items[0].specs, vec!["大份", "微辣"]);
    assert_eq!(tickets[1].items[0].note.as_deref(), Some("不要葱"));
    assert_eq!(tickets[2].items[0].specs, vec!["酸梅汤(冰) ×2"]);
    assert!(tickets.iter().all(|t| t.label == "12" && t.version == 1));

    let no_stations = route_order(&placed, default_station(&[]), KitchenTicketId::new, NOW);
    assert_eq!(no_stations.len(), 3, "stationed lines keep their station");
    assert_eq!(no_stations[1].station_id, None);
    assert_eq!(default_station(&[station(3), station(1)]), Some(station(3)));
}

#[test]
fn a_table_order_is_labelled_by_its_table_and_round() {
    let added = order(Channel::DineIn, Some("B7"), 2, vec![line(0, None, 1)]);
    let ticket = tickets_of(&added).remove(0);
    assert_eq!((ticket.label.as_str(), ticket.round), ("B7", 2));
}

#[test]
fn bumping_the_last_item_bumps_the_ticket_and_a_second_bump_is_refused() {
    let ticket = dine_in_ticket();
    let first = cook(&ticket, TicketCommand::BumpItem { line: 0 }).unwrap();
    assert_eq!(first.event, TicketEventKind::ItemBumped);
    assert_eq!(first.ticket.state, TicketState::Open);
    assert_eq!(first.ticket.items[0].state, ItemState::Done);
    assert_eq!(
        first.ticket.items[0].changed.as_ref().unwrap().by,
        "staff:cook"
    );
    assert_eq!(
        cook(&first.ticket, TicketCommand::BumpItem { line: 0 }),
        Err(TicketRefusal::ItemDone { line: 0 })
    );
    let last = cook(&first.ticket, TicketCommand::BumpItem { line: 1 }).unwrap();
    assert_eq!(last.event, TicketEventKind::Bumped);
    assert_eq!(last.ticket.state, TicketState::Bumped);
    assert_eq!(last.ticket.version, 3);
    assert_eq!(
        cook(&last.ticket, TicketCommand::BumpTicket),
        Err(TicketRefusal::AlreadyBumped)
    );
    // Whoever raced with the first bump saw version 1: still told it is bumped, not "stale".
    assert_eq!(
        last.ticket
            .decide(&TicketCommand::BumpTicket, "staff:other", 1, today(), NOW),
        Err(TicketRefusal::AlreadyBumped)
    );
}

#[test]
fn a_stale_version_changes_nothing() {
    let ticket = dine_in_ticket();
    let moved = cook(&ticket, TicketCommand::BumpItem { line: 0 }).unwrap();
    assert_eq!(
        moved.ticket.decide(
            &TicketCommand::BumpItem { line: 1 },
            "staff:late",
            1,
            today(),
            NOW
        ),
        Err(TicketRefusal::Stale {
            seen: 1,
            current: 2
        })
    );
}

#[test]
fn held_items_wait_for_fire_and_block_a_ticket_bump() {
    let ticket = dine_in_ticket();
    let held = cook(&ticket, TicketCommand::Hold { lines: vec![1] }).unwrap();
    assert_eq!(held.ticket.items[1].state, ItemState::Held);
    assert_eq!(
        cook(&held.ticket, TicketCommand::BumpItem { line: 1 }),
        Err(TicketRefusal::ItemHeld { line: 1 })
    );
    assert_eq!(
        cook(&held.ticket, TicketCommand::BumpTicket),
        Err(TicketRefusal::ItemsHeld)
    );
    assert_eq!(
        cook(&held.ticket, TicketCommand::Fire { lines: vec![0] }),
        Err(TicketRefusal::NotHeld { line: 0 })
    );
    let at_fire = NOW + 5 * 60_000;
    let fired = held
        .ticket
        .decide(
            &TicketCommand::Fire { lines: vec![1] },
            "staff:waiter",
            held.ticket.version,
            today(),
            at_fire,
        )
        .unwrap();
    assert_eq!(fired.ticket.items[1].state, ItemState::Fired);
    let bumped = cook(&fired.ticket, TicketCommand::BumpTicket).unwrap();
    assert!(
        bumped
            .ticket
            .items
            .iter()
            .all(|i| i.state == ItemState::Done)
    );
    assert_eq!(bumped.moves.len(), 2);

    let pickup = tickets_of(&order(Channel::Pickup, None, 1, vec![line(0, None, 1)])).remove(0);
    assert_eq!(
        cook(&pickup, TicketCommand::Hold { lines: vec![0] }),
        Err(TicketRefusal::HoldOnlyDineIn)
    );
    assert_eq!(
        cook(&ticket, TicketCommand::Hold { lines: vec![] }),
        Err(TicketRefusal::NoItems)
    );
    assert_eq!(
        cook(&ticket, TicketCommand::Hold { lines: vec![9] }),
        Err(TicketRefusal::NoSuchItem { line: 9 })
    );
}

#[test]
fn only_bumped_tickets_of_today_are_recalled_and_their_items_reopen() {
    let ticket = dine_in_ticket();
    assert_eq!(
        cook(&ticket, TicketCommand::Recall),
        Err(TicketRefusal::NotBumped)
    );
    let bumped = cook(&ticket, TicketCommand::BumpTicket).unwrap().ticket;
    let recalled = cook(&bumped, TicketCommand::Recall).unwrap();
    assert_eq!(recalled.ticket.state, TicketState::Recalled);
    assert_eq!(recalled.ticket.recalls, 1);
    assert_eq!(recalled.ticket.bumped, None);
    assert!(
        recalled
            .ticket
            .items
            .iter()
            .all(|i| i.state == ItemState::Waiting)
    );
    let mut old = bumped.clone();
    old.business_date = yesterday();
    assert_eq!(
        cook(&old, TicketCommand::Recall),
        Err(TicketRefusal::NotToday)
    );
    let again = cook(&recalled.ticket, TicketCommand::BumpTicket).unwrap();
    assert_eq!(again.ticket.state, TicketState::Bumped);
}

#[test]
fn a_cancel_voids_open_items_and_keeps_what_was_cooked() {
    let ticket = dine_in_ticket();
    let half = cook(&ticket, TicketCommand::BumpItem { line: 0 })
        .unwrap()
        .ticket;
    let voided = half.void_open_items("staff:manager", NOW).unwrap();
    assert_eq!(voided.event, TicketEventKind::Voided);
    let states: Vec<ItemState> = voided.ticket.items.iter().map(|i| i.state).collect();
    assert_eq!(states, vec![ItemState::Done, ItemState::Voided]);
    assert_eq!(voided.ticket.items.len(), 2, "kept, never deleted");
    assert_eq!(voided.ticket.void_open_items("staff:manager", NOW), None);
    assert_eq!(
        cook(&voided.ticket, TicketCommand::BumpItem { line: 1 }),
        Err(TicketRefusal::ItemVoided { line: 1 })
    );
    let cleared = cook(&voided.ticket, TicketCommand::BumpTicket).unwrap();
    assert_eq!(cleared.ticket.state, TicketState::Bumped);
}

#[test]
fn a_table_transfer_relabels_the_ticket_and_keeps_what_was_cooked() {
    let ticket = dine_in_ticket();
    let half = cook(&ticket, TicketCommand::BumpItem { line: 0 })
        .unwrap()
        .ticket;
    let moved = half.relabel("B5").unwrap();
    assert_eq!(moved.event, TicketEventKind::Relabelled);
    assert_eq!(moved.ticket.label, "B5");
    assert_eq!(moved.ticket.version, half.version + 1);
    assert_eq!(moved.ticket.items, half.items, "nothing is cooked again");
    assert!(moved.moves.is_empty(), "the all-day counts do not change");
    assert_eq!(moved.ticket.relabel("B5"), None);
}

#[test]
fn prep_status_turns_amber_then_red_and_held_items_do_not_count() {
    let target = PrepTarget::parse(600, 480, 720).unwrap();
    let ticket = dine_in_ticket();
    assert_eq!(
        ticket.prep_status(target, NOW + 479_999),
        Some(PrepStatus::OnTime)
    );
    assert_eq!(
        ticket.prep_status(target, NOW + 480_000),
        Some(PrepStatus::Amber)
    );
    assert_eq!(
        ticket.prep_status(target, NOW + 720_000),
        Some(PrepStatus::Red)
    );
    let held = cook(&ticket, TicketCommand::Hold { lines: vec![0, 1] })
        .unwrap()
        .ticket;
    assert_eq!(held.prep_status(target, NOW + 3_600_000), None);
    let fired_at = NOW + 3_000_000;
    let fired = held
        .decide(
            &TicketCommand::Fire { lines: vec![0] },
            "staff:waiter",
            held.version,
            today(),
            fired_at,
        )
        .unwrap()
        .ticket;
    assert_eq!(fired.cooking_since_ms(), Some(fired_at));
    assert_eq!(
        fired.prep_status(target, fired_at + 1000),
        Some(PrepStatus::OnTime)
    );
    assert_eq!(PrepTarget::parse(600, 700, 650), Err(InvalidPrepTarget));
    assert_eq!(PrepTarget::parse(0, 1, 1), Err(InvalidPrepTarget));
    assert_eq!(
        PrepTarget::parse(600, 480, 5 * 3600),
        Err(InvalidPrepTarget)
    );
}

#[test]
fn expo_is_ready_when_every_station_is_bumped() {
    let placed = order(
        Channel::Pickup,
        None,
        1,
        vec![line(0, Some(station(0)), 1), line(3, Some(station(1)), 1)],
    );
    let mut tickets = tickets_of(&placed);
    assert_eq!(
        expo_status(&tickets),
        ExpoStatus {
            tickets: 2,
            bumped: 0,
            ready: false
        }
    );
    tickets[0] = cook(&tickets[0], TicketCommand::BumpTicket).unwrap().ticket;
    assert!(!expo_status(&tickets).ready);
    tickets[1] = cook(&tickets[1], TicketCommand::BumpTicket).unwrap().ticket;
    assert!(expo_status(&tickets).ready);

    let cancelled: Vec<KitchenTicket> = tickets_of(&placed)
        .iter()
        .map(|t| t.void_open_items("diner", NOW).unwrap().ticket)
        .collect();
    assert!(!expo_status(&cancelled).ready, "nothing to send out");
}

#[test]
fn refusals_have_distinct_codes_and_both_languages() {
    let all = [
        TicketRefusal::Stale {
            seen: 1,
            current: 2,
        },
        TicketRefusal::AlreadyBumped,
        TicketRefusal::NotBumped,
        TicketRefusal::NotToday,
        TicketRefusal::NoSuchItem { line: 0 },
        TicketRefusal::ItemDone { line: 0 },
        TicketRefusal::ItemVoided { line: 0 },
        TicketRefusal::ItemHeld { line: 0 },
        TicketRefusal::NotHeld { line: 0 },
        TicketRefusal::CannotHold { line: 0 },
        TicketRefusal::HoldOnlyDineIn,
        TicketRefusal::ItemsHeld,
        TicketRefusal::NoItems,
    ];
    let codes: std::collections::HashSet<&str> = all.iter().map(|r| r.code()).collect();
    assert_eq!(codes.len(), all.len());
    assert!(
        all.iter()
            .all(|r| !r.message_zh().is_empty() && r.message_en().is_ascii())
    );
}

/// One thing that happens in the kitchen's day, with indices picked modulo what exists.
#[derive(Debug, Clone)]
enum Op {
    /// An order: at a table (加菜 when the table already ordered) or for pickup.
    Place {
        table: Option<u8>,
        lines: Vec<(usize, Option<usize>, i64)>,
    },
    BumpItem(usize, i64),
    BumpTicket(usize),
    Recall(usize, bool),
    Hold(usize, i64),
    Fire(usize, i64),
    Cancel(usize),
    /// A cook acting on a version someone else already changed.
    StaleBump(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let lines = prop::collection::vec((0..6usize, prop::option::of(0..3usize), 1..5i64), 1..5);
    prop_oneof![
        3 => (prop::option::of(0..4u8), lines).prop_map(|(table, lines)| Op::Place { table, lines }),
        4 => (any::<usize>(), 0..5i64).prop_map(|(t, l)| Op::BumpItem(t, l)),
        2 => any::<usize>().prop_map(Op::BumpTicket),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(t, today)| Op::Recall(t, today)),
        1 => (any::<usize>(), 0..5i64).prop_map(|(t, l)| Op::Hold(t, l)),
        1 => (any::<usize>(), 0..5i64).prop_map(|(t, l)| Op::Fire(t, l)),
        1 => any::<usize>().prop_map(Op::Cancel),
        1 => any::<usize>().prop_map(Op::StaleBump),
    ]
}

/// A store's kitchen as the property drives it: tickets, orders, and the folded counts.
#[derive(Default)]
struct Kitchen {
    orders: Vec<OrderId>,
    tickets: Vec<KitchenTicket>,
    rounds: std::collections::HashMap<u8, i64>,
    counts: AllDayCounts,
    now: i64,
}

impl Kitchen {
    fn run(&mut self, op: &Op) {
        self.now += 1_000;
        match op {
            Op::Place { table, lines } => {
                let code = table.map(|t| format!("A{t}"));
                let round = match table {
                    Some(t) => {
                        let round = self.rounds.entry(*t).or_insert(0);
                        *round += 1;
                        *round
                    }
                    None => 1,
                };
                let channel = if table.is_some() {
                    Channel::DineIn
                } else {
                    Channel::Pickup
                };
                let lines = lines
                    .iter()
                    .map(|(d, s, q)| line(*d, s.map(station), *q))
                    .collect();
                let placed = order(channel, code.as_deref(), round, lines);
                self.orders.push(placed.id);
                for ticket in route_order(&placed, Some(station(0)), KitchenTicketId::new, self.now)
                {
                    self.counts.apply(&ticket.created_moves());
                    self.tickets.push(ticket);
                }
            }
            Op::Cancel(pick) => {
                if self.orders.is_empty() {
                    return;
                }
                let order = self.orders[pick % self.orders.len()];
                for ticket in self.tickets.iter_mut().filter(|t| t.order_id == order) {
                    if let Some(change) = ticket.void_open_items("staff:manager", self.now) {
                        self.counts.apply(&change.moves);
                        *ticket = change.ticket;
                    }
                }
            }
            Op::StaleBump(pick) => {
                let Some(ticket) = self.pick(*pick) else {
                    return;
                };
                let result = ticket.decide(
                    &TicketCommand::BumpTicket,
                    "staff:late",
                    ticket.version - 1,
                    today(),
                    self.now,
                );
                assert!(
                    result.is_err(),
                    "a stale or second bump never changes a ticket"
                );
            }
            Op::BumpItem(pick, line) => {
                self.cook(*pick, TicketCommand::BumpItem { line: *line }, true)
            }
            Op::BumpTicket(pick) => self.cook(*pick, TicketCommand::BumpTicket, true),
            Op::Recall(pick, on_the_day) => self.cook(*pick, TicketCommand::Recall, *on_the_day),
            Op::Hold(pick, line) => {
                self.cook(*pick, TicketCommand::Hold { lines: vec![*line] }, true)
            }
            Op::Fire(pick, line) => {
                self.cook(*pick, TicketCommand::Fire { lines: vec![*line] }, true)
            }
        }
    }

    fn pick(&self, pick: usize) -> Option<&KitchenTicket> {
        (!self.tickets.is_empty()).then(|| &self.tickets[pick % self.tickets.len()])
    }

    fn cook(&mut self, pick: usize, command: TicketCommand, on_the_day: bool) {
        if self.tickets.is_empty() {
            return;
        }
        let index = pick % self.tickets.len();
        let day = if on_the_day {
            today()
        } else {
            BusinessDate::from_date(jiff::civil::date(2026, 11, 27))
        };
        let ticket = &self.tickets[index];
        if let Ok(change) = ticket.decide(&command, "staff:cook", ticket.version, day, self.now) {
            assert_eq!(change.ticket.version, ticket.version + 1);
            self.counts.apply(&change.moves);
            self.tickets[index] = change.ticket;
        }
    }

    fn check(&self) {
        assert_eq!(self.counts, AllDayCounts::recount(&self.tickets));
        assert!(self.counts.iter().all(|(_, c)| c.open >= 0 && c.held >= 0));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn all_day_counts_always_equal_a_full_recount(ops in prop::collection::vec(op(), 10_000)) {
        let mut kitchen = Kitchen::default();
        for (i, op) in ops.iter().enumerate() {
            kitchen.run(op);
            if i % 250 == 0 {
                kitchen.check();
            }
        }
        kitchen.check();
        // The day really happened: something was cooked, something is still open.
        prop_assert!(kitchen.tickets.iter().any(|t| t.state == TicketState::Bumped));
        prop_assert!(kitchen.tickets.iter().any(|t| t.recalls > 0));
    }
}

#[test]
fn all_day_counts_follow_orders_bumps_and_cancels() {
    let noodles = AllDayKey {
        station_id: Some(station(0)),
        dish_id: dish(0).0,
    };
    let mut counts = AllDayCounts::default();
    let first = tickets_of(&order(
        Channel::DineIn,
        Some("A1"),
        1,
        vec![line(0, None, 3)],
    ))
    .remove(0);
    let second = tickets_of(&order(
        Channel::DineIn,
        Some("A2"),
        1,
        vec![line(0, None, 4)],
    ))
    .remove(0);
    counts.apply(&first.created_moves());
    counts.apply(&second.created_moves());
    assert_eq!(counts.get(&noodles).unwrap().open, 7, "红烧牛肉面 ×7");
    let held = cook(&second, TicketCommand::Hold { lines: vec![0] }).unwrap();
    counts.apply(&held.moves);
    assert_eq!(
        (
            counts.get(&noodles).unwrap().open,
            counts.get(&noodles).unwrap().held
        ),
        (3, 4)
    );
    let bumped = cook(&first, TicketCommand::BumpTicket).unwrap();
    counts.apply(&bumped.moves);
    let voided = held.ticket.void_open_items("diner", NOW).unwrap();
    counts.apply(&voided.moves);
    assert!(counts.is_empty());
    assert_eq!(
        counts,
        AllDayCounts::recount([&bumped.ticket, &voided.ticket])
    );
    assert!(counts.of_station(Some(station(0))).is_empty());
}
