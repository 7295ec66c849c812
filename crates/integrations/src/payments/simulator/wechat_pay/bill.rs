//! The simulator's daily trade bill: what WeChat's `/v3/bill/tradebill` would list for its
//! payments and refunds, amounts in yuan with WeChat's backticks, behind a download token.

use super::{Order, RefundRecord, Reply, WechatPaySimulator, wechat_error};
use serde_json::json;

/// The simulated fee: 0.6 %, rounded to the nearest fen.
fn fee(fen: i64) -> i64 {
    (fen * 6 + 500) / 1000
}

fn yuan(fen: i64) -> String {
    crate::payments::yuan::format(diancan_domain::money::Money::from_fen(fen))
}

impl WechatPaySimulator {
    /// The trade bill of one China date: a row per payment and per refund, amounts in yuan
    /// with WeChat's backticks, then the summary.
    pub(super) fn trade_bill(&self, query: &str) -> Result<Reply, Reply> {
        let date = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("bill_date="))
            .filter(|d| d.parse::<jiff::civil::Date>().is_ok())
            .ok_or_else(|| wechat_error(400, "PARAM_ERROR", "bill_date 有误"))?
            .to_owned();
        let mut books = self.books.lock().unwrap();
        let mut rows = Vec::new();
        let (mut settled, mut refunded, mut fees) = (0i64, 0i64, 0i64);
        let row = |time: &str,
                   order: &Order,
                   no: &str,
                   state: &str,
                   refund: Option<(&RefundRecord, &str)>| {
            let total = order.request["amount"]["total"].as_i64().unwrap_or(0);
            let (settle, refund_id, refund_no, refund_fen, fee_fen) = match refund {
                None => (total, "0".to_owned(), "0".to_owned(), 0, fee(total)),
                Some((r, refund_no)) => (
                    0,
                    r.refund_id.clone(),
                    refund_no.to_owned(),
                    r.refund,
                    -fee(r.refund),
                ),
            };
            let cells = [
                time.replace('T', " ").chars().take(19).collect::<String>(),
                order.request["appid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                self.keys.mchid.clone(),
                "0".into(),
                String::new(),
                order.transaction_id.clone().unwrap_or_default(),
                no.to_owned(),
                order.payer_openid.clone().unwrap_or_default(),
                order.trade_type.to_owned(),
                state.to_owned(),
                "OTHERS".into(),
                "CNY".into(),
                yuan(settle),
                "0.00".into(),
                refund_id,
                refund_no,
                yuan(refund_fen),
                "0.00".into(),
                if refund.is_some() {
                    "ORIGINAL".into()
                } else {
                    String::new()
                },
                if refund.is_some() {
                    "SUCCESS".into()
                } else {
                    String::new()
                },
                order.request["description"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                order.request["attach"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                yuan(fee_fen),
                "0.60%".into(),
                yuan(if refund.is_some() { 0 } else { total }),
                yuan(refund_fen),
                String::new(),
            ];
            (
                cells
                    .iter()
                    .map(|c| format!("`{c}"))
                    .collect::<Vec<_>>()
                    .join(","),
                settle,
                refund_fen,
                fee_fen,
            )
        };
        for (no, order) in &books.orders {
            if let Some(time) = order
                .success_time
                .as_deref()
                .filter(|t| t.starts_with(&date))
            {
                let (line, s, r, f) = row(time, order, no, "SUCCESS", None);
                rows.push(line);
                (settled, refunded, fees) = (settled + s, refunded + r, fees + f);
            }
        }
        for (refund_no, record) in &books.refunds {
            let Some(order) = books.orders.get(&record.out_trade_no) else {
                continue;
            };
            if record.create_time.starts_with(&date) {
                let (line, s, r, f) = row(
                    &record.create_time,
                    order,
                    &record.out_trade_no,
                    "REFUND",
                    Some((record, refund_no)),
                );
                rows.push(line);
                (settled, refunded, fees) = (settled + s, refunded + r, fees + f);
            }
        }
        let file = format!(
            "{}\n{}\n总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n`{},`{},`{},`0.00,`{},`{},`{}\n",
            crate::payments::wechat_pay::bill::TRADE_BILL_HEADER,
            rows.join("\n"),
            rows.len(),
            yuan(settled),
            yuan(refunded),
            yuan(fees),
            yuan(settled),
            yuan(refunded),
        );
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, file.as_bytes());
        books.sequence += 1;
        let token = format!("BILL{}", books.sequence);
        books.bills.insert(token.clone(), file);
        Ok((
            200,
            json!({
                "hash_type": "SHA1",
                "hash_value": hex::encode(digest.as_ref()),
                "download_url": format!("https://api.mch.weixin.qq.com/v3/billdownload/file?token={token}"),
            })
            .to_string(),
        ))
    }
}
