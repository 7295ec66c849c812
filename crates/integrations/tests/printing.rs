//! The printing story end to end: documents rendered to ESC/POS, sent over TCP to the fake
//! printer on loopback, decoded as GB18030 and checked for text and column layout.

use diancan_domain::money::Money;
use diancan_integrations::printing::documents::{
    Channel, OrderSlip, SlipLine, cancel_ticket, delta_ticket, kitchen_ticket, packing_slip,
    pickup_label, receipt,
};
use diancan_integrations::printing::fake_printer::{
    FakeCondition, FakePrinter, PrintedJob, decode,
};
use diancan_integrations::printing::layout::{Paper, pad_left};
use diancan_integrations::printing::tcp::{PrintError, PrinterStatus, Timeouts, print};
use diancan_integrations::printing::text_width::display_width;
use proptest::prelude::*;

fn line(name: &str, qty: u32, fen: i64, station: &str) -> SlipLine {
    SlipLine {
        name: name.into(),
        specs: vec![],
        note: None,
        quantity: qty,
        amount: Money::from_fen(fen),
        station: Some(station.into()),
    }
}

fn slip() -> OrderSlip {
    let mut noodles = line("红烧牛肉面", 2, 5600, "热菜");
    noodles.specs = vec!["大碗".into(), "微辣".into()];
    noodles.note = Some("不要香菜".into());
    OrderSlip {
        store_name: "小满面馆 人民广场店".into(),
        order_no: "20261202-0042".into(),
        pickup_number: Some("A042".into()),
        table_code: Some("A3".into()),
        channel: Channel::DineIn,
        placed_at: "2026-12-02 12:05".into(),
        lines: vec![
            noodles,
            line("拍黄瓜", 1, 1200, "凉菜"),
            line("Coca-Cola 330ml", 3, 1500, "饮品"),
        ],
        subtotal: Money::from_fen(8300),
        adjustments: vec![("满减".into(), Money::from_fen(-1000))],
        total: Money::from_fen(7300),
        payment: Some("微信支付".into()),
        note: None,
        delivery: None,
        status_url: Some("https://diancan.example/o/42".into()),
        reprint: false,
        job_number: None,
    }
}

async fn print_on_fake(bytes: &[u8]) -> PrintedJob {
    let printer = FakePrinter::start(FakeCondition::default()).await.unwrap();
    print(printer.addr, bytes, Timeouts::default())
        .await
        .unwrap();
    printer.wait_for_jobs(1).await.remove(0)
}

/// Every printed line fits the paper, counting double width.
fn assert_fits(job: &PrintedJob, paper: Paper) {
    for l in &job.lines {
        let cols = display_width(&l.text) * l.width_factor;
        assert!(cols <= paper.columns(), "{:?} takes {cols} columns", l.text);
    }
}

#[tokio::test]
async fn receipt_on_the_fake_printer_at_both_widths() {
    for paper in [Paper::Mm58, Paper::Mm80] {
        let width = paper.columns();
        let job = print_on_fake(&receipt(&slip(), paper).unwrap()).await;
        assert_fits(&job, paper);
        let texts = job.texts();
        // Double size halves the columns: on 58 mm the name wraps after 8 Chinese characters.
        let title: Vec<&str> = job
            .lines
            .iter()
            .take_while(|l| l.width_factor == 2)
            .map(|l| l.text.as_str())
            .collect();
        assert_eq!(title.concat(), "小满面馆 人民广场店");
        assert_eq!(title.len(), if paper == Paper::Mm58 { 2 } else { 1 });
        assert!(texts.contains(&"堂食 · 桌号 A3"));
        // Item rows end exactly at the paper's edge, with amounts right-aligned on the point.
        let rows: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| t.ends_with(".00") && t.contains(" x"))
            .collect();
        assert_eq!(rows.len(), 3, "{texts:#?}");
        for row in &rows {
            assert_eq!(display_width(row), width, "{row:?}");
        }
        assert!(
            rows[0].starts_with("红烧牛肉面")
                && rows[0].ends_with(&format!(
                    "x2{}",
                    pad_left("56.00", paper.item_columns().amount)
                ))
        );
        assert!(rows[2].starts_with("Coca-Cola") && rows[2].ends_with(" 15.00"));
        let qty_col = |row: &str| display_width(&row[..row.rfind(" x").unwrap()]);
        assert_eq!(qty_col(rows[0]), qty_col(rows[1]));
        assert!(texts.contains(&"  大碗/微辣"));
        let total = texts.iter().find(|t| t.starts_with("合计")).unwrap();
        assert!(total.ends_with("￥73.00") && display_width(total) == width);
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("满减") && t.ends_with("￥-10.00"))
        );
        assert_eq!(job.qr_codes, vec!["https://diancan.example/o/42"]);
        assert_eq!(job.cuts, 1);
        assert!(!texts.iter().any(|t| t.contains("重打")));
    }
}

