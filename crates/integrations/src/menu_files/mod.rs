//! Bulk import and export of a brand's menu as CSV (UTF-8 with BOM, so Excel zh-CN opens it)
//! and XLSX: one row per spec, dish-level columns repeated, every mistake reported by row.

mod columns;
pub mod limits;
mod option_cell;
mod read;
mod write;
mod xlsx;

pub use columns::{COLUMNS, Column};
pub use limits::SheetLimit;
pub use read::{read_any, read_csv, read_xlsx};
pub use write::{write_csv, write_xlsx};

use diancan_domain::catalog::{OptionGroupDraft, SkuDraft};
use diancan_domain::validation::Problem;

/// A whole menu as the spreadsheet lays it out, categories and dishes in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct MenuSheet {
    pub categories: Vec<SheetCategory>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SheetCategory {
    pub name: String,
    pub sort_order: i64,
    pub dishes: Vec<SheetDish>,
}

/// One dish with its specs; the store-facing ids (category, station) are resolved by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetDish {
    pub name: String,
    pub name_en: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// The kitchen station's name as typed; the caller maps it to a `StationId`.
    pub station: Option<String>,
    pub on_shelf: bool,
    pub sort_order: i64,
    pub ingredients: Option<String>,
    pub allergens: Vec<String>,
    pub calories_kcal: Option<i64>,
    pub portion: Option<String>,
    pub skus: Vec<SkuDraft>,
    pub option_groups: Vec<OptionGroupDraft>,
    /// The 1-based spreadsheet row where the dish starts when read; ignored when writing.
    pub first_row: usize,
}

/// One mistake in one cell (or one row when `column` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based spreadsheet row number; the header is row 1.
    pub row: usize,
    /// The Chinese column name, as in the header.
    pub column: Option<String>,
    pub problem: Problem,
}

impl RowError {
    /// `第 12 行: 价格必须大于 0`
    pub fn message_zh(&self) -> String {
        let column = self.column.as_deref().unwrap_or("");
        format!("第 {} 行: {column}{}", self.row, self.problem.message_zh())
    }

    /// `Row 12: 价格 must be greater than 0`
    pub fn message_en(&self) -> String {
        match &self.column {
            Some(column) => format!("Row {}: {column} {}", self.row, self.problem.message_en()),
            None => format!("Row {}: {}", self.row, self.problem.message_en()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MenuFileError {
    #[error("{} rows have problems", .0.len())]
    Rows(Vec<RowError>),
    #[error("missing columns: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    #[error("the CSV file is not UTF-8")]
    NotUtf8,
    #[error("the file cannot be read: {0}")]
    Unreadable(String),
    #[error("the workbook cannot be written: {0}")]
    Unwritable(String),
    #[error("the file has no dishes")]
    Empty,
    /// Past one of the `limits`; nothing was read beyond it.
    #[error("the file is larger than the {} limit", .0.field())]
    TooLarge(SheetLimit),
}

impl MenuFileError {
    pub fn code(&self) -> &'static str {
        match self {
            MenuFileError::Rows(_) => "MENU_FILE_ROWS",
            MenuFileError::MissingColumns(_) => "MENU_FILE_MISSING_COLUMNS",
            MenuFileError::NotUtf8 => "MENU_FILE_NOT_UTF8",
            MenuFileError::Unreadable(_) => "MENU_FILE_UNREADABLE",
            MenuFileError::Unwritable(_) => "MENU_FILE_UNWRITABLE",
            MenuFileError::Empty => "MENU_FILE_EMPTY",
            MenuFileError::TooLarge(_) => "MENU_FILE_TOO_LARGE",
        }
    }

    /// A one-line summary; for `Rows` the caller lists each `RowError` underneath.
    pub fn message_zh(&self) -> String {
        match self {
            MenuFileError::Rows(rows) => format!("有 {} 处错误，请修改后重新导入", rows.len()),
            MenuFileError::MissingColumns(columns) => format!("缺少列：{}", columns.join("、")),
            // Excel zh-CN saves plain "CSV" as GBK; the fix is one menu choice away.
            MenuFileError::NotUtf8 => {
                "文件不是 UTF-8 编码，请在 Excel 中另存为“CSV UTF-8”或 .xlsx".into()
            }
            MenuFileError::Unreadable(_) => "无法读取文件，请使用 .xlsx 或 CSV 格式".into(),
            MenuFileError::Unwritable(_) => "无法生成表格文件".into(),
            MenuFileError::Empty => "文件中没有菜品".into(),
            MenuFileError::TooLarge(limit) => limit.message_zh(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            MenuFileError::Rows(rows) => {
                format!("{} problems found; fix them and import again", rows.len())
            }
            MenuFileError::MissingColumns(columns) => {
                format!("Missing columns: {}", columns.join(", "))
            }
            MenuFileError::NotUtf8 => {
                "The file is not UTF-8; save it as \"CSV UTF-8\" or .xlsx".into()
            }
            MenuFileError::Unreadable(_) => "The file cannot be read; use .xlsx or CSV".into(),
            MenuFileError::Unwritable(_) => "The spreadsheet could not be created".into(),
            MenuFileError::Empty => "The file has no dishes".into(),
            MenuFileError::TooLarge(limit) => limit.message_en(),
        }
    }
}

#[cfg(test)]
mod tests;
