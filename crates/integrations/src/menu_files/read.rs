//! Reading a menu file: bytes → rows of text → dishes checked by the domain, all or nothing,
//! with every problem tied to the spreadsheet row and column the merchant sees.

use super::columns::{COLUMNS, Column};
use super::limits;
use super::option_cell::parse_option_groups;
use super::{MenuFileError, MenuSheet, RowError, SheetCategory, SheetDish};
use diancan_domain::catalog::{DishDraft, DishKind, MAX_SORT_ORDER, SkuDraft};
use diancan_domain::schedule::Schedule;
use diancan_domain::text::Name;
use diancan_domain::validation::{FieldError, Problem};
use diancan_domain::{BrandId, CategoryId, DishId, Money};
use std::collections::{HashMap, HashSet};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const MAX_CALORIES_KCAL: i64 = 10_000;

/// Picks the reader by content first: browsers and phones often mangle file names.
pub fn read_any(file_name: &str, bytes: &[u8]) -> Result<MenuSheet, MenuFileError> {
    if bytes.starts_with(ZIP_MAGIC) {
        return read_xlsx(bytes);
    }
    let extension = file_name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    match extension.as_deref() {
        Some("xlsx" | "xlsm" | "xls") => Err(MenuFileError::Unreadable(
            "not an .xlsx workbook (old .xls files must be re-saved)".into(),
        )),
        _ => read_csv(bytes),
    }
}

pub fn read_csv(bytes: &[u8]) -> Result<MenuSheet, MenuFileError> {
    let text = std::str::from_utf8(bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes))
        .map_err(|_| MenuFileError::NotUtf8)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut cells: u64 = 0;
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| MenuFileError::Unreadable(e.to_string()))?;
        // The same limits as a workbook: a line of commas is a sheet of empty cells.
        cells += record.len() as u64;
        let last_column = record.len().saturating_sub(1) as u32;
        let row = u32::try_from(index).unwrap_or(u32::MAX);
        limits::check_cell(row, last_column, cells).map_err(MenuFileError::TooLarge)?;
        // Excel shows one record per row, even when a quoted cell spans several lines.
        rows.push(NumberedRow {
            number: index + 1,
            cells: record.iter().map(str::to_owned).collect(),
        });
    }
    parse_rows(rows)
}

/// Reads the first sheet of an .xlsx workbook; see `xlsx` for how its size is kept in check.
pub fn read_xlsx(bytes: &[u8]) -> Result<MenuSheet, MenuFileError> {
    parse_rows(super::xlsx::sheet_rows(bytes)?)
}

/// One spreadsheet row as text, with the row number Excel shows for it.
pub(super) struct NumberedRow {
    pub(super) number: usize,
    pub(super) cells: Vec<String>,
}

impl NumberedRow {
    fn is_blank(&self) -> bool {
        self.cells.iter().all(|cell| cell.trim().is_empty())
    }
}

/// A data row with its cells looked up by column.
struct MenuRow<'a> {
    number: usize,
    cells: &'a [String],
    positions: &'a [usize; COLUMNS.len()],
}

impl MenuRow<'_> {
    fn get(&self, column: Column) -> &str {
        self.cells
            .get(self.positions[column as usize])
            .map_or("", |cell| cell.trim())
    }

    fn optional(&self, column: Column) -> Option<String> {
        Some(self.get(column))
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    }
}

fn parse_rows(rows: Vec<NumberedRow>) -> Result<MenuSheet, MenuFileError> {
    let mut rows = rows.into_iter().filter(|row| !row.is_blank());
    let header = rows.next().ok_or(MenuFileError::Empty)?;
    let positions = locate_columns(&header.cells)?;
    let mut menu = MenuBuilder::default();
    for row in rows {
        menu.add_row(&MenuRow {
            number: row.number,
            cells: &row.cells,
            positions: &positions,
        });
    }
    menu.finish()
}

