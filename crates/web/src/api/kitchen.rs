//! The kitchen display's API: a station's open tickets, today's bumped ones (for recall), the
//! all-day counts, expo, one route for every ticket command, and the live streams the screens
//! follow (the kitchen log with `Last-Event-ID` replay; expo and the pickup calls as snapshots).

use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use crate::views::kitchen::{
    AllDayRow, ExpoView, KitchenBoardView, PickupCalls, TicketView, all_day_rows,
};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use diancan_domain::kitchen::TicketCommand;
use diancan_domain::validation::Problem;
use diancan_domain::*;
use diancan_storage::events::{kitchen_stream, store_channel};
use diancan_usecases::kitchen;
use serde::Deserialize;
use utoipa::ToSchema;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StationQuery {
    /// One station's screen; without it, every station (expo).
    pub station: Option<StationId>,
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/kitchen/tickets", tag = "kitchen",
    params(("store_id" = StoreId, Path), StationQuery),
    responses((status = 200, body = KitchenBoardView, description = "Open and recalled tickets, oldest first, and the stream version to follow from")))]
pub async fn board(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<StationQuery>,
) -> ApiResult<Json<KitchenBoardView>> {
    let board = kitchen::board(&state, &staff.caller(), store_id, query.station).await?;
    Ok(Json(KitchenBoardView::of(board, state.clock.now_ms())))
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/kitchen/bumped", tag = "kitchen",
    params(("store_id" = StoreId, Path), StationQuery),
    responses((status = 200, body = Vec<TicketView>, description = "Tickets bumped on the store's business day, latest first: what may be recalled")))]
pub async fn bumped(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<StationQuery>,
) -> ApiResult<Json<Vec<TicketView>>> {
    let caller = staff.caller();
    let tickets = kitchen::bumped_today(&state, &caller, store_id, query.station).await?;
    let now_ms = state.clock.now_ms();
    // Nothing on a bumped ticket is cooking, so the target never shows; the default will do.
    Ok(Json(
        tickets
            .into_iter()
            .map(|t| TicketView::of(t, Default::default(), now_ms))
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/kitchen/all-day", tag = "kitchen",
    params(("store_id" = StoreId, Path), StationQuery),
    responses((status = 200, body = Vec<AllDayRow>, description = "How many of each dish are still open, per station")))]
pub async fn all_day(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<StationQuery>,
) -> ApiResult<Json<Vec<AllDayRow>>> {
    let counts = kitchen::all_day(&state, &staff.caller(), store_id, query.station).await?;
    Ok(Json(all_day_rows(&counts)))
}

#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/kitchen/expo", tag = "kitchen",
    params(("store_id" = StoreId, Path)),
    responses((status = 200, body = ExpoView, description = "Orders still in the kitchen with every station's ticket")))]
pub async fn expo(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
) -> ApiResult<Json<ExpoView>> {
    let expo = kitchen::expo(&state, &staff.caller(), store_id).await?;
    Ok(Json(ExpoView::of(expo, state.clock.now_ms())))
}

/// The longest list a hold or fire may name: more lines than any order has.
const MAX_LINES: usize = 200;

/// What a cook or expo does to a ticket, on the version the screen showed: one shape per
/// `command`, so the document says which command needs `line` and which `lines`.
///
/// `seen` is the ticket's `version` as the screen showed it; if it changed since, nothing
/// happens and the answer is 409 `TICKET_CHANGED` with the ticket as it is now.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum TicketCommandBody {
    /// 划菜 one item: its `line` on the ticket.
    BumpItem {
        #[schema(minimum = 0)]
        line: i64,
        #[schema(minimum = 1)]
        seen: i64,
    },
    /// 出餐 the whole ticket.
    BumpTicket {
        #[schema(minimum = 1)]
        seen: i64,
    },
    /// Call a bumped ticket back onto the screens.
    Recall {
        #[schema(minimum = 1)]
        seen: i64,
    },
    /// 叫起 these items' lines.
    Hold {
        #[schema(min_items = 1, max_items = 200)]
        lines: Vec<i64>,
        #[schema(minimum = 1)]
        seen: i64,
    },
    /// 起菜 these held items' lines.
    Fire {
        #[schema(min_items = 1, max_items = 200)]
        lines: Vec<i64>,
        #[schema(minimum = 1)]
        seen: i64,
    },
}

impl TicketCommandBody {
    fn parse(self) -> ApiResult<(TicketCommand, i64)> {
        // The schema states these bounds; a client that ignores them still gets a field error.
        let lines = |lines: Vec<i64>| {
            if lines.is_empty() || lines.len() > MAX_LINES {
                return Err(ApiError::invalid_field(
                    "lines",
                    Problem::OutOfRange {
                        min: 1,
                        max: MAX_LINES as i64,
                    },
                ));
            }
            Ok(lines)
        };
        Ok(match self {
            Self::BumpItem { line, seen } => (TicketCommand::BumpItem { line }, seen),
            Self::BumpTicket { seen } => (TicketCommand::BumpTicket, seen),
            Self::Recall { seen } => (TicketCommand::Recall, seen),
            Self::Hold { lines: l, seen } => (TicketCommand::Hold { lines: lines(l)? }, seen),
            Self::Fire { lines: l, seen } => (TicketCommand::Fire { lines: lines(l)? }, seen),
        })
    }
}

