//! Field-level validation problems, collected so a form or an import row shows every mistake at once.

use serde::Serialize;

/// What is wrong with one field. Each has a stable code and a message in Chinese and English.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Problem {
    Required,
    TooLong {
        max: usize,
    },
    TooShort {
        min: usize,
    },
    InvalidCharacters,
    MustBePositive,
    MustNotBeNegative,
    TooLarge {
        max: i64,
    },
    OutOfRange {
        min: i64,
        max: i64,
    },
    NotAMoneyAmount,
    Duplicate,
    UnknownReference,
    InvalidTime,
    InvalidChoice {
        allowed: Vec<String>,
    },
    MinAboveMax,
    Empty,
    /// A stored value that can no longer be read (written by hand, or before a rule existed).
    Unreadable,
}

impl Problem {
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Required => "REQUIRED",
            Problem::TooLong { .. } => "TOO_LONG",
            Problem::TooShort { .. } => "TOO_SHORT",
            Problem::InvalidCharacters => "INVALID_CHARACTERS",
            Problem::MustBePositive => "MUST_BE_POSITIVE",
            Problem::MustNotBeNegative => "MUST_NOT_BE_NEGATIVE",
            Problem::TooLarge { .. } => "TOO_LARGE",
            Problem::OutOfRange { .. } => "OUT_OF_RANGE",
            Problem::NotAMoneyAmount => "NOT_A_MONEY_AMOUNT",
            Problem::Duplicate => "DUPLICATE",
            Problem::UnknownReference => "UNKNOWN_REFERENCE",
            Problem::InvalidTime => "INVALID_TIME",
            Problem::InvalidChoice { .. } => "INVALID_CHOICE",
            Problem::MinAboveMax => "MIN_ABOVE_MAX",
            Problem::Empty => "EMPTY",
            Problem::Unreadable => "UNREADABLE",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            Problem::Required => "必填".into(),
            Problem::TooLong { max } => format!("不能超过 {max} 个字"),
            Problem::TooShort { min } => format!("至少 {min} 个字符"),
            Problem::InvalidCharacters => "包含不允许的字符".into(),
            Problem::MustBePositive => "必须大于 0".into(),
            Problem::MustNotBeNegative => "不能为负数".into(),
            Problem::TooLarge { max } => format!("不能大于 {max}"),
            Problem::OutOfRange { min, max } => format!("必须在 {min} 到 {max} 之间"),
            Problem::NotAMoneyAmount => "不是有效的金额（最多两位小数）".into(),
            Problem::Duplicate => "重复".into(),
            Problem::UnknownReference => "引用的对象不存在".into(),
            Problem::InvalidTime => "时间格式应为 HH:MM".into(),
            Problem::InvalidChoice { allowed } => format!("只能是：{}", allowed.join("、")),
            Problem::MinAboveMax => "最少数量不能大于最多数量".into(),
            Problem::Empty => "至少需要一项".into(),
            Problem::Unreadable => "已保存的内容无法读取，请重新填写".into(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Problem::Required => "is required".into(),
            Problem::TooLong { max } => format!("must be at most {max} characters"),
            Problem::TooShort { min } => format!("must be at least {min} characters"),
            Problem::InvalidCharacters => "contains characters that are not allowed".into(),
            Problem::MustBePositive => "must be greater than 0".into(),
            Problem::MustNotBeNegative => "must not be negative".into(),
            Problem::TooLarge { max } => format!("must be at most {max}"),
            Problem::OutOfRange { min, max } => format!("must be between {min} and {max}"),
            Problem::NotAMoneyAmount => "is not a valid amount (at most two decimals)".into(),
            Problem::Duplicate => "is a duplicate".into(),
            Problem::UnknownReference => "refers to something that does not exist".into(),
            Problem::InvalidTime => "must be a time as HH:MM".into(),
            Problem::InvalidChoice { allowed } => format!("must be one of: {}", allowed.join(", ")),
            Problem::MinAboveMax => "minimum must not exceed maximum".into(),
            Problem::Empty => "needs at least one entry".into(),
            Problem::Unreadable => "cannot be read as saved; enter it again".into(),
        }
    }
}

/// One problem at a field path such as `skus[1].price`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub problem: Problem,
}

/// Every problem found in one input. Empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// One problem with one field.
    pub fn single(field: impl Into<String>, problem: Problem) -> FieldErrors {
        let mut errors = FieldErrors::new();
        errors.add(field, problem);
        errors
    }

    pub fn add(&mut self, field: impl Into<String>, problem: Problem) {
        self.0.push(FieldError {
            field: field.into(),
            problem,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &FieldError> {
        self.0.iter()
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }

    /// `Ok(value)` when nothing was wrong, otherwise every problem.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }

    /// Keeps problems from a nested part of the input, prefixing their field paths.
    pub fn absorb(&mut self, prefix: &str, nested: FieldErrors) {
        for error in nested.0 {
            let field = if error.field.is_empty() {
                prefix.to_owned()
            } else {
                format!("{prefix}.{}", error.field)
            };
            self.0.push(FieldError {
                field,
                problem: error.problem,
            });
        }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.problem.message_en()))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for FieldErrors {}

/// Checks an integer is within `[min, max]`, recording the problem under `field` otherwise.
pub fn check_range(errors: &mut FieldErrors, field: &str, value: i64, min: i64, max: i64) {
    if value < min || value > max {
        errors.add(field, Problem::OutOfRange { min, max });
    }
}
