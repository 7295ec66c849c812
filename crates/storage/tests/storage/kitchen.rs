//! Kitchen tickets: written with the accept that sends an order to the kitchen (and never for a
//! refused one), voided with a cancel, bumped once however many cooks tap at once, recalled on
//! the record, and counted all day exactly as a recount of the tickets says.

use crate::ordering::{Menu, business_date, menu_with_stock, new_order, place, quote, staff_acts};
use crate::{NOW_MS, both};
use diancan_domain::catalog::Station;
use diancan_domain::kitchen::*;
use diancan_domain::ordering::{Channel, Order, OrderAction, QuotedLine};
use diancan_domain::text::Name;
use diancan_domain::*;
use diancan_storage::Db;
use diancan_storage::events::kitchen_stream;
use diancan_storage::kitchen::TicketError;
use std::sync::Arc;
use tokio::sync::Barrier;

/// The brand's stations 热菜 (first, the default) and 饮品.
pub(crate) async fn stations(db: &Db, menu: Menu) -> (StationId, StationId) {
    let mut ids = Vec::new();
    for (name, sort_order) in [("热菜", 0), ("饮品", 1)] {
        let station = Station {
            id: StationId::new(),
            brand_id: menu.brand,
            name: Name::parse(name).unwrap(),
            name_en: None,
            sort_order,
        };
        db.create_station(&station).await.unwrap();
        ids.push(station.id);
    }
    (ids[0], ids[1])
}

/// An order of `bowls` noodles (no station: the default) and one drink at 饮品.
pub(crate) async fn order_for_two_stations(
    db: &Db,
    menu: Menu,
    drinks: StationId,
    key: &str,
    bowls: i64,
) -> Order {
    let mut order = new_order(menu, key, bowls);
    let mut drink: QuotedLine = quote(menu, Channel::Pickup, 1).lines.remove(0);
    drink.station_id = Some(drinks);
    drink.note = Some("少冰".into());
    order.quote.lines.push(drink);
    place(db, order).await
}

pub(crate) async fn accept(db: &Db, order: &Order, at: i64) -> Order {
    db.change_order(staff_acts(
        order,
        OrderAction::Accept,
        Some(order.version),
        at,
    ))
    .await
    .unwrap()
}

fn bump(
    ticket: &KitchenTicket,
    command: TicketCommand,
) -> impl FnOnce(&KitchenTicket) -> Result<TicketChange, TicketRefusal> + use<> {
    let seen = ticket.version;
    move |t: &KitchenTicket| t.decide(&command, "staff:cook", seen, business_date(), NOW_MS + 10)
}