#[utoipa::path(post, path = "/api/v1/console/stores/{store_id}/kitchen/tickets/{ticket_id}/commands", tag = "kitchen",
    params(("store_id" = StoreId, Path), ("ticket_id" = KitchenTicketId, Path)), request_body = TicketCommandBody,
    responses((status = 200, body = TicketView, description = "The ticket after the command"),
        (status = 403, body = crate::error::ErrorBody, description = "The role may not cook"),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "TICKET_CHANGED (stale `seen`), TICKET_ALREADY_BUMPED, TICKET_NOT_BUMPED, TICKET_ITEM_DONE, …; `ticket` is the ticket now"),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn command(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath((store_id, ticket_id)): ApiPath<(StoreId, KitchenTicketId)>,
    ApiJson(body): ApiJson<TicketCommandBody>,
) -> ApiResult<Json<TicketView>> {
    let (command, seen) = body.parse()?;
    let changed =
        kitchen::change_ticket(&state, &staff.caller(), store_id, ticket_id, command, seen).await?;
    Ok(Json(TicketView::of(
        changed.change.ticket,
        changed.target,
        state.clock.now_ms(),
    )))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Events after this version (the board's `last_event_id`); `Last-Event-ID` wins.
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// The store's kitchen as Server-Sent Events, replayed after `Last-Event-ID` (or `after`).
#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/kitchen/events", tag = "kitchen",
    params(("store_id" = StoreId, Path), EventsQuery),
    responses((status = 200, description = "text/event-stream: ticket.created, ticket.item_bumped, ticket.bumped, ticket.recalled, ticket.held, ticket.fired, ticket.voided, ticket.relabelled (data: `{kind, ticket, cooking_since_ms, moves}`; id = stream version), and `heartbeat` after 2 s of silence")))]
pub async fn events(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
    ApiQuery(query): ApiQuery<EventsQuery>,
    client: crate::forwarded::ClientIp,
    headers: HeaderMap,
) -> ApiResult<Response> {
    kitchen::may_watch(&state, &staff.caller(), store_id).await?;
    // The document says `minimum: 0`: a negative version names no point in the stream.
    if query.after.is_some_and(|after| after < 0) {
        return Err(ApiError::bad_request(
            "INVALID_QUERY",
            "after 不能为负数",
            "`after` must not be negative",
        ));
    }
    let after = crate::live::resume_after(&headers, query.after);
    // Counted per staff account: a kitchen's screens share one, a leaked one cannot open many.
    crate::live::open_after(
        state,
        format!("staff:{}", staff.id),
        client,
        kitchen_stream(store_id),
        after,
        crate::live::heartbeat(),
    )
}

/// Expo's orders as Server-Sent Events: the whole list on connect and after every change in
/// the store (an order marked ready leaves it on every expo screen at once).
#[utoipa::path(get, path = "/api/v1/console/stores/{store_id}/kitchen/expo/events", tag = "kitchen",
    params(("store_id" = StoreId, Path)),
    responses((status = 200, description = "text/event-stream: `expo` (data: an ExpoView) on connect and whenever it changes; `heartbeat` after 2 s of silence")))]
pub async fn expo_events(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(store_id): ApiPath<StoreId>,
    client: crate::forwarded::ClientIp,
) -> ApiResult<Response> {
    let caller = staff.caller();
    kitchen::may_watch(&state, &caller, store_id).await?;
    let read = move |state: AppState| {
        let caller = caller.clone();
        async move {
            let expo = kitchen::expo(&state, &caller, store_id)
                .await
                .map_err(|e| e.to_string())?;
            // Read at each announcement: the clock in it is as true as a fresh GET's.
            serde_json::to_string(&ExpoView::of(expo, state.clock.now_ms()))
                .map_err(|e| e.to_string())
        }
    };
    let owner = format!("staff:{}", staff.id);
    crate::live::open_snapshots(state, owner, client, store_channel(store_id), "expo", read)
}

/// The pickup screen's numbers as Server-Sent Events: the list on connect and whenever it
/// changes. No login: the screen faces the diners and shows nothing but numbers.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/pickup/events", tag = "kitchen",
    params(("store_id" = StoreId, Path)),
    responses((status = 200, description = "text/event-stream: `pickup` (data: PickupCalls) on connect and whenever it changes; `heartbeat` after 2 s of silence"),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn pickup_events(
    State(state): State<AppState>,
    ApiPath(store_id): ApiPath<StoreId>,
    client: crate::forwarded::ClientIp,
) -> ApiResult<Response> {
    kitchen::pickup_calls(&state, store_id).await?;
    let read = move |state: AppState| async move {
        let calling = kitchen::pickup_calls(&state, store_id)
            .await
            .map_err(|e| e.to_string())?;
        serde_json::to_string(&PickupCalls { calling }).map_err(|e| e.to_string())
    };
    // No login: counted per screen's address and store, so a page left open on many tabs, or a
    // script, cannot hold more than the cap.
    let owner = format!(
        "pickup:{store_id}:{}",
        client.throttle_key("screen").unwrap_or_default()
    );
    crate::live::open_snapshots(
        state,
        owner,
        client,
        store_channel(store_id),
        "pickup",
        read,
    )
}
