//! Feie takes text with its own tags, not ESC/POS (protocols.md §6.4). Our documents are laid
//! out once, as ESC/POS; this reads such a job back (GB18030 text, alignment, bold, size, QR,
//! cut, drawer) and writes the same paper in Feie markup, so the columns and 重打 a document
//! has on a LAN printer are exactly what a Feie box prints.

use super::escpos::{DLE, ESC, FS, GS, LF};
use super::fake_printer::command_len;

/// Tags are Feie's syntax: a dish called `<CUT>` must print as text, never cut the paper.
fn escape(text: &str) -> String {
    text.replace('<', "＜").replace('>', "＞")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Center,
    Right,
}

#[derive(Clone, Copy)]
struct Mode {
    align: Align,
    bold: bool,
    double: bool,
}

fn line(out: &mut String, text: &str, mode: Mode) {
    let mut body = escape(text);
    if mode.bold && !mode.double {
        body = format!("<BOLD>{body}</BOLD>");
    }
    let tagged = match (mode.double, mode.align) {
        (true, Align::Center) => format!("<CB>{body}</CB>"),
        (true, _) => format!("<B>{body}</B>"),
        (false, Align::Center) => format!("<C>{body}</C>"),
        (false, Align::Right) => format!("<RIGHT>{body}</RIGHT>"),
        (false, Align::Left) => body,
    };
    out.push_str(&tagged);
    out.push_str("<BR>");
}

/// The Feie markup of one ESC/POS job. Status requests and unknown commands are dropped.
pub fn from_escpos(raw: &[u8]) -> String {
    let mut out = String::new();
    let mut mode = Mode {
        align: Align::Left,
        bold: false,
        double: false,
    };
    let mut line_mode = mode;
    let mut text: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == LF {
            let (decoded, _, _) = encoding_rs::GB18030.decode(&text);
            line(&mut out, &decoded, line_mode);
            text.clear();
            i += 1;
            continue;
        }
        if ![ESC, GS, FS, DLE].contains(&b) {
            if text.is_empty() {
                line_mode = mode;
            }
            text.push(b);
            i += 1;
            continue;
        }
        let len = command_len(&raw[i..]).unwrap_or(raw.len() - i);
        match &raw[i..i + len] {
            [ESC, b'@'] => {
                mode = Mode {
                    align: Align::Left,
                    bold: false,
                    double: false,
                }
            }
            [ESC, b'a', n] => {
                mode.align = match n {
                    1 => Align::Center,
                    2 => Align::Right,
                    _ => Align::Left,
                }
            }
            [ESC, b'E', n] => mode.bold = *n & 1 == 1,
            [GS, b'!', n] => mode.double = *n & 0x70 != 0,
            [ESC, b'p', ..] => out.push_str("<PLUGIN>"),
            [GS, b'V', ..] => out.push_str("<CUT>"),
            [GS, b'(', b'k', _, _, 0x31, 0x50, 0x30, data @ ..] => {
                out.push_str(&format!(
                    "<QR>{}</QR>",
                    escape(&String::from_utf8_lossy(data))
                ));
            }
            _ => {}
        }
        if text.is_empty() {
            line_mode = mode;
        }
        i += len;
    }
    if !text.is_empty() {
        let (decoded, _, _) = encoding_rs::GB18030.decode(&text);
        line(&mut out, &decoded, line_mode);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printing::escpos::{Align as EscAlign, EscPos, QrLevel, Size};

    #[test]
    fn a_paper_keeps_its_lines_sizes_and_codes() {
        let mut job = EscPos::new();
        job.init()
            .chinese_mode()
            .align(EscAlign::Center)
            .size(Size::Double);
        job.line("【重打】")
            .size(Size::Normal)
            .align(EscAlign::Left);
        job.bold(true).line("桌号 A3").bold(false);
        job.line("红烧牛肉面      x2   ￥56.00");
        job.align(EscAlign::Right)
            .line("打印单 #42")
            .align(EscAlign::Left);
        job.qr("https://m.example.com/o/1", 6, QrLevel::M).unwrap();
        job.feed(3).cut().drawer_kick();
        assert_eq!(
            from_escpos(job.bytes()),
            "<CB>【重打】</CB><BR><BOLD>桌号 A3</BOLD><BR>红烧牛肉面      x2   ￥56.00<BR><RIGHT>打印单 #42</RIGHT><BR><QR>https://m.example.com/o/1</QR><CUT><PLUGIN>"
        );
    }

    #[test]
    fn text_that_looks_like_a_tag_stays_text() {
        let mut job = EscPos::new();
        job.line("<CUT>面<BR>");
        assert_eq!(from_escpos(job.bytes()), "＜CUT＞面＜BR＞<BR>");
    }
}
