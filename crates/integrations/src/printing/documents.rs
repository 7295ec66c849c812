//! The papers a restaurant prints, from a neutral input the caller fills from its own order:
//! customer receipt, station kitchen ticket, 加菜 delta ticket, cancel ticket, takeaway packing
//! slip and pickup label. Each renders to one ESC/POS job; a reprint says 重打 at the top.

use super::escpos::{Align, EscPos, EscPosError, QrLevel, Size};
use super::layout::{Paper, item_row, label_value, rule, wrap};
use diancan_domain::money::Money;

/// How the order reached the shop; printed so the kitchen knows where the food goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    DineIn,
    Pickup,
    Delivery,
    Meituan,
    Eleme,
}

impl Channel {
    pub fn label(self) -> &'static str {
        match self {
            Channel::DineIn => "堂食",
            Channel::Pickup => "自取",
            Channel::Delivery => "外送",
            Channel::Meituan => "美团外卖",
            Channel::Eleme => "饿了么",
        }
    }

    /// Orders that leave the shop in a bag get a packing slip.
    pub fn is_takeaway(self) -> bool {
        !matches!(self, Channel::DineIn)
    }
}

/// One ordered item as printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlipLine {
    pub name: String,
    /// Chosen spec and options ("大份", "微辣", "加蛋").
    pub specs: Vec<String>,
    pub note: Option<String>,
    pub quantity: u32,
    /// The line's amount (unit price × quantity, after the line's own discounts).
    pub amount: Money,
    /// The kitchen station that makes it (`None` = no kitchen ticket, e.g. a bottled drink).
    pub station: Option<String>,
}

/// An order as the printers need it. Times are already in the store's time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSlip {
    pub store_name: String,
    pub order_no: String,
    pub pickup_number: Option<String>,
    pub table_code: Option<String>,
    pub channel: Channel,
    pub placed_at: String,
    pub lines: Vec<SlipLine>,
    pub subtotal: Money,
    /// Named deductions and fees ("满减", "打包费"), signed: a discount is negative.
    pub adjustments: Vec<(String, Money)>,
    pub total: Money,
    pub payment: Option<String>,
    pub note: Option<String>,
    /// Diner's address and phone for deliveries, already masked by the caller.
    pub delivery: Option<String>,
    /// Where the diner follows the order (printed as a QR code on the receipt).
    pub status_url: Option<String>,
    pub reprint: bool,
    /// The print job's number, printed small at the foot so a paper can be found again.
    pub job_number: Option<i64>,
}

/// Longest texts accepted; every one fits a handful of lines on 58 mm paper.
pub const MAX_NAME_CHARS: usize = 60;
pub const MAX_NOTE_CHARS: usize = 200;
pub const MAX_LINES: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error(
        "PRINT_TEXT_TOO_LONG: {field} 过长（最多 {max} 字）/ {field} is longer than {max} characters"
    )]
    TextTooLong { field: &'static str, max: usize },
    #[error("PRINT_TOO_MANY_LINES: 菜品行过多 / more than {MAX_LINES} item lines")]
    TooManyLines,
    #[error(
        "PRINT_NOTHING_FOR_STATION: 该档口没有菜品 / no item of this order goes to station {0}"
    )]
    NothingForStation(String),
    #[error("PRINT_NO_SUCH_ITEM: 没有这一项 / the order has no item number {0}")]
    NoSuchItem(usize),
    #[error(transparent)]
    EscPos(#[from] EscPosError),
}

impl DocumentError {
    pub fn code(&self) -> &'static str {
        match self {
            DocumentError::TextTooLong { .. } => "PRINT_TEXT_TOO_LONG",
            DocumentError::TooManyLines => "PRINT_TOO_MANY_LINES",
            DocumentError::NothingForStation(_) => "PRINT_NOTHING_FOR_STATION",
            DocumentError::NoSuchItem(_) => "PRINT_NO_SUCH_ITEM",
            DocumentError::EscPos(e) => e.code(),
        }
    }
}

fn check(field: &'static str, text: &str, max: usize) -> Result<(), DocumentError> {
    if text.chars().count() > max {
        return Err(DocumentError::TextTooLong { field, max });
    }
    Ok(())
}