/// Finds each column by its header, so merchants may reorder or add columns of their own.
fn locate_columns(header: &[String]) -> Result<[usize; COLUMNS.len()], MenuFileError> {
    let mut positions = [0; COLUMNS.len()];
    let mut missing = Vec::new();
    for column in COLUMNS {
        match header
            .iter()
            .position(|cell| cell.trim().trim_start_matches('\u{feff}') == column.header())
        {
            Some(position) => positions[column as usize] = position,
            None => missing.push(column.header().to_owned()),
        }
    }
    if missing.is_empty() {
        Ok(positions)
    } else {
        Err(MenuFileError::MissingColumns(missing))
    }
}

/// A problem at a cell, kept with its `Column` so errors sort in the file's column order.
#[derive(PartialEq)]
struct CellProblem {
    row: usize,
    column: Option<Column>,
    problem: Problem,
}

struct DishInProgress {
    category: usize,
    dish: SheetDish,
    /// The row of each spec, so `skus[i]` problems point at the right line.
    sku_rows: Vec<usize>,
}

#[derive(Default)]
struct MenuBuilder {
    categories: Vec<SheetCategory>,
    category_by_name: HashMap<String, usize>,
    dishes: Vec<DishInProgress>,
    dish_by_name: HashMap<String, usize>,
    previous_dish: Option<usize>,
    /// Codes are how POS and later imports find a spec, so they are unique brand-wide.
    sku_code_rows: HashMap<String, usize>,
    problems: Vec<CellProblem>,
}

impl MenuBuilder {
    fn report(&mut self, row: usize, column: Column, problem: Problem) {
        self.problems.push(CellProblem {
            row,
            column: Some(column),
            problem,
        });
    }

    /// A row repeating the previous row's dish name, or with no name at all, adds a spec to that dish.
    fn add_row(&mut self, row: &MenuRow) {
        let name = row.get(Column::Dish);
        let existing = if name.is_empty() {
            self.previous_dish
        } else {
            self.dish_by_name.get(name).copied()
        };
        let dish = match existing {
            // A dish's rows sit together, so a spec's row is its dish's first row plus its index;
            // a name coming back later is more likely a second dish typed by mistake.
            Some(dish) if Some(dish) != self.previous_dish => {
                return self.report(row.number, Column::Dish, Problem::Duplicate);
            }
            Some(dish) => {
                self.check_same_category(dish, row);
                dish
            }
            None if name.is_empty() => {
                return self.report(row.number, Column::Dish, Problem::Required);
            }
            None => self.start_dish(row),
        };
        self.add_sku(dish, row);
        self.previous_dish = Some(dish);
    }

    fn start_dish(&mut self, row: &MenuRow) -> usize {
        let category = self.category_for(row);
        let dish = SheetDish {
            name: row.get(Column::Dish).to_owned(),
            name_en: row.optional(Column::NameEn),
            description: row.optional(Column::Description),
            tags: split_list(row.get(Column::Tags)),
            station: self.station(row),
            on_shelf: self
                .cell_value(row, Column::OnShelf, parse_on_shelf)
                .unwrap_or(true),
            sort_order: self
                .cell_value(row, Column::SortOrder, |t| parse_whole(t, MAX_SORT_ORDER))
                .flatten()
                .unwrap_or(0),
            ingredients: row.optional(Column::Ingredients),
            allergens: split_list(row.get(Column::Allergens)),
            calories_kcal: self
                .cell_value(row, Column::Calories, |t| parse_whole(t, MAX_CALORIES_KCAL))
                .flatten(),
            portion: row.optional(Column::Portion),
            skus: Vec::new(),
            option_groups: self
                .cell_value(row, Column::Options, parse_option_groups)
                .unwrap_or_default(),
            first_row: row.number,
        };
        self.dish_by_name
            .insert(dish.name.clone(), self.dishes.len());
        self.dishes.push(DishInProgress {
            category,
            dish,
            sku_rows: Vec::new(),
        });
        self.dishes.len() - 1
    }

