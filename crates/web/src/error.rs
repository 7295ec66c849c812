//! The one error type of the HTTP edge: a status, a stable machine code, a message in
//! Chinese and English, and field details for validation failures. Causes of 5xx are logged,
//! never sent to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use diancan_domain::validation::FieldErrors;
use diancan_storage::StorageError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
    pub details: Vec<ErrorDetail>,
    retry_after_secs: Option<u64>,
    /// What the caller needs to try again: the new quote (STALE_QUOTE) or the order as it is now
    /// (a refused change). Boxed: most errors carry none.
    current: Option<Box<CurrentState>>,
}

#[derive(Debug, Clone, Default)]
struct CurrentState {
    quote: Option<serde_json::Value>,
    order: Option<serde_json::Value>,
    ticket: Option<serde_json::Value>,
}

/// The body of every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorPayload,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorPayload {
    /// Stable, machine-readable: clients branch on this, never on the message.
    pub code: &'static str,
    /// Chinese, for the diner or merchant.
    pub message: String,
    pub message_en: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
    /// With `STALE_QUOTE`: the current quote (a `Quote`), to show and confirm.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub quote: Option<serde_json::Value>,
    /// With a refused order action (`ORDER_CHANGED`, `ILLEGAL_TRANSITION`, …): the order as it
    /// is now (an `OrderView`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub order: Option<serde_json::Value>,
    /// With a refused ticket command (`TICKET_CHANGED`, `TICKET_ALREADY_BUMPED`, …): the ticket
    /// as it is now (as a kitchen event carries it).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub ticket: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Path of the offending field, such as `skus[1].price_fen`, or a row such as `row 12`.
    pub field: String,
    pub code: String,
    pub message: String,
    pub message_en: String,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code,
            message_zh: zh.into(),
            message_en: en.into(),
            details: Vec::new(),
            retry_after_secs: None,
            current: None,
        }
    }

    pub fn with_quote(mut self, quote: serde_json::Value) -> Self {
        self.current.get_or_insert_default().quote = Some(quote);
        self
    }

    pub fn with_order(mut self, order: serde_json::Value) -> Self {
        self.current.get_or_insert_default().order = Some(order);
        self
    }

    pub fn with_ticket(mut self, ticket: serde_json::Value) -> Self {
        self.current.get_or_insert_default().ticket = Some(ticket);
        self
    }

    pub fn with_details(mut self, details: Vec<ErrorDetail>) -> Self {
        self.details = details;
        self
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "找不到该对象",
            "Not found",
        )
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "请先登录",
            "Please log in",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "你的账号没有此权限",
            "Your account may not do this",
        )
    }

    pub fn bad_request(code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, zh, en)
    }

    /// Too many failed logins: the wait is seconds for an account's back-off, up to a quarter
    /// of an hour for a client over its limit, so the message names whichever unit reads best.
    pub fn too_many_attempts(retry_after_secs: u64) -> Self {
        let (zh, en) = if retry_after_secs < 120 {
            (
                format!("{retry_after_secs} 秒"),
                format!("{retry_after_secs} seconds"),
            )
        } else {
            let minutes = retry_after_secs.div_ceil(60);
            (format!("{minutes} 分钟"), format!("{minutes} minutes"))
        };
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_ATTEMPTS",
            format!("尝试次数过多，请 {zh}后再试"),
            format!("Too many attempts; try again in {en}"),
        )
        .with_retry_after(retry_after_secs)
    }

    /// Adds a `Retry-After` header (in seconds) to the response.
    pub fn with_retry_after(mut self, retry_after_secs: u64) -> Self {
        self.retry_after_secs = Some(retry_after_secs);
        self
    }

    /// A request body over the endpoint's limit, which the answer names.
    pub fn body_too_large(max_bytes: usize) -> Self {
        let kib = max_bytes / 1024;
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BODY_TOO_LARGE",
            format!("请求内容太大，不能超过 {kib} KB"),
            format!("The request body is too large; at most {kib} KB"),
        )
    }

    /// A server fault: logged with its cause, answered without it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "服务器出错了，请稍后再试",
            "Something went wrong on our side; please try again",
        )
    }

    pub fn validation(errors: FieldErrors) -> Self {
        let details = errors
            .iter()
            .map(|e| ErrorDetail {
                field: e.field.clone(),
                code: e.problem.code().to_owned(),
                message: e.problem.message_zh(),
                message_en: e.problem.message_en(),
            })
            .collect();
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            "提交的内容有误，请检查标出的字段",
            "Some fields are invalid",
        )
        .with_details(details)
    }

    /// One invalid field, for checks made outside the domain's parsers.
    pub fn invalid_field(field: &str, problem: diancan_domain::validation::Problem) -> Self {
        let mut errors = FieldErrors::new();
        errors.add(field, problem);
        Self::validation(errors)
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::validation(errors)
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound => ApiError::not_found(),
            StorageError::Conflict { constraint } => conflict(&constraint),
            StorageError::Refused(code) => refused(code),
            StorageError::StoreDamaged(store_id) => {
                tracing::warn!(%store_id, "request for a store whose row needs repair");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "STORE_UNAVAILABLE",
                    "该门店资料待商家修复，暂时无法使用",
                    "This store's details need repair by the merchant; it is unavailable for now",
                )
            }
            StorageError::Unavailable(cause) => {
                tracing::warn!(%cause, "write refused for now");
                let mut error = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "TRY_AGAIN",
                    "系统繁忙，请稍后重试",
                    "The system is busy; please try again",
                );
                error.retry_after_secs = Some(1);
                error
            }
            other => ApiError::internal(other),
        }
    }
}

