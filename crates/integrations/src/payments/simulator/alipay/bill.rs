//! The simulator's daily bill: what `alipay.data.dataservice.bill.downloadurl.query` would
//! hand out for its trades and refunds, a zip of GBK CSV files (业务明细 and its 汇总) with
//! yuan amounts and Alipay's tab padding, behind a download token.

use super::AlipaySimulator;
use crate::payments::alipay::bill::{DETAIL_HEADER, DETAIL_SUFFIX};
use crate::payments::transport::HttpResponse;
use crate::payments::yuan;
use diancan_domain::money::Money;
use serde_json::Value;
use std::io::Write;

/// Where the simulator's bill files are served (any host: the transport answers in memory).
const BILL_PATH: &str = "/simulator/alipay/bill?token=";

/// The simulated service fee: 0.6 %, rounded to the nearest fen.
fn fee(fen: i64) -> i64 {
    (fen * 6 + 500) / 1000
}

impl AlipaySimulator {
    /// Writes the bill of `biz.bill_date` and returns its download address.
    pub(super) fn trade_bill(&self, biz: &Value) -> Result<String, (&'static str, &'static str)> {
        let date = biz["bill_date"]
            .as_str()
            .filter(|d| d.parse::<jiff::civil::Date>().is_ok())
            .ok_or(("isv.invalid-bill-date", "账单日期格式不正确"))?
            .to_owned();
        if biz["bill_type"].as_str() != Some("trade") {
            return Err(("isv.invalid-bill-type", "账单类型不正确"));
        }
        let mut books = self.books.lock().unwrap();
        let mut lines: Vec<Vec<String>> = Vec::new();
        let mut takings = 0i64;
        let mut paid_count = 0;
        let mut refund_count = 0;
        for (out_trade_no, trade) in &books.trades {
            let total = trade.biz["total_amount"]
                .as_str()
                .and_then(|t| yuan::parse("total_amount", t).ok())
                .unwrap_or(Money::ZERO)
                .fen();
            let subject = trade.biz["subject"].as_str().unwrap_or_default();
            let base = |kind: &str, done: &str, received: i64, service: i64, request_no: &str| {
                vec![
                    trade.trade_no.clone(),
                    out_trade_no.clone(),
                    kind.to_owned(),
                    subject.to_owned(),
                    trade.gmt_payment.clone().unwrap_or_default(),
                    done.to_owned(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    trade.buyer_id.clone().unwrap_or_default(),
                    yuan_signed(total),
                    yuan_signed(received),
                    "0.00".into(),
                    "0.00".into(),
                    "0.00".into(),
                    "0.00".into(),
                    "0.00".into(),
                    String::new(),
                    "0.00".into(),
                    "0.00".into(),
                    request_no.to_owned(),
                    yuan_signed(service),
                    "0.00".into(),
                    String::new(),
                ]
            };
            if let Some(paid_at) = trade
                .gmt_payment
                .as_deref()
                .filter(|t| t.starts_with(&date))
            {
                lines.push(base("交易", paid_at, total, -fee(total), ""));
                takings += total;
                paid_count += 1;
            }
            for ((refunded_trade, request_no), (amount, at)) in &books.refunds {
                if refunded_trade == out_trade_no && at.starts_with(&date) {
                    lines.push(base(
                        "退款",
                        at,
                        -amount.fen(),
                        fee(amount.fen()),
                        request_no,
                    ));
                    takings -= amount.fen();
                    refund_count += 1;
                }
            }
        }
        let mut detail = csv::WriterBuilder::new().from_writer(Vec::new());
        for line in &lines {
            // Alipay pads every field with a tab, so spreadsheets keep long numbers as text.
            detail
                .write_record(line.iter().map(|c| format!("{c}\t")))
                .expect("writing to memory");
        }
        let body = String::from_utf8(detail.into_inner().expect("writing to memory"))
            .expect("UTF-8 in, UTF-8 out");
        let text = format!(
            "#支付宝业务明细查询\n#账号：[{seller}]\n#起始日期：[{date} 00:00:00]   终止日期：[{date} 23:59:59]\n#-----------------------------------------业务明细列表----------------------------------------\n{DETAIL_HEADER}\n{body}#-----------------------------------------业务明细列表结束------------------------------------\n#交易合计：{paid_count}笔，退款合计：{refund_count}笔，商家实收：￥{takings}元\n",
            seller = self.keys.seller_id,
            takings = yuan_signed(takings),
        );
        let compact = date.replace('-', "");
        let (gbk, _, _) = encoding_rs::GBK.encode(&text);
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file(
            format!("{}0156_{compact}{DETAIL_SUFFIX}", self.keys.seller_id),
            options,
        )
        .expect("writing to memory");
        zip.write_all(&gbk).expect("writing to memory");
        zip.start_file(
            format!("{}0156_{compact}_业务明细(汇总).csv", self.keys.seller_id),
            options,
        )
        .expect("writing to memory");
        let summary_text = format!(
            "#支付宝业务汇总查询\n交易笔数,退款笔数,商家实收（元）\n{paid_count},{refund_count},{}\n",
            yuan_signed(takings)
        );
        let (summary, _, _) = encoding_rs::GBK.encode(&summary_text);
        zip.write_all(&summary).expect("writing to memory");
        let file = zip.finish().expect("writing to memory").into_inner();
        books.sequence += 1;
        let token = format!("BILL{}", books.sequence);
        books.bills.insert(token.clone(), file);
        Ok(format!("https://dwbillcenter.alipay.com{BILL_PATH}{token}"))
    }

    /// A GET of a bill address: the zip, or 404.
    pub(super) fn bill_file(&self, url: &str) -> HttpResponse {
        let file = url
            .split_once(BILL_PATH)
            .and_then(|(_, token)| self.books.lock().unwrap().bills.get(token).cloned());
        match file {
            Some(body) => HttpResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/zip".into())],
                body,
            },
            None => HttpResponse {
                status: 404,
                headers: Vec::new(),
                body: Vec::new(),
            },
        }
    }
}

fn yuan_signed(fen: i64) -> String {
    yuan::format(Money::from_fen(fen))
}
