//! WeChat Pay's daily trade bill (交易账单, `GET /v3/bill/tradebill`): a CSV whose every value
//! starts with a backtick and whose amounts are yuan, while the API counts fen. Reading it
//! converts each amount once and checks the rows against the bill's own summary.
//!
//! Layout from WeChat's documentation, not from a published vector: columns are found by
//! their Chinese names, so an added column does not shift the others.

use crate::payments::error::PaymentError;
use crate::payments::model::StatementProblem;
use crate::payments::yuan;
use diancan_domain::money::Money;

/// One row: a payment (`SUCCESS`) or a refund (`REFUND`) as the bill states it, in fen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillRow {
    pub traded_at: String,
    pub transaction_id: String,
    pub out_trade_no: String,
    /// 交易状态: `SUCCESS`, `REFUND`, `REVOKED`.
    pub state: String,
    /// 应结订单金额: what the merchant is settled for this payment.
    pub settled: Money,
    pub out_refund_no: Option<String>,
    /// 退款金额.
    pub refund: Money,
    /// 手续费 (negative on refunds).
    pub fee: Money,
    /// 订单金额: the order total before the gateway's coupons.
    pub order_amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeBill {
    pub rows: Vec<BillRow>,
    /// Lines that could not be read: each is left out and reported, the rest of the bill
    /// still counts (one torn line must not hide a day's mismatches).
    pub problems: Vec<StatementProblem>,
    pub settled_total: Money,
    pub refund_total: Money,
    pub fee_total: Money,
}

/// The header names of the columns we read.
const COLUMNS: [&str; 9] = [
    "交易时间",
    "微信订单号",
    "商户订单号",
    "交易状态",
    "应结订单金额",
    "商户退款单号",
    "退款金额",
    "手续费",
    "订单金额",
];
/// The summary header and the columns of its totals.
const SUMMARY_HEADER: &str = "总交易单数";
const SUMMARY_COLUMNS: [&str; 4] = ["总交易单数", "应结订单总金额", "退款总金额", "手续费总金额"];

fn value(cell: &str) -> &str {
    cell.trim().trim_start_matches('`')
}

fn money(column: &'static str, cell: &str) -> Result<Money, PaymentError> {
    let text = value(cell);
    match text.strip_prefix('-') {
        // A parsed amount is never negative, so its negation always fits.
        Some(positive) => yuan::parse(column, positive).map(|m| Money::from_fen(-m.fen())),
        None => yuan::parse(column, text),
    }
}