    /// Parses one cell, recording its problem and returning `None` when it is wrong.
    fn cell_value<T>(
        &mut self,
        row: &MenuRow,
        column: Column,
        parse: impl Fn(&str) -> Result<T, Problem>,
    ) -> Option<T> {
        match parse(row.get(column)) {
            Ok(value) => Some(value),
            Err(problem) => {
                self.report(row.number, column, problem);
                None
            }
        }
    }

    /// The category a new dish goes in; the first row naming a category sets its order.
    fn category_for(&mut self, row: &MenuRow) -> usize {
        let name = row.get(Column::Category);
        // Checked on every dish's row, so each row missing its category is pointed out.
        if let Err(problem) = Name::parse(name) {
            self.report(row.number, Column::Category, problem);
        }
        if let Some(&index) = self.category_by_name.get(name) {
            return index;
        }
        let sort_order = self
            .cell_value(row, Column::CategorySortOrder, |t| {
                parse_whole(t, MAX_SORT_ORDER)
            })
            .flatten()
            .unwrap_or(0);
        self.categories.push(SheetCategory {
            name: name.to_owned(),
            sort_order,
            dishes: Vec::new(),
        });
        self.category_by_name
            .insert(name.to_owned(), self.categories.len() - 1);
        self.categories.len() - 1
    }

    fn station(&mut self, row: &MenuRow) -> Option<String> {
        let station = row.optional(Column::Station)?;
        self.cell_value(row, Column::Station, |t| {
            Name::parse(t).map(Name::into_string)
        })?;
        Some(station)
    }

    /// A dish lives in one category; rows that say otherwise are a mistake, not a move.
    fn check_same_category(&mut self, dish: usize, row: &MenuRow) {
        let category = &self.categories[self.dishes[dish].category].name;
        let named = row.get(Column::Category);
        if !named.is_empty() && !category.is_empty() && named != category {
            let allowed = vec![category.clone()];
            self.report(
                row.number,
                Column::Category,
                Problem::InvalidChoice { allowed },
            );
        }
    }

    fn add_sku(&mut self, dish: usize, row: &MenuRow) {
        let code = row.get(Column::SkuCode).to_owned();
        if !code.is_empty()
            && self
                .sku_code_rows
                .insert(code.clone(), row.number)
                .is_some()
        {
            self.report(row.number, Column::SkuCode, Problem::Duplicate);
        }
        // A placeholder keeps the row's other cells checked; the price problem is already reported.
        let price = self
            .cell_value(row, Column::Price, parse_price)
            .unwrap_or(Money::ZERO);
        let sku = SkuDraft {
            id: None,
            code,
            name: row.optional(Column::SkuName),
            name_en: None,
            price_fen: price,
        };
        let in_progress = &mut self.dishes[dish];
        in_progress.dish.skus.push(sku);
        in_progress.sku_rows.push(row.number);
    }

    fn finish(mut self) -> Result<MenuSheet, MenuFileError> {
        if self.dishes.is_empty() && self.problems.is_empty() {
            return Err(MenuFileError::Empty);
        }
        let domain_problems: Vec<CellProblem> =
            self.dishes.iter().flat_map(domain_problems).collect();
        self.merge(domain_problems);
        if !self.problems.is_empty() {
            return Err(MenuFileError::Rows(self.into_row_errors()));
        }
        for in_progress in self.dishes {
            self.categories[in_progress.category]
                .dishes
                .push(in_progress.dish);
        }
        Ok(MenuSheet {
            categories: self.categories,
        })
    }

    /// The domain re-checks what the sheet already flagged (a bad price is also "not positive");
    /// the merchant needs to hear about each cell once.
    fn merge(&mut self, domain_problems: Vec<CellProblem>) {
        let flagged: HashSet<(usize, Option<Column>)> =
            self.problems.iter().map(|p| (p.row, p.column)).collect();
        for problem in domain_problems {
            if !flagged.contains(&(problem.row, problem.column))
                && !self.problems.contains(&problem)
            {
                self.problems.push(problem);
            }
        }
    }