#[tokio::test]
async fn station_ticket_has_only_that_stations_items_in_big_type() {
    for paper in [Paper::Mm58, Paper::Mm80] {
        let job = print_on_fake(&kitchen_ticket(&slip(), "热菜", paper).unwrap()).await;
        assert_fits(&job, paper);
        let texts = job.texts();
        assert_eq!(texts[0], "热菜单");
        assert!(texts.contains(&"桌号 A3"));
        let item = job
            .lines
            .iter()
            .find(|l| l.text.starts_with("红烧牛肉面"))
            .unwrap();
        assert_eq!(item.width_factor, 2);
        assert!(item.bold);
        // Double width: the quantity sits at the half-width edge.
        assert_eq!(display_width(&item.text), paper.columns() / 2);
        assert!(item.text.ends_with("x2"));
        assert!(texts.contains(&"  大碗 微辣"));
        assert!(texts.contains(&"  备注：不要香菜"));
        assert!(
            !texts
                .iter()
                .any(|t| t.contains("拍黄瓜") || t.contains("Coca"))
        );
        assert!(
            !texts.iter().any(|t| t.contains("56.00")),
            "the kitchen sees no prices"
        );
    }
}

#[test]
fn other_documents_say_what_they_are() {
    let mut s = slip();
    let texts = |bytes: Vec<u8>| {
        decode(&bytes)
            .lines
            .into_iter()
            .map(|l| l.text)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        texts(delta_ticket(&s, "凉菜", Paper::Mm58).unwrap())[0],
        "加菜 · 凉菜"
    );
    let cancel = texts(cancel_ticket(&s, "凉菜", Paper::Mm58).unwrap());
    assert_eq!(cancel[0], "退菜 · 凉菜");
    assert!(cancel.iter().any(|t| t.starts_with("退 拍黄瓜")));
    assert_eq!(
        kitchen_ticket(&s, "甜品", Paper::Mm58).unwrap_err().code(),
        "PRINT_NOTHING_FOR_STATION"
    );
    s.channel = Channel::Meituan;
    s.table_code = None;
    s.delivery = Some("人民大道100号 138****0000".into());
    let packing = texts(packing_slip(&s, Paper::Mm80).unwrap());
    assert_eq!(packing[0], "打包单 取餐号 A042");
    assert!(
        packing
            .iter()
            .any(|t| t.starts_with("□ 红烧牛肉面（大碗/微辣）") && t.ends_with("x2"))
    );
    assert!(packing.iter().any(|t| t.contains("送至：人民大道100号")));
    let label = texts(pickup_label(&s, 2, Paper::Mm58).unwrap());
    assert_eq!(label[0], "取餐号 A042");
    assert!(label[1].starts_with("美团外卖") && label[1].ends_with("3/3"));
    assert_eq!(
        pickup_label(&s, 3, Paper::Mm58).unwrap_err().code(),
        "PRINT_NO_SUCH_ITEM"
    );
    s.reprint = true;
    for bytes in [
        receipt(&s, Paper::Mm58).unwrap(),
        kitchen_ticket(&s, "热菜", Paper::Mm58).unwrap(),
    ] {
        assert_eq!(texts(bytes)[0], "【重打】");
    }
}

#[test]
fn long_texts_are_refused_with_a_code() {
    let mut s = slip();
    s.lines[0].note = Some("辣".repeat(201));
    assert_eq!(
        receipt(&s, Paper::Mm58).unwrap_err().code(),
        "PRINT_TEXT_TOO_LONG"
    );
}

