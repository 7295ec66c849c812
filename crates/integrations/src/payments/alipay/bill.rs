//! Alipay's daily trade bill (`alipay.data.dataservice.bill.downloadurl.query`, bill_type
//! `trade`): a zip of GBK CSV files, of which `…_业务明细.csv` lists each payment (交易) and
//! refund (退款) in yuan, between `#` comment lines. Columns are found by their names, fields
//! are trimmed of the tabs Alipay pads them with, and a line that cannot be read is reported
//! on its own.

use crate::payments::error::PaymentError;
use crate::payments::model::{StatementKind, StatementProblem, StatementRow};
use crate::payments::yuan;
use diancan_domain::money::Money;
use std::io::Read;

/// The columns of 业务明细 we read, in Alipay's spelling (full-width brackets).
pub const COLUMNS: [&str; 7] = [
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "完成时间",
    "订单金额（元）",
    "商家实收（元）",
    "退款批次号/请求号",
];

/// The header of 业务明细 as Alipay writes it.
pub const DETAIL_HEADER: &str = "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注";

/// The file in the zip that holds the detail lines (the other one is the summary).
pub const DETAIL_SUFFIX: &str = "_业务明细.csv";

/// Opens the downloaded zip and reads its detail file.
pub fn read_bill_zip(
    bytes: &[u8],
) -> Result<(Vec<StatementRow>, Vec<StatementProblem>), PaymentError> {
    let unreadable = |e: zip::result::ZipError| PaymentError::malformed(format!("bill zip: {e}"));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(unreadable)?;
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(unreadable)?;
        let name = file.name().map_err(unreadable)?;
        if !name.ends_with(DETAIL_SUFFIX) {
            continue;
        }
        // A bill is small (a shop's day); a huge entry is not one of Alipay's.
        let mut raw = Vec::new();
        file.by_ref()
            .take(64 << 20)
            .read_to_end(&mut raw)
            .map_err(|e| PaymentError::malformed(format!("bill zip: {e}")))?;
        let (text, _, _) = encoding_rs::GBK.decode(&raw);
        return parse_detail(&text);
    }
    Err(PaymentError::malformed("bill zip without 业务明细"))
}

/// Reads the 业务明细 text (already decoded from GBK).
pub fn parse_detail(
    text: &str,
) -> Result<(Vec<StatementRow>, Vec<StatementProblem>), PaymentError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut records = reader.records();
    let header = loop {
        match records.next() {
            Some(Ok(record)) if record.iter().any(|c| c.trim() == COLUMNS[0]) => break record,
            Some(_) => continue,
            None => return Err(PaymentError::malformed("bill without 业务明细 header")),
        }
    };
    let at: Vec<usize> = COLUMNS
        .iter()
        .map(|name| {
            header
                .iter()
                .position(|h| h.trim() == *name)
                .ok_or_else(|| PaymentError::malformed(format!("bill without column {name}")))
        })
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for record in records {
        let (line, result) = match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line() as usize);
                (line, row(&record, &at, header.len()))
            }
            Err(error) => (
                error.position().map_or(0, |p| p.line() as usize),
                Err(PaymentError::malformed(error.to_string())),
            ),
        };
        match result {
            Ok(Some(row)) => rows.push(row),
            Ok(None) => {}
            Err(error) => problems.push(StatementProblem {
                line,
                reason: error.to_string(),
            }),
        }
    }
    Ok((rows, problems))
}

fn row(
    record: &csv::StringRecord,
    at: &[usize],
    columns: usize,
) -> Result<Option<StatementRow>, PaymentError> {
    if record.len() < columns {
        return Err(PaymentError::malformed("bill row too short"));
    }
    let cell = |i: usize| record.get(at[i]).unwrap_or("").trim();
    let kind = match cell(2) {
        "交易" => StatementKind::Payment,
        "退款" => StatementKind::Refund,
        // 冻结, 解冻 and other lines move no money of a sale.
        _ => return Ok(None),
    };
    let amount = match kind {
        StatementKind::Payment => signed_yuan("订单金额（元）", cell(4))?,
        // A refund line's 商家实收 is negative: what left the merchant.
        StatementKind::Refund => Money::from_fen(-signed_yuan("商家实收（元）", cell(5))?.fen()),
    };
    if amount.fen() <= 0 {
        return Err(PaymentError::malformed(format!(
            "bill {} amount {} is not positive",
            cell(2),
            yuan::format(amount)
        )));
    }
    let out_refund_no = cell(6);
    Ok(Some(StatementRow {
        kind,
        out_trade_no: cell(1).to_owned(),
        out_refund_no: (kind == StatementKind::Refund && !out_refund_no.is_empty())
            .then(|| out_refund_no.to_owned()),
        transaction_id: cell(0).to_owned(),
        amount,
        gateway_state: cell(2).to_owned(),
        at: cell(3).to_owned(),
    }))
}