impl OrderSlip {
    fn validate(&self) -> Result<(), DocumentError> {
        check("store_name", &self.store_name, MAX_NAME_CHARS)?;
        check("order_no", &self.order_no, MAX_NAME_CHARS)?;
        check("placed_at", &self.placed_at, MAX_NAME_CHARS)?;
        for text in [&self.pickup_number, &self.table_code, &self.payment]
            .into_iter()
            .flatten()
        {
            check("header", text, MAX_NAME_CHARS)?;
        }
        for text in [&self.note, &self.delivery, &self.status_url]
            .into_iter()
            .flatten()
        {
            check("note", text, MAX_NOTE_CHARS)?;
        }
        if self.lines.len() > MAX_LINES {
            return Err(DocumentError::TooManyLines);
        }
        for (label, _) in &self.adjustments {
            check("adjustment", label, MAX_NAME_CHARS)?;
        }
        for line in &self.lines {
            check("item name", &line.name, MAX_NAME_CHARS)?;
            for spec in &line.specs {
                check("spec", spec, MAX_NAME_CHARS)?;
            }
            if let Some(note) = &line.note {
                check("item note", note, MAX_NOTE_CHARS)?;
            }
        }
        Ok(())
    }

    /// "取餐号 A012" or "桌号 A3", whichever identifies the order in the shop.
    fn where_to(&self) -> String {
        match (&self.table_code, &self.pickup_number) {
            (Some(table), _) => format!("桌号 {table}"),
            (None, Some(number)) => format!("取餐号 {number}"),
            (None, None) => format!("单号 {}", self.order_no),
        }
    }
}

/// Fen as "28.00": receipts always show two decimals so the amounts align on the point.
pub fn amount_text(money: Money) -> String {
    let fen = money.fen();
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

fn yuan(money: Money) -> String {
    format!("￥{}", amount_text(money))
}

/// A job under construction, with the paper it is for.
struct Sheet {
    job: EscPos,
    paper: Paper,
}

impl Sheet {
    fn start(paper: Paper, reprint: bool) -> Self {
        let mut job = EscPos::new();
        job.init().chinese_mode();
        let mut sheet = Sheet { job, paper };
        if reprint {
            sheet.big_centered("【重打】");
        }
        sheet
    }

    fn cols(&self, size: Size) -> usize {
        self.paper.columns() / size.width_factor()
    }

    fn lines(&mut self, lines: &[String]) {
        for line in lines {
            self.job.line(line);
        }
    }

    fn wrapped(&mut self, text: &str, size: Size, bold: bool) {
        self.job.size(size).bold(bold);
        let lines = wrap(text, self.cols(size));
        self.lines(&lines);
        self.job.bold(false).size(Size::Normal);
    }

    fn big_centered(&mut self, text: &str) {
        self.job.align(Align::Center);
        self.wrapped(text, Size::Double, true);
        self.job.align(Align::Left);
    }

    fn centered(&mut self, text: &str) {
        self.job.align(Align::Center);
        self.wrapped(text, Size::Normal, false);
        self.job.align(Align::Left);
    }

    fn rule(&mut self) {
        let line = rule('-', self.paper.columns());
        self.job.line(&line);
    }

    fn pair(&mut self, label: &str, value: &str) {
        let lines = label_value(label, value, self.paper.columns());
        self.lines(&lines);
    }

    fn finish(mut self, job_number: Option<i64>) -> Vec<u8> {
        if let Some(number) = job_number {
            self.job.align(Align::Right);
            self.job.line(&format!("打印单 #{number}"));
            self.job.align(Align::Left);
        }
        self.job.feed(3).cut();
        self.job.into_bytes()
    }
}

/// The customer's receipt (小票): every line with quantity and amount, adjustments, total,
/// payment and a QR code to follow the order.
pub fn receipt(slip: &OrderSlip, paper: Paper) -> Result<Vec<u8>, DocumentError> {
    slip.validate()?;
    let mut sheet = Sheet::start(paper, slip.reprint);
    sheet.big_centered(&slip.store_name);
    sheet.centered(&format!("{} · {}", slip.channel.label(), slip.where_to()));
    sheet.wrapped(&format!("单号 {}", slip.order_no), Size::Normal, false);
    sheet.wrapped(&format!("时间 {}", slip.placed_at), Size::Normal, false);
    sheet.rule();
    let cols = paper.item_columns();
    let head = item_row("品名", "数量", "金额", cols);
    sheet.lines(&head);
    for line in &slip.lines {
        let rows = item_row(
            &line.name,
            &format!("x{}", line.quantity),
            &amount_text(line.amount),
            cols,
        );
        sheet.lines(&rows);
        if !line.specs.is_empty() {
            let specs = wrap(&format!("  {}", line.specs.join("/")), cols.name - 1);
            sheet.lines(&specs);
        }
    }
    sheet.rule();
    sheet.pair("小计", &yuan(slip.subtotal));
    for (label, money) in &slip.adjustments {
        sheet.pair(label, &yuan(*money));
    }
    sheet.job.bold(true);
    sheet.pair("合计", &yuan(slip.total));
    sheet.job.bold(false);
    if let Some(payment) = &slip.payment {
        sheet.pair("支付方式", payment);
    }
    if let Some(note) = &slip.note {
        sheet.wrapped(&format!("备注：{note}"), Size::Normal, true);
    }
    if let Some(url) = &slip.status_url {
        sheet.job.align(Align::Center);
        sheet.job.qr(url, 6, QrLevel::M)?;
        sheet.job.line("");
        sheet.centered("扫码查看订单");
    }
    Ok(sheet.finish(slip.job_number))
}

fn station_lines<'a>(slip: &'a OrderSlip, station: &str) -> Vec<&'a SlipLine> {
    slip.lines
        .iter()
        .filter(|line| line.station.as_deref() == Some(station))
        .collect()
}

