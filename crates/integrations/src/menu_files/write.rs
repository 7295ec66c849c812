//! Writing the menu as CSV or XLSX: one row per spec, dish-level cells repeated on each row
//! so a merchant can sort and filter in Excel without losing which dish a spec belongs to.

use super::columns::{COLUMNS, Column};
use super::option_cell::format_option_groups;
use super::{MenuFileError, MenuSheet, SheetCategory, SheetDish};
use diancan_domain::Money;
use diancan_domain::catalog::SkuDraft;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

/// What goes in one cell; numbers stay numbers in XLSX so Excel can sort and sum them.
enum Cell {
    Text(String),
    Whole(i64),
    Price(Money),
    Blank,
}

impl Cell {
    fn text(self) -> String {
        match self {
            Cell::Text(text) => text,
            Cell::Whole(number) => number.to_string(),
            Cell::Price(price) => price.to_yuan_string(),
            Cell::Blank => String::new(),
        }
    }
}

fn optional(text: &Option<String>) -> Cell {
    text.as_ref().map_or(Cell::Blank, |t| Cell::Text(t.clone()))
}

fn row_cells(category: &SheetCategory, dish: &SheetDish, sku: &SkuDraft) -> [Cell; COLUMNS.len()] {
    COLUMNS.map(|column| match column {
        Column::Category => Cell::Text(category.name.clone()),
        Column::CategorySortOrder => Cell::Whole(category.sort_order),
        Column::Dish => Cell::Text(dish.name.clone()),
        Column::NameEn => optional(&dish.name_en),
        Column::Description => optional(&dish.description),
        Column::Tags => Cell::Text(dish.tags.join("、")),
        Column::Station => optional(&dish.station),
        Column::SkuCode => Cell::Text(sku.code.clone()),
        Column::SkuName => optional(&sku.name),
        Column::Price => Cell::Price(sku.price_fen),
        Column::OnShelf => Cell::Text(if dish.on_shelf { "是" } else { "否" }.into()),
        Column::Options => Cell::Text(format_option_groups(&dish.option_groups)),
        Column::SortOrder => Cell::Whole(dish.sort_order),
        Column::Ingredients => optional(&dish.ingredients),
        Column::Allergens => Cell::Text(dish.allergens.join("、")),
        Column::Calories => dish.calories_kcal.map_or(Cell::Blank, Cell::Whole),
        Column::Portion => optional(&dish.portion),
    })
}

fn spec_rows(sheet: &MenuSheet) -> impl Iterator<Item = [Cell; COLUMNS.len()]> + '_ {
    sheet.categories.iter().flat_map(|category| {
        category.dishes.iter().flat_map(move |dish| {
            dish.skus
                .iter()
                .map(move |sku| row_cells(category, dish, sku))
        })
    })
}

/// UTF-8 with a BOM and CRLF line ends: without the BOM, Excel zh-CN assumes GBK and shows mojibake.
pub fn write_csv(sheet: &MenuSheet) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    // Writing into a Vec cannot fail, so these results carry no information.
    let header = COLUMNS.map(Column::header);
    writer.write_record(header).expect("writing to memory");
    for cells in spec_rows(sheet) {
        writer
            .write_record(cells.map(Cell::text))
            .expect("writing to memory");
    }
    writer.into_inner().expect("writing to memory")
}

pub fn write_xlsx(sheet: &MenuSheet) -> Result<Vec<u8>, MenuFileError> {
    build_workbook(sheet).map_err(|e| MenuFileError::Unwritable(e.to_string()))
}

fn build_workbook(sheet: &MenuSheet) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let worksheet = workbook.add_worksheet();
    worksheet.set_name("菜单")?;
    let bold = Format::new().set_bold();
    for (col, column) in COLUMNS.into_iter().enumerate() {
        let col = col as u16;
        worksheet.write_string_with_format(0, col, column.header(), &bold)?;
        worksheet.set_column_width(col, column.width())?;
    }
    worksheet.set_freeze_panes(1, 0)?;
    let price_format = Format::new().set_num_format("0.00");
    for (index, cells) in spec_rows(sheet).enumerate() {
        let row = index as u32 + 1;
        for (col, cell) in cells.into_iter().enumerate() {
            write_cell(worksheet, row, col as u16, cell, &price_format)?;
        }
    }
    workbook.save_to_buffer()
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: Cell,
    price_format: &Format,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(text) if text.is_empty() => {}
        Cell::Text(text) => {
            sheet.write_string(row, col, text)?;
        }
        Cell::Whole(number) => {
            sheet.write_number(row, col, number as f64)?;
        }
        // A number, not text, so merchants can raise prices with a formula. fen/100 is
        // correctly rounded, and the reader refuses anything that is not whole fen.
        Cell::Price(price) => {
            sheet.write_number_with_format(row, col, price.fen() as f64 / 100.0, price_format)?;
        }
        Cell::Blank => {}
    }
    Ok(())
}
