//! What a diner's request carries to reach an order: their customer session, and/or the order's
//! access secret in the `X-Order-Secret` header (or, for the live stream only, the `secret`
//! query parameter, because `EventSource` cannot send headers). Extraction never fails; a pass
//! that opens nothing is answered 404 by the use case, exactly as for an order that does not
//! exist.

use crate::state::AppState;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use diancan_usecases::ordering::{DinerPass, OrderSecret};
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, Type};

pub const SECRET_HEADER: &str = "x-order-secret";
const SECRET_QUERY: &str = "secret";

#[derive(serde::Deserialize)]
struct SecretQuery {
    secret: Option<String>,
}

/// The caller's pass to an order. `QUERY` also takes the secret from `?secret=` (streams only:
/// a secret in a URL travels further than one in a header, so only where there is no choice).
pub struct OrderPass<const QUERY: bool = false>(pub DinerPass);

/// The pass of a live stream, whose secret may come in the query.
pub type StreamPass = OrderPass<true>;

impl<const QUERY: bool> FromRequestParts<AppState> for OrderPass<QUERY> {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(SECRET_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(OrderSecret::presented);
        let query = || {
            // A query that does not parse carries no secret: the answer is the same 404.
            let Query(query) = Query::<SecretQuery>::try_from_uri(&parts.uri).ok()?;
            OrderSecret::presented(&query.secret?)
        };
        let secret = header.or_else(|| if QUERY { query() } else { None });
        let customer = match crate::customer_session::customer_token(&parts.headers) {
            Some(token) => {
                match state
                    .db
                    .session_customer(&crate::auth::token_hash(&token), state.clock.now_ms())
                    .await
                {
                    Ok(record) => Some(record.id),
                    // An expired or unknown session is simply no session: the secret may still open it.
                    Err(diancan_storage::StorageError::NotFound) => None,
                    Err(other) => return Err(other.into()),
                }
            }
            None => None,
        };
        Ok(OrderPass(DinerPass { customer, secret }))
    }
}

impl<const QUERY: bool> utoipa::IntoParams for OrderPass<QUERY> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let string = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(128))
        };
        let mut params = vec![
            ParameterBuilder::new()
                .name("X-Order-Secret")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "The order's access secret, handed to a guest once when the order is placed. \
                     Not needed with the diner's own customer session. Without either, or with a \
                     wrong one, the answer is 404 as for an order that does not exist.",
                ))
                .schema(Some(string()))
                .build(),
        ];
        if QUERY {
            params.push(
                ParameterBuilder::new()
                    .name(SECRET_QUERY)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(
                        "The same secret, for `EventSource`, which cannot send headers. Never logged.",
                    ))
                    .schema(Some(string()))
                    .build(),
            );
        }
        params
    }
}
