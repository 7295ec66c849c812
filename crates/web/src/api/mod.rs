//! The `/api/v1` contract: every route is registered together with its OpenAPI description,
//! so the document at `/api/v1/openapi.json` cannot drift from the handlers.

mod agent;
mod balance;
mod board;
mod common_responses;
mod console_menu;
pub mod console_orders;
mod console_stores;
mod contract_rules;
mod customer_auth;
mod dispatch;
mod favourites;
mod floor;
mod kitchen;
mod membership;
mod notifications;
pub mod ordering;
mod payments;
mod print_agents;
mod printing;
mod promotions;
pub mod public;
mod reconciliation;
mod session;
mod staff;
mod stations;
mod table_cart;
mod text_patterns;
mod upload;

use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Diancan API", version = "1", description = "Restaurant ordering: stores, menus, and the merchant console.\n\nMoney is integer fen (`price_fen: 2800` is ¥28). Errors are `{\"error\": {\"code\", \"message\", \"message_en\", \"details\"}}` with a stable `code`.\n\nBrowsers authenticate with the session cookie, devices with `Authorization`. A state change that carries the cookie and no `Authorization` must come from this site's own pages (`Origin`, or else `Sec-Fetch-Site`), or it is refused with 403 `CROSS_SITE_REQUEST`."),
    tags(
        (name = "public", description = "No login: store directory, menus, table codes"),
        (name = "session", description = "Staff login and logout"),
        (name = "customer", description = "Diners: login by SMS code or WeChat, and their session"),
        (name = "console", description = "Stores, areas and tables (staff)"),
        (name = "console menu", description = "Menu management (staff)"),
        (name = "ordering", description = "Diners: shared table cart, quote, place and follow orders"),
        (name = "console orders", description = "Staff: today's orders, order actions, tables"),
        (name = "payments", description = "Diners pay an order through WeChat Pay or Alipay; the gateways' notifications"),
        (name = "kitchen", description = "The kitchen display: tickets by station, bump, recall, hold and fire, all-day counts, expo, the pickup screen"),
        (name = "printing", description = "Printers, test prints, the day's print jobs and reprints (重打), print agents"),
        (name = "print agent", description = "The shop's print agent (`diancan print-agent`, device token): claim jobs, confirm, report results and printer status"),
        (name = "dispatch", description = "派单: give delivery orders to the store's riders or a courier, the rider's deliveries (取货, 送达), couriers' status reports"),
        (name = "marketing", description = "营销: promotions and coupon templates with overlap warnings, a preview of what a cart pays and why, redemption statistics, coupons given to diners"),
        (name = "reconciliation", description = "对账: each gateway's daily statement against our payments and refunds, the mismatches (JSON and CSV), reruns and resolutions"),
    )
)]
struct ApiDoc;

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(public::list_stores))
        .routes(routes!(public::get_store))
        .routes(routes!(public::store_menu))
        .routes(routes!(public::table_landing))
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(session::me))
        .routes(routes!(customer_auth::request_otp))
        .routes(routes!(customer_auth::login_with_code))
        .routes(routes!(customer_auth::login_with_wechat))
        .routes(routes!(customer_auth::me))
        .routes(routes!(customer_auth::logout))
        .routes(routes!(
            favourites::list_favourites,
            favourites::add_favourites
        ))
        .routes(routes!(favourites::remove_favourite))
        .routes(routes!(
            console_stores::list_stores,
            console_stores::create_store
        ))
        .routes(routes!(
            console_stores::get_store,
            console_stores::update_store
        ))
        .routes(routes!(
            console_stores::floor_plan,
            console_stores::create_table
        ))
        .routes(routes!(console_stores::create_area))
        .routes(routes!(console_menu::catalog))
        .routes(routes!(console_menu::create_station))
        .routes(routes!(console_menu::create_category))
        .routes(routes!(
            console_menu::update_category,
            console_menu::delete_category
        ))
        .routes(routes!(console_menu::create_dish))
        .routes(routes!(
            console_menu::get_dish,
            console_menu::update_dish,
            console_menu::delete_dish
        ))
        .routes(routes!(console_menu::upload_image))
        .routes(routes!(console_menu::store_menu_settings))
        .routes(routes!(console_menu::set_sku_settings))
        .routes(routes!(console_menu::set_dish_listing))
        .routes(routes!(console_menu::export_menu))
        .routes(routes!(console_menu::import_menu))
        .routes(routes!(ordering::quote_order))
        .routes(routes!(ordering::place_order))
        .routes(routes!(ordering::get_order))
        .routes(routes!(ordering::order_events))
        .routes(routes!(ordering::hurry_order))
        .routes(routes!(ordering::cancel_order))
        .routes(routes!(
            ordering::rotate_order_secret,
            ordering::revoke_order_secret
        ))
        .routes(routes!(ordering::customer_orders))
        .routes(routes!(payments::order_payments, payments::start_payment))
        .routes(routes!(payments::notify))
        .routes(routes!(payments::gateway_health))
        .routes(routes!(balance::pay_by_balance))
        .routes(routes!(balance::my_balance))
        .routes(routes!(balance::member_balance, balance::post_member_entry))
        .routes(routes!(balance::refund_order))
        .routes(routes!(membership::my_membership))
        .routes(routes!(membership::my_points))
        .routes(routes!(membership::set_birthday))
        .routes(routes!(membership::start_recharge))
        .routes(routes!(membership::my_recharge))
        .routes(routes!(membership::members))
        .routes(routes!(membership::member))
        .routes(routes!(membership::post_points))
        .routes(routes!(membership::programme, membership::save_programme))
        .routes(routes!(notifications::inbox))
        .routes(routes!(notifications::unread))
        .routes(routes!(notifications::mark_read))
        .routes(routes!(
            notifications::get_preferences,
            notifications::set_preferences
        ))
        .routes(routes!(notifications::record_consent))
        .routes(routes!(
            notifications::list_campaigns,
            notifications::compose_campaign
        ))
        .routes(routes!(notifications::preview_audience))
        .routes(routes!(notifications::get_campaign))
        .routes(routes!(notifications::send_campaign))
        .routes(routes!(table_cart::get_cart, table_cart::change_cart))
        .routes(routes!(table_cart::cart_events))
        .routes(routes!(console_orders::todays_orders))
        .routes(routes!(console_orders::act_on_order))
        .routes(routes!(board::board))
        .routes(routes!(board::board_events))
        .routes(routes!(board::order_detail))
        .routes(routes!(staff::list_staff, staff::create_staff))
        .routes(routes!(staff::update_staff))
        .routes(routes!(staff::set_password))
        .routes(routes!(stations::station_targets))
        .routes(routes!(stations::set_station_target))
        .routes(routes!(floor::floor_plan))
        .routes(routes!(floor::floor_events))
        .routes(routes!(floor::transfer_table))
        .routes(routes!(floor::merge_tables))
        .routes(routes!(
            console_orders::open_table,
            console_orders::clear_table
        ))
        .routes(routes!(console_orders::rotate_table_token))
        .routes(routes!(console_orders::table_qr))
        .routes(routes!(kitchen::board))
        .routes(routes!(kitchen::bumped))
        .routes(routes!(kitchen::all_day))
        .routes(routes!(kitchen::expo))
        .routes(routes!(kitchen::command))
        .routes(routes!(kitchen::events))
        .routes(routes!(kitchen::expo_events))
        .routes(routes!(kitchen::pickup_events))
        .routes(routes!(printing::list_printers, printing::create_printer))
        .routes(routes!(printing::update_printer))
        .routes(routes!(printing::test_print))
        .routes(routes!(printing::list_print_jobs))
        .routes(routes!(printing::reprint))
        .routes(routes!(
            print_agents::list_agents,
            print_agents::create_agent
        ))
        .routes(routes!(print_agents::revoke_agent))
        .routes(routes!(agent::claim))
        .routes(routes!(agent::received))
        .routes(routes!(agent::result))
        .routes(routes!(agent::printer_status))
        .routes(routes!(
            reconciliation::list_runs,
            reconciliation::start_run
        ))
        .routes(routes!(reconciliation::run_mismatches))
        .routes(routes!(reconciliation::run_mismatches_csv))
        .routes(routes!(reconciliation::resolve_mismatch))
        .routes(routes!(dispatch::dispatch_choices))
        .routes(routes!(
            dispatch::order_deliveries,
            dispatch::assign_delivery
        ))
        .routes(routes!(dispatch::cancel_delivery))
        .routes(routes!(dispatch::my_deliveries))
        .routes(routes!(dispatch::pick_up))
        .routes(routes!(dispatch::deliver))
        .routes(routes!(dispatch::courier_callback))
        .routes(routes!(dispatch::diner_delivery))
        .routes(routes!(
            promotions::list_promotions,
            promotions::create_promotion
        ))
        .routes(routes!(promotions::update_promotion))
        .routes(routes!(
            promotions::list_coupon_templates,
            promotions::create_coupon_template
        ))
        .routes(routes!(promotions::update_coupon_template))
        .routes(routes!(promotions::grant_coupon))
        .routes(routes!(promotions::preview))
        .routes(routes!(promotions::coupon_centre))
        .routes(routes!(promotions::claim_coupon))
        .routes(routes!(promotions::my_coupons))
}

/// The OpenAPI document, as served and as snapshot-tested.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut document = api_router().split_for_parts().1;
    common_responses::add_to(&mut document);
    text_patterns::add_to(&mut document);
    contract_rules::add_to(&mut document);
    document
}

pub fn router(_state: AppState) -> Router<AppState> {
    let api = api_router().split_for_parts().0;
    let document = std::sync::Arc::new(openapi_document());
    api.route(
        "/api/v1/openapi.json",
        get(move || {
            let document = document.clone();
            async move { axum::Json(document.as_ref().clone()) }
        }),
    )
    .route("/api/v1/images/{id}/{variant}", get(public::image))
    .route("/images/{id}/{variant}", get(public::image))
    .route("/healthz", get(|| async { "ok" }))
    .route("/readyz", get(readyz))
    .fallback(api_fallback)
}

/// Ready when the database answers: load balancers stop sending traffic otherwise.
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.db.is_reachable().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

async fn api_fallback(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") {
        crate::error::ApiError::new(
            StatusCode::NOT_FOUND,
            "NO_SUCH_ENDPOINT",
            "没有这个接口",
            "No such endpoint",
        )
        .into_response()
    } else {
        crate::pages::not_found_page().into_response()
    }
}