    fn into_row_errors(mut self) -> Vec<RowError> {
        self.problems.sort_by_key(|p| (p.row, p.column));
        self.problems
            .into_iter()
            .map(|p| RowError {
                row: p.row,
                column: p.column.map(|c| c.header().to_owned()),
                problem: p.problem,
            })
            .collect()
    }
}

/// Runs the dish through the same rules as the back-office form.
fn domain_problems(in_progress: &DishInProgress) -> Vec<CellProblem> {
    let dish = &in_progress.dish;
    let draft = DishDraft {
        category_id: CategoryId::new(),
        kind: DishKind::Single,
        name: dish.name.clone(),
        name_en: dish.name_en.clone(),
        description: dish.description.clone(),
        description_en: None,
        tags: dish.tags.clone(),
        ingredients: dish.ingredients.clone(),
        allergens: dish.allergens.clone(),
        calories_kcal: dish.calories_kcal,
        portion: dish.portion.clone(),
        sort_order: dish.sort_order,
        station_id: None,
        on_shelf: dish.on_shelf,
        availability: Schedule::default(),
        image_ids: Vec::new(),
        skus: dish.skus.clone(),
        option_groups: dish.option_groups.clone(),
        combo_slots: Vec::new(),
    };
    match draft.parse(DishId::new(), BrandId::new(), &HashSet::new()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .into_vec()
            .into_iter()
            .map(|error| locate(error, in_progress))
            .collect(),
    }
}

/// Maps a domain field path (`skus[1].price_fen`, `option_groups[0].min_select`) to a cell.
fn locate(error: FieldError, in_progress: &DishInProgress) -> CellProblem {
    let first_row = in_progress.dish.first_row;
    let (row, column) = match error
        .field
        .strip_prefix("skus[")
        .and_then(|rest| rest.split_once(']'))
    {
        Some((index, rest)) => {
            let row = index
                .parse::<usize>()
                .ok()
                .and_then(|i| in_progress.sku_rows.get(i));
            let column = match rest {
                ".code" => Column::SkuCode,
                ".price_fen" => Column::Price,
                _ => Column::SkuName,
            };
            (row.copied().unwrap_or(first_row), Some(column))
        }
        None => (first_row, dish_column(&error.field)),
    };
    CellProblem {
        row,
        column,
        problem: error.problem,
    }
}

fn dish_column(field: &str) -> Option<Column> {
    let head = field.split(['[', '.']).next().unwrap_or(field);
    Some(match head {
        "name" => Column::Dish,
        "name_en" => Column::NameEn,
        "description" => Column::Description,
        "tags" => Column::Tags,
        "ingredients" => Column::Ingredients,
        "allergens" => Column::Allergens,
        "calories_kcal" => Column::Calories,
        "portion" => Column::Portion,
        "sort_order" => Column::SortOrder,
        "option_groups" => Column::Options,
        "skus" => Column::SkuName,
        _ => return None,
    })
}

fn split_list(cell: &str) -> Vec<String> {
    cell.split(['、', ',', '，'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_price(cell: &str) -> Result<Money, Problem> {
    if cell.is_empty() {
        return Err(Problem::Required);
    }
    Money::parse_yuan(cell).map_err(|_| Problem::NotAMoneyAmount)
}

/// Blank means on the shelf: a new dish is usually meant to be sold.
fn parse_on_shelf(cell: &str) -> Result<bool, Problem> {
    match cell.to_ascii_lowercase().as_str() {
        "" | "是" | "y" | "yes" | "1" | "true" => Ok(true),
        "否" | "n" | "no" | "0" | "false" => Ok(false),
        _ => Err(Problem::InvalidChoice {
            allowed: vec!["是".into(), "否".into()],
        }),
    }
}

/// A whole number from 0 to `max`; blank is `None`.
fn parse_whole(cell: &str, max: i64) -> Result<Option<i64>, Problem> {
    if cell.is_empty() {
        return Ok(None);
    }
    match cell.parse::<i64>() {
        Ok(value) if (0..=max).contains(&value) => Ok(Some(value)),
        _ => Err(Problem::OutOfRange { min: 0, max }),
    }
}
