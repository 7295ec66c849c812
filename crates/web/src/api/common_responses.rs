//! The error statuses that the shared extractors and middleware give every operation of a given
//! shape, added to the document in one place instead of repeated in ~50 annotations.
//!
//! A handler's own annotation still lists the statuses of its own rules (409 for a taken name,
//! 422 for a field that breaks a rule); this adds only what the request's shape implies:
//! - a JSON body (`ApiJson`): 400 malformed JSON, 413 over the body limit, 415 without
//!   `Content-Type: application/json`, 422 a body that does not fit the type;
//! - a multipart body (`ApiMultipart`): 400 not multipart, 413 too large;
//! - path parameters (`ApiPath`, and the lookup behind them): 404, also for an id that does not
//!   parse, since a malformed id names nothing;
//! - query parameters (`ApiQuery`): 400 a value that does not parse;
//! - a diner's order (`OrderPass`, the `X-Order-Secret` header): 404 also without a session or
//!   secret that opens it, the same answer as for no such order;
//! - live streams (`/events`, counted by `live::open`): 429 `TOO_MANY_STREAMS` over a cap;
//! - staff routes (`Staff`): 401 without a session, 403 when the role lacks the permission;
//!   diner routes (`Customer`): 401;
//! - any state change: 403 `CROSS_SITE_REQUEST` for a cookie-carrying write from another site.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr};

/// Adds the shape-implied statuses to every operation that does not document them already.
pub fn add_to(document: &mut OpenApi) {
    for (path, item) in document.paths.paths.iter_mut() {
        let writes = [
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in writes.into_iter().flatten() {
            add_for(path, operation, true);
        }
        if let Some(operation) = item.get.as_mut() {
            add_for(path, operation, false);
        }
    }
}

fn add_for(path: &str, operation: &mut Operation, writes: bool) {
    let mut statuses: Vec<(&str, &str)> = Vec::new();
    let body_types: Vec<String> = operation
        .request_body
        .as_ref()
        .map(|body| body.content.keys().cloned().collect())
        .unwrap_or_default();
    if body_types.iter().any(|t| t == "application/json") {
        statuses.extend([
            ("400", "The body is not valid JSON (`MALFORMED_JSON`)"),
            ("413", "The body is over the size limit (`BODY_TOO_LARGE`)"),
            ("415", "Not sent as `application/json` (`EXPECTED_JSON`)"),
            (
                "422",
                "The body does not fit the schema or breaks a rule (`INVALID_BODY`, `VALIDATION_FAILED`)",
            ),
        ]);
    }
    if body_types.iter().any(|t| t == "multipart/form-data") {
        statuses.extend([
            ("400", "Not a multipart upload (`INVALID_UPLOAD`)"),
            ("413", "The upload is over the size limit"),
        ]);
    }
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    if parameters.iter().any(|p| p.name == "X-Order-Secret") {
        statuses.push((
            "404",
            "No such order, or neither the diner's session nor an `X-Order-Secret` that opens it (`NOT_FOUND`)",
        ));
    }
    if path.ends_with("/events") {
        statuses.push((
            "429",
            "Too many live streams open for this order, diner, table or client address (`TOO_MANY_STREAMS`, with `Retry-After`)",
        ));
    }
    if parameters
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Path)
    {
        statuses.push(("404", "Nothing with this id, or not yours (`NOT_FOUND`)"));
    }
    if parameters
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Query)
    {
        statuses.push(("400", "A query parameter does not parse (`INVALID_QUERY`)"));
    }
    if is_staff_route(path) {
        statuses.extend([
            ("401", "No staff session (`UNAUTHENTICATED`)"),
            ("403", "The role may not do this (`FORBIDDEN`)"),
        ]);
    } else if path.starts_with("/api/v1/agent/") {
        statuses.push((
            "401",
            "An unknown or revoked device token (`AGENT_TOKEN_INVALID`)",
        ));
    } else if path.starts_with("/api/v1/customer/") {
        statuses.push(("401", "No diner session (`UNAUTHENTICATED`)"));
    }
    if writes {
        statuses.push((
            "403",
            "A cookie-carrying write from another site (`CROSS_SITE_REQUEST`)",
        ));
    }
    for (status, description) in statuses {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description));
    }
}

fn is_staff_route(path: &str) -> bool {
    path.starts_with("/api/v1/console/")
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            )
            .build(),
    )
}
