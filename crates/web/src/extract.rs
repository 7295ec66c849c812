//! Request extractors whose rejections speak our error format instead of axum's plain text.

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;

/// The largest JSON body any endpoint takes: a dish with every spec and option group filled is
/// tens of kilobytes. Uploads are multipart and have their own, larger limits.
pub const MAX_JSON_BODY_BYTES: usize = 256 * 1024;

/// JSON body; malformed JSON, a wrong type or an unknown field is a 400/422 with the parser's
/// reason, and a body over [`MAX_JSON_BODY_BYTES`] a 413, all in our error format. A whole
/// number written with a zero fraction (`2.0`) is the integer it spells, as JSON Schema and
/// every JavaScript client see it.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        // Read no further than the limit: the rest of an oversized body is never buffered.
        let request =
            request.map(|body| Body::new(http_body_util::Limited::new(body, MAX_JSON_BODY_BYTES)));
        let axum::Json(mut value) =
            axum::Json::<serde_json::Value>::from_request(request, state).await?;
        whole_numbers_as_integers(&mut value);
        serde_path_to_error::deserialize(value)
            .map(ApiJson)
            .map_err(|error| invalid_body(&error))
    }
}

/// Past 2^53 a float no longer spells one integer, so `9007199254740993.0` stays a float and is
/// refused where an integer is wanted, instead of quietly becoming its neighbour.
const EXACT_FLOAT_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// Rewrites every number with a zero fraction as that integer: serde reads `2.0` into an `i64`
/// field as a type error, while the document's `type: integer` (JSON Schema) admits it.
fn whole_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64()
                && float.fract() == 0.0
                && float.abs() <= EXACT_FLOAT_INTEGERS
            {
                *value = Value::from(float as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// A body that is JSON but does not fit the type (a wrong type, a missing or unknown field).
fn invalid_body(reason: &dyn std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_BODY",
        format!("请求内容不符合要求：{reason}"),
        format!("The request body does not fit: {reason}"),
    )
}

/// A multipart body (uploads); a request that is not multipart is a 400 in our error format.
pub struct ApiMultipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        Ok(ApiMultipart(
            axum::extract::Multipart::from_request(request, state).await?,
        ))
    }
}

/// Path parameters; an id that is not a UUID is simply not found.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let reason = rejection.body_text();
        match rejection {
            JsonRejection::JsonDataError(_) => invalid_body(&reason),
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "EXPECTED_JSON",
                "请求需要 Content-Type: application/json",
                "Expected Content-Type: application/json",
            ),
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::body_too_large(MAX_JSON_BODY_BYTES)
            }
            _ => ApiError::bad_request(
                "MALFORMED_JSON",
                format!("请求不是有效的 JSON：{reason}"),
                format!("The request is not valid JSON: {reason}"),
            ),
        }
    }
}

impl From<MultipartRejection> for ApiError {
    fn from(_: MultipartRejection) -> Self {
        ApiError::bad_request(
            "INVALID_UPLOAD",
            "请以 multipart/form-data 上传文件（字段名 file）",
            "Upload the file as multipart/form-data (field name: file)",
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError::not_found()
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        let reason = rejection.body_text();
        ApiError::bad_request(
            "INVALID_QUERY",
            format!("查询参数有误：{reason}"),
            format!("Invalid query parameters: {reason}"),
        )
    }
}