fn signed_yuan(column: &'static str, text: &str) -> Result<Money, PaymentError> {
    match text.strip_prefix('-') {
        // A parsed amount is never negative, so its negation always fits.
        Some(positive) => yuan::parse(column, positive).map(|m| Money::from_fen(-m.fen())),
        None => yuan::parse(column, text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(lines: &[&str]) -> String {
        let mut text = String::from(
            "#支付宝业务明细查询\n#账号：[2088102177649450]\n#起始日期：[2024年01月01日 00:00:00]   终止日期：[2024年01月02日 00:00:00]\n#-----------------------------------------业务明细列表----------------------------------------\n",
        );
        text.push_str(DETAIL_HEADER);
        text.push('\n');
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str("#-----------------------------------------业务明细列表结束------------------------------------\n#交易合计：1笔，商家实收：￥88.80元\n");
        text
    }

    const PAID: &str = "2024010122001446880500000001\t,T20240101120000001\t,交易\t,\"桌号A12,堂食\"\t,2024-01-01 12:00:01\t,2024-01-01 12:00:05\t,\t,\t,\t,\t,ali***@example.com\t,88.80\t,88.80\t,0.00\t,0.00\t,0.00\t,0.00\t,0.00\t,\t,0.00\t,0.00\t,\t,-0.53\t,0.00\t,";
    const REFUNDED: &str = "2024010122001446880500000001\t,T20240101120000001\t,退款\t,桌号A12\t,2024-01-01 12:00:01\t,2024-01-01 13:00:00\t,\t,\t,\t,\t,ali***@example.com\t,88.80\t,-8.8\t,0.00\t,0.00\t,0.00\t,0.00\t,0.00\t,\t,0.00\t,0.00\t,R1\t,0.05\t,0.00\t,";

    #[test]
    fn payments_and_refunds_are_read_in_fen() {
        let (rows, problems) = parse_detail(&detail(&[PAID, REFUNDED])).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].kind, rows[0].amount, rows[0].out_trade_no.as_str()),
            (
                StatementKind::Payment,
                Money::from_fen(8880),
                "T20240101120000001"
            )
        );
        assert_eq!(rows[0].out_refund_no, None);
        assert_eq!(
            (
                rows[1].kind,
                rows[1].amount,
                rows[1].out_refund_no.as_deref()
            ),
            (StatementKind::Refund, Money::from_fen(880), Some("R1"))
        );
        assert_eq!(rows[1].at, "2024-01-01 13:00:00");
    }

    #[test]
    fn an_unreadable_line_is_reported_and_the_rest_still_read() {
        let bad_amount = PAID.replace("88.80\t,88.80", "88.8O\t,88.80");
        let (rows, problems) =
            parse_detail(&detail(&[&bad_amount, "2024\t,T1\t,交易", REFUNDED])).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].kind, StatementKind::Refund);
        assert_eq!(problems.len(), 2);
        assert!(problems[0].reason.contains("88.8O"), "{problems:?}");
        assert_eq!(problems[0].line, 6, "the header is line 5");
        assert!(problems[1].reason.contains("too short"));
    }

    #[test]
    fn the_zip_is_read_from_gbk() {
        use std::io::Write;
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        out.start_file("20881021776494500156_20240101_业务明细(汇总).csv", options)
            .unwrap();
        out.write_all(b"summary").unwrap();
        out.start_file("20881021776494500156_20240101_业务明细.csv", options)
            .unwrap();
        let text = detail(&[PAID]);
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        out.write_all(&gbk).unwrap();
        let bytes = out.finish().unwrap().into_inner();
        let (rows, problems) = read_bill_zip(&bytes).unwrap();
        assert!(problems.is_empty());
        assert_eq!(rows[0].amount, Money::from_fen(8880));
        assert!(read_bill_zip(b"not a zip").is_err());
    }
}