/// Names the clash from the constraint (PostgreSQL) or the columns in the message (SQLite).
fn conflict(constraint: &str) -> ApiError {
    let has = |needle: &str| constraint.contains(needle);
    let (code, zh, en) = if has("skus") && has("code") {
        (
            "SKU_CODE_TAKEN",
            "规格编码已被其他菜品使用",
            "This SKU code is already used by another dish",
        )
    } else if has("categories") {
        (
            "CATEGORY_NAME_TAKEN",
            "已有同名分类",
            "A category with this name exists",
        )
    } else if has("printer_stations") {
        (
            "STATION_HAS_PRINTER",
            "该档口已由本店另一台打印机出单",
            "Another printer of this store already prints this station's tickets",
        )
    } else if has("print_agents") {
        (
            "AGENT_NAME_TAKEN",
            "本店已有同名打印助手",
            "This store already has a print agent with this name",
        )
    } else if has("printers") {
        (
            "PRINTER_NAME_TAKEN",
            "本店已有同名打印机",
            "This store already has a printer with this name",
        )
    } else if has("stations") {
        (
            "STATION_NAME_TAKEN",
            "已有同名档口",
            "A station with this name exists",
        )
    } else if has("dining_tables") && has("qr_token") {
        (
            "TABLE_TOKEN_TAKEN",
            "桌码冲突，请重试",
            "Table code clash; try again",
        )
    } else if has("dining_tables") {
        (
            "TABLE_CODE_TAKEN",
            "本店已有同号桌台",
            "This store already has a table with this code",
        )
    } else if has("areas") {
        (
            "AREA_NAME_TAKEN",
            "本店已有同名区域",
            "This store already has an area with this name",
        )
    } else if has("staff") {
        ("LOGIN_TAKEN", "登录名已被使用", "This login name is taken")
    } else {
        ("CONFLICT", "与现有数据冲突", "Conflicts with existing data")
    };
    ApiError::new(StatusCode::CONFLICT, code, zh, en)
}

fn refused(code: &'static str) -> ApiError {
    if code == diancan_storage::carts::CART_FULL {
        let max = diancan_storage::carts::MAX_CART_LINES;
        return ApiError::new(
            StatusCode::CONFLICT,
            code,
            format!("购物车最多 {max} 行，请先下单或合并相同菜品"),
            format!("A cart holds at most {max} lines; order these first or combine lines"),
        );
    }
    let (status, zh, en) = match code {
        "CATEGORY_NOT_EMPTY" => (
            StatusCode::CONFLICT,
            "分类下还有菜品，请先移走或删除菜品",
            "The category still has dishes; move or delete them first",
        ),
        "SKU_IN_COMBO" => (
            StatusCode::CONFLICT,
            "该规格在套餐中使用，请先从套餐移除",
            "This spec is part of a combo; remove it from the combo first",
        ),
        "UNKNOWN_CATEGORY" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "分类不存在",
            "No such category",
        ),
        "UNKNOWN_STATION" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "档口不存在",
            "No such kitchen station",
        ),
        "FALLBACK_IS_SELF" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "备用打印机不能是它自己",
            "A printer cannot be its own fallback",
        ),
        "UNKNOWN_FALLBACK" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "备用打印机不是本店的打印机",
            "The fallback is no printer of this store",
        ),
        "AGENT_REQUIRED" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "经打印助手出单的打印机须指定打印助手",
            "A printer with connection agent names its print agent (agent_id)",
        ),
        "UNKNOWN_AGENT" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "打印助手不是本店的或已撤销",
            "The print agent is not one of this store's, or was revoked",
        ),
        "UNKNOWN_IMAGE" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "图片不存在，请重新上传",
            "No such image; upload it again",
        ),
        "UNKNOWN_SKU" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "规格不存在",
            "No such spec",
        ),
        _ => (StatusCode::CONFLICT, "操作被拒绝", "Refused"),
    };
    ApiError::new(status, code, zh, en)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorPayload {
                code: self.code,
                message: self.message_zh,
                message_en: self.message_en,
                details: self.details,
                quote: self.current.as_ref().and_then(|c| c.quote.clone()),
                order: self.current.as_ref().and_then(|c| c.order.clone()),
                ticket: self.current.and_then(|c| c.ticket),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("handler panicked").into_response()
}

pub type ApiResult<T> = Result<T, ApiError>;

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message_en, self.code)
    }
}

impl std::error::Error for ApiError {}