#[test]
fn receipt_bytes_do_not_drift() {
    let hex = |bytes: Vec<u8>| {
        bytes
            .chunks(32)
            .map(|c| {
                c.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    insta::assert_snapshot!("receipt_58", hex(receipt(&slip(), Paper::Mm58).unwrap()));
    insta::assert_snapshot!(
        "kitchen_80",
        hex(kitchen_ticket(&slip(), "热菜", Paper::Mm80).unwrap())
    );
}

#[tokio::test]
async fn faults_each_get_a_clear_result() {
    let t = Timeouts::default();
    let job = receipt(&slip(), Paper::Mm58).unwrap();

    // Nothing listens on a port we just freed.
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = print(free, &job, t).await.unwrap_err();
    assert_eq!(err.code(), "PRINTER_UNREACHABLE");

    let printer = FakePrinter::start(FakeCondition {
        paper_out: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let err = print(printer.addr, &job, t).await.unwrap_err();
    assert!(
        matches!(
            err,
            PrintError::NotReady {
                status: PrinterStatus::PaperOut
            }
        ),
        "{err}"
    );
    assert!(err.use_fallback());
    assert!(!err.may_have_printed(), "refused before the job");
    // The job itself was never sent to a printer without paper.
    assert_eq!(printer.wait_for_jobs(1).await[0].lines.len(), 0);

    printer.set_condition(FakeCondition {
        cover_open: true,
        ..Default::default()
    });
    let err = print(printer.addr, &job, t).await.unwrap_err();
    assert!(
        matches!(
            err,
            PrintError::NotReady {
                status: PrinterStatus::CoverOpen
            }
        ),
        "{err}"
    );

    // Power lost after 100 bytes: the status after the job never comes.
    printer.set_condition(FakeCondition {
        drop_after: Some(100),
        ..Default::default()
    });
    let err = print(printer.addr, &job, t).await.unwrap_err();
    assert!(err.may_have_printed(), "100 bytes may be on paper");
    match err {
        PrintError::ClosedMidJob { total, .. } => assert_eq!(total, job.len()),
        other => panic!("expected ClosedMidJob, got {other}"),
    }
}

fn mixed_text(max: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9 ]{1,6}",
        "[一-龥]{1,4}",
        Just("（大）".to_string()),
        Just("🌶🔥".to_string()),
        Just("e\u{301}".to_string()),
        Just("¥".to_string()),
    ];
    prop::collection::vec(piece, 1..max).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn no_line_passes_the_paper_and_columns_align(
        items in prop::collection::vec((mixed_text(8), mixed_text(10), 1u32..200, 0i64..10_000_000), 1..6),
        wide in any::<bool>(),
    ) {
        let paper = if wide { Paper::Mm80 } else { Paper::Mm58 };
        let mut s = slip();
        s.lines = items.iter().map(|(name, note, qty, fen)| {
            let mut l = line(&name.chars().take(60).collect::<String>(), *qty, *fen, "热菜");
            l.note = Some(note.chars().take(200).collect());
            l
        }).collect();
        for bytes in [receipt(&s, paper).unwrap(), kitchen_ticket(&s, "热菜", paper).unwrap()] {
            let job = decode(&bytes);
            for l in &job.lines {
                prop_assert!(display_width(&l.text) * l.width_factor <= paper.columns(), "{:?}", l.text);
            }
        }
        // Receipt item rows: every row carrying a quantity ends at the edge, quantity columns equal.
        let job = decode(&receipt(&s, paper).unwrap());
        let cols = paper.item_columns();
        for (_, _, qty, fen) in &items {
            let amount = format!("{}.{:02}", fen / 100, fen % 100);
            let tail = format!(" x{qty}");
            let row = job.lines.iter().find(|l| l.text.ends_with(&amount) && l.text.contains(&tail));
            let row = row.expect("every item has its row");
            prop_assert_eq!(display_width(&row.text), paper.columns());
            let fits = tail.len() - 1 < cols.qty && amount.len() < cols.amount;
            if fits {
                let at = row.text.rfind(&tail).unwrap() + tail.len();
                prop_assert_eq!(display_width(&row.text[..at]), cols.name + cols.qty);
            } else {
                // Too wide for the columns: quantity and amount alone on a flush-right line.
                prop_assert_eq!(row.text.trim_start(), format!("x{qty} {amount}"));
            }
        }
    }
}

#[tokio::test]
async fn a_printer_that_never_answers_status_is_given_up_on_within_the_timeout() {
    let printer = FakePrinter::start(FakeCondition {
        silent: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let t = Timeouts {
        status: std::time::Duration::from_millis(200),
        ..Timeouts::default()
    };
    let started = std::time::Instant::now();
    let err = print(printer.addr, b"x\n", t).await.unwrap_err();
    assert_eq!(err.code(), "PRINTER_NO_STATUS");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