/// Big type for the cooks: each item with its quantity on one double-size line, specs and the
/// item's note beneath in normal size.
fn kitchen_items(sheet: &mut Sheet, lines: &[&SlipLine], strike: bool) {
    for line in lines {
        let prefix = if strike { "退 " } else { "" };
        let wide = sheet.cols(Size::Double);
        let rows = label_value(
            &format!("{prefix}{}", line.name),
            &format!("x{}", line.quantity),
            wide,
        );
        sheet.job.size(Size::Double).bold(true);
        sheet.lines(&rows);
        sheet.job.bold(false).size(Size::Normal);
        if !line.specs.is_empty() {
            sheet.wrapped(&format!("  {}", line.specs.join(" ")), Size::Normal, false);
        }
        if let Some(note) = &line.note {
            sheet.wrapped(&format!("  备注：{note}"), Size::Normal, true);
        }
    }
}

enum KitchenKind {
    New,
    Added,
    Cancelled,
}

fn station_ticket(
    slip: &OrderSlip,
    station: &str,
    paper: Paper,
    kind: KitchenKind,
) -> Result<Vec<u8>, DocumentError> {
    slip.validate()?;
    let lines = station_lines(slip, station);
    if lines.is_empty() {
        return Err(DocumentError::NothingForStation(station.to_owned()));
    }
    let mut sheet = Sheet::start(paper, slip.reprint);
    let title = match kind {
        KitchenKind::New => format!("{}单", station),
        KitchenKind::Added => format!("加菜 · {station}"),
        KitchenKind::Cancelled => format!("退菜 · {station}"),
    };
    sheet.big_centered(&title);
    sheet.big_centered(&slip.where_to());
    sheet.wrapped(
        &format!("{} 单号 {}", slip.channel.label(), slip.order_no),
        Size::Normal,
        false,
    );
    sheet.wrapped(&format!("时间 {}", slip.placed_at), Size::Normal, false);
    sheet.rule();
    kitchen_items(&mut sheet, &lines, matches!(kind, KitchenKind::Cancelled));
    sheet.rule();
    if let Some(note) = &slip.note {
        sheet.wrapped(&format!("整单备注：{note}"), Size::DoubleHeight, true);
    }
    Ok(sheet.finish(slip.job_number))
}