async fn kitchen_kinds(db: &Db, store: StoreId) -> Vec<String> {
    db.events_after(&kitchen_stream(store), 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

async fn tickets_come_with_the_accept_and_never_with_a_refused_one(db: &Db) {
    let menu = menu_with_stock(db, 20).await;
    let (hot, drinks) = stations(db, menu).await;
    let order = order_for_two_stations(db, menu, drinks, "k1", 2).await;
    assert!(
        db.tickets_of_order(order.id).await.unwrap().is_empty(),
        "placed is not cooked yet"
    );

    let stale = db
        .change_order(staff_acts(
            &order,
            OrderAction::Accept,
            Some(order.version + 5),
            NOW_MS + 1,
        ))
        .await;
    assert!(stale.is_err());
    assert!(
        db.tickets_of_order(order.id).await.unwrap().is_empty(),
        "a refused accept creates none"
    );
    assert!(kitchen_kinds(db, menu.store).await.is_empty());

    accept(db, &order, NOW_MS + 2).await;
    let tickets = db.tickets_of_order(order.id).await.unwrap();
    let by_station: Vec<(Option<StationId>, i64)> = tickets
        .iter()
        .map(|t| (t.station_id, t.items.iter().map(|i| i.quantity).sum()))
        .collect();
    assert_eq!(by_station, vec![(Some(hot), 2), (Some(drinks), 1)]);
    assert_eq!(tickets[1].items[0].note.as_deref(), Some("少冰"));
    assert_eq!(tickets[0].label, order.pickup_number.to_string());
    assert_eq!(
        kitchen_kinds(db, menu.store).await,
        vec!["ticket.created", "ticket.created"]
    );
    let hot_board = db
        .open_tickets(menu.brand, menu.store, Some(hot))
        .await
        .unwrap();
    assert_eq!(hot_board.len(), 1);
    assert_eq!(hot_board[0], tickets[0]);
}
both!(tickets_come_with_the_accept_and_never_with_a_refused_one);

/// A rush of 接单 lands in shared batches: every order still gets exactly its own tickets, and
/// the store's kitchen stream is numbered 1, 2, 3 … without a gap or a repeat.
async fn a_rush_of_accepts_gives_every_order_its_tickets_numbered_without_gaps(db: &Db) {
    const ORDERS: usize = 30;
    let menu = menu_with_stock(db, 100).await;
    let (_, drinks) = stations(db, menu).await;
    let mut orders = Vec::new();
    for n in 0..ORDERS {
        orders.push(order_for_two_stations(db, menu, drinks, &format!("rush{n}"), 1).await);
    }
    let start = Arc::new(Barrier::new(ORDERS));
    let racers: Vec<_> = orders
        .iter()
        .cloned()
        .map(|order| {
            let (db, start) = (db.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                accept(&db, &order, NOW_MS + 1).await
            })
        })
        .collect();
    for racer in racers {
        racer.await.unwrap();
    }
    for order in &orders {
        let tickets = db.tickets_of_order(order.id).await.unwrap();
        let stations: Vec<Option<StationId>> = tickets.iter().map(|t| t.station_id).collect();
        assert_eq!(stations.len(), 2, "one ticket per station of {}", order.id);
        assert!(tickets.iter().all(|t| t.order_id == order.id));
    }
    let versions: Vec<i64> = db
        .events_after(&kitchen_stream(menu.store), 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.stream_version)
        .collect();
    assert_eq!(versions, (1..=2 * ORDERS as i64).collect::<Vec<_>>());
}
both!(race a_rush_of_accepts_gives_every_order_its_tickets_numbered_without_gaps);

async fn a_cancel_voids_what_was_not_cooked(db: &Db) {
    let menu = menu_with_stock(db, 20).await;
    let (_, drinks) = stations(db, menu).await;
    let order = accept(
        db,
        &order_for_two_stations(db, menu, drinks, "k1", 3).await,
        NOW_MS + 1,
    )
    .await;
    let tickets = db.tickets_of_order(order.id).await.unwrap();
    db.change_ticket(
        menu.brand,
        menu.store,
        tickets[1].id,
        bump(&tickets[1], TicketCommand::BumpTicket),
        NOW_MS + 2,
    )
    .await
    .unwrap();
    db.change_order(staff_acts(
        &order,
        OrderAction::Cancel,
        Some(order.version),
        NOW_MS + 3,
    ))
    .await
    .unwrap();
    let after = db.tickets_of_order(order.id).await.unwrap();
    assert_eq!(
        after[0].items[0].state,
        ItemState::Voided,
        "kept and struck through"
    );
    assert_eq!(
        after[0].items[0].changed.as_ref().unwrap().at_ms,
        NOW_MS + 3
    );
    assert_eq!(
        after[1].items[0].state,
        ItemState::Done,
        "the drink was out already"
    );
    assert!(
        db.all_day_counts(menu.brand, menu.store)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        kitchen_kinds(db, menu.store).await,
        vec![
            "ticket.created",
            "ticket.created",
            "ticket.bumped",
            "ticket.voided"
        ]
    );
}
both!(a_cancel_voids_what_was_not_cooked);

async fn two_cooks_bump_one_ticket_and_one_wins(db: &Db) {
    let menu = menu_with_stock(db, 20).await;
    stations(db, menu).await;
    let order = accept(db, &place(db, new_order(menu, "k1", 2)).await, NOW_MS + 1).await;
    let ticket = db.tickets_of_order(order.id).await.unwrap().remove(0);
    let start = Arc::new(Barrier::new(8));
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let (db, start, ticket) = (db.clone(), start.clone(), ticket.clone());
            tokio::spawn(async move {
                start.wait().await;
                db.change_ticket(
                    menu.brand,
                    menu.store,
                    ticket.id,
                    bump(&ticket, TicketCommand::BumpTicket),
                    NOW_MS + 2,
                )
                .await
            })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(change) => {
                won += 1;
                assert_eq!(change.ticket.version, 2);
            }
            Err(TicketError::Refused { refusal, ticket }) => {
                assert_eq!(refusal, TicketRefusal::AlreadyBumped);
                assert_eq!(ticket.state, TicketState::Bumped);
            }
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(won, 1);
    let stored = db
        .kitchen_ticket(menu.brand, menu.store, ticket.id)
        .await
        .unwrap();
    assert_eq!((stored.state, stored.version), (TicketState::Bumped, 2));
    assert_eq!(
        kitchen_kinds(db, menu.store).await,
        vec!["ticket.created", "ticket.bumped"]
    );
}
both!(race two_cooks_bump_one_ticket_and_one_wins);

async fn a_bump_and_a_recall_at_once_each_get_a_clear_answer(db: &Db) {
    let menu = menu_with_stock(db, 20).await;
    stations(db, menu).await;
    let order = accept(db, &place(db, new_order(menu, "k1", 1)).await, NOW_MS + 1).await;
    let ticket = db.tickets_of_order(order.id).await.unwrap().remove(0);
    let bumped = db
        .change_ticket(
            menu.brand,
            menu.store,
            ticket.id,
            bump(&ticket, TicketCommand::BumpTicket),
            NOW_MS + 2,
        )
        .await
        .unwrap()
        .ticket;
    let start = Arc::new(Barrier::new(2));
    let recall = {
        let (db, start, bumped) = (db.clone(), start.clone(), bumped.clone());
        tokio::spawn(async move {
            start.wait().await;
            db.change_ticket(
                menu.brand,
                menu.store,
                bumped.id,
                bump(&bumped, TicketCommand::Recall),
                NOW_MS + 3,
            )
            .await
        })
    };
    let second_recall = {
        let (db, start, bumped) = (db.clone(), start.clone(), bumped.clone());
        tokio::spawn(async move {
            start.wait().await;
            db.change_ticket(
                menu.brand,
                menu.store,
                bumped.id,
                bump(&bumped, TicketCommand::Recall),
                NOW_MS + 3,
            )
            .await
        })
    };
    let outcomes = [recall.await.unwrap(), second_recall.await.unwrap()];
    let ok = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(ok, 1);
    assert!(outcomes.iter().any(|o| matches!(
        o,
        Err(TicketError::Refused {
            refusal: TicketRefusal::Stale {
                seen: 2,
                current: 3
            },
            ..
        })
    )));
    let stored = db
        .kitchen_ticket(menu.brand, menu.store, ticket.id)
        .await
        .unwrap();
    assert_eq!((stored.state, stored.recalls), (TicketState::Recalled, 1));
    assert_eq!(stored.items[0].state, ItemState::Waiting);
    assert_eq!(
        kitchen_kinds(db, menu.store).await,
        vec!["ticket.created", "ticket.bumped", "ticket.recalled"],
        "the recall is on the record"
    );
    let today = db
        .bumped_tickets(menu.brand, menu.store, None, business_date())
        .await
        .unwrap();
    assert!(today.is_empty(), "recalled tickets are back on the board");
    assert_eq!(
        db.open_tickets(menu.brand, menu.store, None)
            .await
            .unwrap()
            .len(),
        1
    );
    let from_elsewhere = db
        .change_ticket(
            BrandId::new(),
            menu.store,
            ticket.id,
            bump(&stored, TicketCommand::BumpTicket),
            NOW_MS + 4,
        )
        .await;
    assert!(matches!(from_elsewhere, Err(TicketError::NotFound)));
}
both!(race a_bump_and_a_recall_at_once_each_get_a_clear_answer);

async fn all_day_counts_equal_a_recount_of_the_tickets(db: &Db) {
    let menu = menu_with_stock(db, 100).await;
    let (_, drinks) = stations(db, menu).await;
    let mut orders = Vec::new();
    for (i, bowls) in [3, 4, 2].into_iter().enumerate() {
        let placed = order_for_two_stations(db, menu, drinks, &format!("k{i}"), bowls).await;
        orders.push(accept(db, &placed, NOW_MS + 1).await);
    }
    let first = db.tickets_of_order(orders[0].id).await.unwrap();
    db.change_ticket(
        menu.brand,
        menu.store,
        first[0].id,
        bump(&first[0], TicketCommand::BumpItem { line: 0 }),
        NOW_MS + 2,
    )
    .await
    .unwrap();
    db.change_order(staff_acts(
        &orders[1],
        OrderAction::Cancel,
        Some(orders[1].version),
        NOW_MS + 3,
    ))
    .await
    .unwrap();
    let mut every_ticket = Vec::new();
    for order in &orders {
        every_ticket.extend(db.tickets_of_order(order.id).await.unwrap());
    }
    let counts = db.all_day_counts(menu.brand, menu.store).await.unwrap();
    assert_eq!(counts, AllDayCounts::recount(&every_ticket));
    let noodles: Vec<i64> = counts.iter().map(|(_, c)| c.open).collect();
    assert_eq!(
        noodles,
        vec![2, 2],
        "order 3's 2 bowls, and the drinks of orders 1 and 3"
    );
}
both!(all_day_counts_equal_a_recount_of_the_tickets);
