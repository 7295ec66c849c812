//! How large a menu file may be, in the terms a merchant can act on (rows, columns, cells).
//! A spreadsheet is zipped XML, so a 2 KB upload can claim a million rows or a billion strings:
//! these limits are checked while reading, before a reader sizes anything by what the file says.

/// The last row a menu sheet may use (the header is row 1): a big chain's menu has a few thousand specs.
pub const MAX_ROWS: u32 = 10_000;
/// The last column a sheet may use (CV): our columns plus plenty of the merchant's own.
pub const MAX_COLUMNS: u32 = 100;
/// Cells a sheet may hold, empty-but-formatted ones included.
pub const MAX_CELLS: u64 = 250_000;
/// Bytes the whole workbook may unpack to.
pub const MAX_UNPACKED_BYTES: u64 = 32 * 1024 * 1024;

/// Which limit a file went past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetLimit {
    Rows,
    Columns,
    Cells,
    UnpackedBytes,
}

impl SheetLimit {
    pub fn max(self) -> u64 {
        match self {
            SheetLimit::Rows => MAX_ROWS.into(),
            SheetLimit::Columns => MAX_COLUMNS.into(),
            SheetLimit::Cells => MAX_CELLS,
            SheetLimit::UnpackedBytes => MAX_UNPACKED_BYTES,
        }
    }

    /// The limit's name in the error details: `rows`, `columns`, `cells`, `unpacked_bytes`.
    pub fn field(self) -> &'static str {
        match self {
            SheetLimit::Rows => "rows",
            SheetLimit::Columns => "columns",
            SheetLimit::Cells => "cells",
            SheetLimit::UnpackedBytes => "unpacked_bytes",
        }
    }

    pub fn message_zh(self) -> String {
        match self {
            SheetLimit::Rows => format!("表格最多 {MAX_ROWS} 行，请删除多余的行后重新导入"),
            SheetLimit::Columns => format!("表格最多 {MAX_COLUMNS} 列，请删除多余的列后重新导入"),
            SheetLimit::Cells => format!("表格最多 {MAX_CELLS} 个单元格，请拆分后分批导入"),
            SheetLimit::UnpackedBytes => format!(
                "表格解压后不能超过 {} MB，请拆分后分批导入",
                MAX_UNPACKED_BYTES / (1024 * 1024)
            ),
        }
    }

    pub fn message_en(self) -> String {
        match self {
            SheetLimit::Rows => {
                format!(
                    "A menu sheet may use at most {MAX_ROWS} rows; delete the extra rows and import again"
                )
            }
            SheetLimit::Columns => format!(
                "A menu sheet may use at most {MAX_COLUMNS} columns; delete the extra columns and import again"
            ),
            SheetLimit::Cells => {
                format!(
                    "A menu sheet may hold at most {MAX_CELLS} cells; split it and import in parts"
                )
            }
            SheetLimit::UnpackedBytes => format!(
                "A workbook may unpack to at most {} MB; split it and import in parts",
                MAX_UNPACKED_BYTES / (1024 * 1024)
            ),
        }
    }
}

/// Checks a cell's 0-based position and the running cell count against the limits.
pub(super) fn check_cell(row: u32, column: u32, cells_so_far: u64) -> Result<(), SheetLimit> {
    if row >= MAX_ROWS {
        Err(SheetLimit::Rows)
    } else if column >= MAX_COLUMNS {
        Err(SheetLimit::Columns)
    } else if cells_so_far > MAX_CELLS {
        Err(SheetLimit::Cells)
    } else {
        Ok(())
    }
}