/// The ticket for one kitchen station (厨打): only the items that station makes.
pub fn kitchen_ticket(
    slip: &OrderSlip,
    station: &str,
    paper: Paper,
) -> Result<Vec<u8>, DocumentError> {
    station_ticket(slip, station, paper, KitchenKind::New)
}

/// 加菜: a station's ticket for a further round; `slip.lines` holds that round's items only.
pub fn delta_ticket(
    slip: &OrderSlip,
    station: &str,
    paper: Paper,
) -> Result<Vec<u8>, DocumentError> {
    station_ticket(slip, station, paper, KitchenKind::Added)
}

/// 退菜: tells a station to stop making the listed items (`slip.lines` holds the cancelled ones).
pub fn cancel_ticket(
    slip: &OrderSlip,
    station: &str,
    paper: Paper,
) -> Result<Vec<u8>, DocumentError> {
    station_ticket(slip, station, paper, KitchenKind::Cancelled)
}

/// Goes into the bag of a takeaway: every item to check off, the pickup number and address,
/// no prices (the diner's receipt has them).
pub fn packing_slip(slip: &OrderSlip, paper: Paper) -> Result<Vec<u8>, DocumentError> {
    slip.validate()?;
    let mut sheet = Sheet::start(paper, slip.reprint);
    sheet.big_centered(&format!("打包单 {}", slip.where_to()));
    sheet.centered(&format!("{} · {}", slip.store_name, slip.channel.label()));
    sheet.wrapped(&format!("单号 {}", slip.order_no), Size::Normal, false);
    sheet.rule();
    for line in &slip.lines {
        let specs = if line.specs.is_empty() {
            String::new()
        } else {
            format!("（{}）", line.specs.join("/"))
        };
        sheet.pair(
            &format!("□ {}{specs}", line.name),
            &format!("x{}", line.quantity),
        );
    }
    sheet.rule();
    if let Some(delivery) = &slip.delivery {
        sheet.wrapped(&format!("送至：{delivery}"), Size::Normal, true);
    }
    if let Some(note) = &slip.note {
        sheet.wrapped(&format!("备注：{note}"), Size::Normal, true);
    }
    Ok(sheet.finish(slip.job_number))
}

/// A label stuck on one bag or cup: pickup number huge, the item, and which of how many it is.
pub fn pickup_label(slip: &OrderSlip, item: usize, paper: Paper) -> Result<Vec<u8>, DocumentError> {
    slip.validate()?;
    let line = slip
        .lines
        .get(item)
        .ok_or(DocumentError::NoSuchItem(item))?;
    let mut sheet = Sheet::start(paper, slip.reprint);
    sheet.big_centered(&slip.where_to());
    sheet.pair(
        slip.channel.label(),
        &format!("{}/{}", item + 1, slip.lines.len()),
    );
    sheet.wrapped(
        &format!("{} x{}", line.name, line.quantity),
        Size::DoubleHeight,
        true,
    );
    if !line.specs.is_empty() {
        sheet.wrapped(&line.specs.join(" "), Size::Normal, false);
    }
    if let Some(note) = &line.note {
        sheet.wrapped(&format!("备注：{note}"), Size::Normal, false);
    }
    sheet.wrapped(
        &format!("{} {}", slip.store_name, slip.placed_at),
        Size::Normal,
        false,
    );
    Ok(sheet.finish(slip.job_number))
}

/// A test page: the printer's name, its paper's full width of columns, Chinese text and ￥, so
/// whoever set it up sees at once whether encoding and width are right.
pub fn test_page(
    printer_name: &str,
    paper: Paper,
    at: &str,
    reprint: bool,
    job_number: Option<i64>,
) -> Result<Vec<u8>, DocumentError> {
    check("printer name", printer_name, MAX_NAME_CHARS)?;
    check("time", at, MAX_NAME_CHARS)?;
    let mut sheet = Sheet::start(paper, reprint);
    sheet.big_centered("打印测试");
    sheet.centered(printer_name);
    sheet.rule();
    sheet.pair("纸宽", &format!("{} 列", paper.columns()));
    sheet.pair("中文与金额", &yuan(Money::from_fen(1850)));
    sheet.wrapped(&format!("时间 {at}"), Size::Normal, false);
    sheet.rule();
    Ok(sheet.finish(job_number))
}
