//! Request extractors whose rejections speak our error format instead of axum's plain text.

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};

/// JSON body; malformed JSON, a wrong type or an unknown field is a 400/422 with the parser's reason.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

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
            JsonRejection::JsonDataError(_) => ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "INVALID_BODY",
                format!("请求内容不符合要求：{reason}"),
                format!("The request body does not fit: {reason}"),
            ),
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "EXPECTED_JSON",
                "请求需要 Content-Type: application/json",
                "Expected Content-Type: application/json",
            ),
            _ => ApiError::bad_request(
                "MALFORMED_JSON",
                format!("请求不是有效的 JSON：{reason}"),
                format!("The request is not valid JSON: {reason}"),
            ),
        }
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