fn positions(header: &[&str], wanted: &[&'static str]) -> Result<Vec<usize>, PaymentError> {
    wanted
        .iter()
        .map(|name| {
            header
                .iter()
                .position(|h| value(h) == *name)
                .ok_or_else(|| PaymentError::malformed(format!("bill without column {name}")))
        })
        .collect()
}

/// Reads a trade bill of type `ALL`. A row that cannot be read is reported in `problems`;
/// the summary's count must still cover it, and the totals are held against the rows only
/// when every row was read (a left-out row's amounts are unknown).
pub fn parse_trade_bill(text: &str) -> Result<TradeBill, PaymentError> {
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or_else(|| PaymentError::malformed("empty bill"))?
        .1
        .split(',')
        .collect();
    let at = positions(&header, &COLUMNS)?;
    let free_text = header
        .iter()
        .position(|h| value(h) == "商品名称")
        .unwrap_or(header.len());
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut summary = None;
    while let Some((number, line)) = lines.next() {
        let cells: Vec<&str> = line.split(',').collect();
        if value(cells[0]) == SUMMARY_HEADER {
            let totals_at = positions(&cells, &SUMMARY_COLUMNS)?;
            let totals: Vec<&str> = lines
                .next()
                .ok_or_else(|| PaymentError::malformed("bill summary without totals"))?
                .1
                .split(',')
                .collect();
            let cell = |i: usize| totals.get(totals_at[i]).copied().unwrap_or("");
            let count: usize = value(cell(0))
                .parse()
                .map_err(|_| PaymentError::malformed("bill count is not a number"))?;
            summary = Some((
                count,
                money("应结订单总金额", cell(1))?,
                money("退款总金额", cell(2))?,
                money("手续费总金额", cell(3))?,
            ));
            break;
        }
        match row(&cells, header.len(), &at, free_text) {
            Ok(row) => rows.push(row),
            Err(error) => problems.push(StatementProblem {
                line: number,
                reason: error.to_string(),
            }),
        }
    }
    let (count, settled_total, refund_total, fee_total) =
        summary.ok_or_else(|| PaymentError::malformed("bill without summary"))?;
    if count != rows.len() + problems.len() {
        return Err(PaymentError::Mismatch {
            field: "bill count",
        });
    }
    if problems.is_empty() {
        let sum = |f: fn(&BillRow) -> Money| {
            Money::checked_sum(rows.iter().map(f))
                .ok_or(PaymentError::malformed("bill totals overflow"))
        };
        if sum(|r| r.settled)? != settled_total {
            return Err(PaymentError::Mismatch {
                field: "bill settled total",
            });
        }
        if sum(|r| r.refund)? != refund_total {
            return Err(PaymentError::Mismatch {
                field: "bill refund total",
            });
        }
        if sum(|r| r.fee)? != fee_total {
            return Err(PaymentError::Mismatch {
                field: "bill fee total",
            });
        }
    }
    Ok(TradeBill {
        rows,
        problems,
        settled_total,
        refund_total,
        fee_total,
    })
}

/// One payment or refund line of the bill.
fn row(
    cells: &[&str],
    columns: usize,
    at: &[usize],
    free_text: usize,
) -> Result<BillRow, PaymentError> {
    // 商品名称 and 商户数据包 are free text and may hold commas: columns after the first of
    // them are counted from the end of the row.
    if cells.len() < columns {
        return Err(PaymentError::malformed("bill row too short"));
    }
    let extra = cells.len() - columns;
    let cell = |i: usize| -> &str {
        let index = if at[i] < free_text {
            at[i]
        } else {
            at[i] + extra
        };
        cells[index]
    };
    let out_refund_no = value(cell(5));
    Ok(BillRow {
        traded_at: value(cell(0)).to_owned(),
        transaction_id: value(cell(1)).to_owned(),
        out_trade_no: value(cell(2)).to_owned(),
        state: value(cell(3)).to_owned(),
        settled: money("应结订单金额", cell(4))?,
        out_refund_no: (!out_refund_no.is_empty() && out_refund_no != "0")
            .then(|| out_refund_no.to_owned()),
        refund: money("退款金额", cell(6))?,
        fee: money("手续费", cell(7))?,
        order_amount: money("订单金额", cell(8))?,
    })
}

/// The header of a trade bill of type `ALL`, as WeChat writes it.
pub const TRADE_BILL_HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";

#[cfg(test)]
mod tests {
    use super::*;

    fn bill(rows: &[&str], summary: &str) -> String {
        let mut text = format!("{TRADE_BILL_HEADER}\n");
        for row in rows {
            text.push_str(row);
            text.push('\n');
        }
        text.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n");
        text.push_str(summary);
        text.push('\n');
        text
    }

    const PAID: &str = "`2024-01-01 12:00:05,`wxd678efh567hg6787,`1230000109,`0,`,`4200000000202401010000000001,`1217752501201407033233368018,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`38.00,`0.00,`0,`0,`0.00,`0.00,`,`,`牛肉面, 大碗,`,`0.23,`0.60%,`38.00,`0.00,`";
    const REFUNDED: &str = "`2024-01-01 13:00:00,`wxd678efh567hg6787,`1230000109,`0,`,`4200000000202401010000000001,`1217752501201407033233368018,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50000000382019052709732678859,`R1,`8.00,`0.00,`ORIGINAL,`SUCCESS,`牛肉面,`,`-0.05,`0.60%,`0.00,`8.00,`";

    #[test]
    fn yuan_in_the_bill_becomes_fen_and_adds_up() {
        let text = bill(
            &[PAID, REFUNDED],
            "`2,`38.00,`8.00,`0.00,`0.18,`38.00,`8.00",
        );
        let parsed = parse_trade_bill(&text).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        let paid = &parsed.rows[0];
        assert_eq!(paid.settled, Money::from_fen(3800));
        assert_eq!(paid.fee, Money::from_fen(23));
        assert_eq!(
            paid.order_amount,
            Money::from_fen(3800),
            "found past the comma in 商品名称"
        );
        assert_eq!(paid.out_refund_no, None);
        let refund = &parsed.rows[1];
        assert_eq!(refund.refund, Money::from_fen(800));
        assert_eq!(refund.fee, Money::from_fen(-5));
        assert_eq!(refund.out_refund_no.as_deref(), Some("R1"));
        assert_eq!(parsed.fee_total, Money::from_fen(18));
    }

    #[test]
    fn a_bill_that_does_not_add_up_is_refused() {
        let wrong_total = bill(
            &[PAID, REFUNDED],
            "`2,`38.01,`8.00,`0.00,`0.18,`38.00,`8.00",
        );
        assert_eq!(
            parse_trade_bill(&wrong_total),
            Err(PaymentError::Mismatch {
                field: "bill settled total"
            })
        );
        let wrong_count = bill(&[PAID], "`2,`38.00,`0.00,`0.00,`0.23,`38.00,`0.00");
        assert_eq!(
            parse_trade_bill(&wrong_count),
            Err(PaymentError::Mismatch {
                field: "bill count"
            })
        );
        assert!(parse_trade_bill("").is_err());
        assert!(parse_trade_bill("a,b,c\n").is_err());
    }

    #[test]
    fn a_torn_or_unreadable_line_is_left_out_and_reported_not_the_whole_bill() {
        // One line cut short, one with an amount in fen-with-three-decimals: both reported by
        // line number; the good payment is still read, and the summary's count covers all.
        let three_decimals = PAID
            .replace("`38.00,`0.00,`0,`0", "`38.005,`0.00,`0,`0")
            .replace(
                "4200000000202401010000000001",
                "4200000000202401010000000002",
            );
        let text = bill(
            &[PAID, "`2024-01-01 12:00:05,`wx", &three_decimals],
            "`3,`99.99,`0.00,`0.00,`0.23,`38.00,`0.00",
        );
        let parsed = parse_trade_bill(&text).unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].settled, Money::from_fen(3800));
        let lines: Vec<usize> = parsed.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4]);
        assert!(parsed.problems[0].reason.contains("too short"));
        assert!(parsed.problems[1].reason.contains("38.005"));
        // The count still has to cover every line, read or not.
        let short_count = bill(
            &[PAID, "`2024-01-01 12:00:05,`wx"],
            "`1,`38.00,`0.00,`0.00,`0.23,`38.00,`0.00",
        );
        assert_eq!(
            parse_trade_bill(&short_count),
            Err(PaymentError::Mismatch {
                field: "bill count"
            })
        );
    }

    #[test]
    fn yuan_edge_cases_in_a_bill_convert_exactly() {
        for (text, fen) in [
            ("`0.01", 1),
            ("`0.1", 10),
            ("`7", 700),
            ("`-0.05", -5),
            ("`1234567.89", 123_456_789),
            ("0.29", 29),
        ] {
            assert_eq!(money("订单金额", text), Ok(Money::from_fen(fen)), "{text}");
        }
        for bad in ["`", "`1,00", "`0.295", "`--1.00", "` 1.00x", "`1e2"] {
            assert!(money("订单金额", bad).is_err(), "{bad:?}");
        }
    }
}
