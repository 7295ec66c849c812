//! The spreadsheet's columns: their Chinese headers, their order, and their width in Excel.

/// One column of the menu spreadsheet, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Category,
    CategorySortOrder,
    Dish,
    NameEn,
    Description,
    Tags,
    Station,
    SkuCode,
    SkuName,
    Price,
    OnShelf,
    Options,
    SortOrder,
    Ingredients,
    Allergens,
    Calories,
    Portion,
}

/// Every column in the order the header lists them.
pub const COLUMNS: [Column; 17] = [
    Column::Category,
    Column::CategorySortOrder,
    Column::Dish,
    Column::NameEn,
    Column::Description,
    Column::Tags,
    Column::Station,
    Column::SkuCode,
    Column::SkuName,
    Column::Price,
    Column::OnShelf,
    Column::Options,
    Column::SortOrder,
    Column::Ingredients,
    Column::Allergens,
    Column::Calories,
    Column::Portion,
];

impl Column {
    pub fn header(self) -> &'static str {
        match self {
            Column::Category => "分类",
            Column::CategorySortOrder => "分类排序",
            Column::Dish => "菜品",
            Column::NameEn => "英文名",
            Column::Description => "描述",
            Column::Tags => "标签",
            Column::Station => "档口",
            Column::SkuCode => "规格编码",
            Column::SkuName => "规格",
            Column::Price => "价格",
            Column::OnShelf => "上架",
            Column::Options => "口味加料",
            Column::SortOrder => "排序",
            Column::Ingredients => "配料",
            Column::Allergens => "过敏原",
            Column::Calories => "热量",
            Column::Portion => "份量",
        }
    }

    /// Excel column width in characters; CJK text counts double.
    pub(crate) fn width(self) -> f64 {
        match self {
            Column::Description | Column::Options => 40.0,
            Column::Ingredients => 24.0,
            Column::Dish | Column::NameEn | Column::Tags | Column::Allergens => 18.0,
            Column::Category
            | Column::Station
            | Column::SkuCode
            | Column::SkuName
            | Column::Portion => 12.0,
            Column::CategorySortOrder
            | Column::Price
            | Column::OnShelf
            | Column::SortOrder
            | Column::Calories => 9.0,
        }
    }
}
