//! The ESC/POS command subset Chinese receipt printers understand, as a byte builder. Text goes
//! through `text_width::encode`, so a caller can never send UTF-8 or an unprintable character.

use super::text_width;

pub const ESC: u8 = 0x1B;
pub const GS: u8 = 0x1D;
pub const FS: u8 = 0x1C;
pub const DLE: u8 = 0x10;
pub const EOT: u8 = 0x04;
pub const LF: u8 = 0x0A;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

/// Character magnification (GS !). Chinese glyphs scale with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Size {
    #[default]
    Normal,
    DoubleHeight,
    DoubleWidth,
    Double,
}

impl Size {
    /// How many normal columns one character takes in this size.
    pub fn width_factor(self) -> usize {
        match self {
            Size::Normal | Size::DoubleHeight => 1,
            Size::DoubleWidth | Size::Double => 2,
        }
    }

    fn gs_bang(self) -> u8 {
        match self {
            Size::Normal => 0x00,
            Size::DoubleHeight => 0x01,
            Size::DoubleWidth => 0x10,
            Size::Double => 0x11,
        }
    }
}

/// QR error-correction level (GS ( k fn 0x45).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrLevel {
    L,
    M,
    Q,
    H,
}

/// The real-time status a printer answers to DLE EOT n with one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusQuery {
    Printer = 1,
    OfflineCause = 2,
    Paper = 4,
}

/// Longest QR payload we send: GS ( k's length is two bytes, and a model-2 code at level M holds
/// far less than that; 1000 bytes keep the code scannable at 58 mm.
pub const MAX_QR_BYTES: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EscPosError {
    #[error("QR_TOO_LONG: 二维码内容过长 / QR payload is {0} bytes, at most {MAX_QR_BYTES}")]
    QrTooLong(usize),
    #[error("QR_NOT_ASCII: 二维码内容须为 ASCII / QR payload must be ASCII (a URL)")]
    QrNotAscii,
}

impl EscPosError {
    pub fn code(&self) -> &'static str {
        match self {
            EscPosError::QrTooLong(_) => "QR_TOO_LONG",
            EscPosError::QrNotAscii => "QR_NOT_ASCII",
        }
    }
}

/// Builds one print job's bytes.
#[derive(Debug, Default, Clone)]
pub struct EscPos {
    bytes: Vec<u8>,
}

impl EscPos {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// ESC @: clears the buffer and modes left by the previous job.
    pub fn init(&mut self) -> &mut Self {
        self.raw(&[ESC, b'@'])
    }

    /// FS &: two-byte (GB) character mode; Chinese firmware boots in it, sending it is harmless.
    pub fn chinese_mode(&mut self) -> &mut Self {
        self.raw(&[FS, b'&'])
    }

    pub fn align(&mut self, align: Align) -> &mut Self {
        let n = match align {
            Align::Left => 0,
            Align::Center => 1,
            Align::Right => 2,
        };
        self.raw(&[ESC, b'a', n])
    }

    pub fn bold(&mut self, on: bool) -> &mut Self {
        self.raw(&[ESC, b'E', u8::from(on)])
    }

    pub fn size(&mut self, size: Size) -> &mut Self {
        self.raw(&[GS, b'!', size.gs_bang()])
    }

    /// Text without a line feed; `¥` becomes `￥`, unprintable characters `□`.
    pub fn text(&mut self, text: &str) -> &mut Self {
        let encoded = text_width::encode(text);
        self.raw(&encoded)
    }

    pub fn line(&mut self, text: &str) -> &mut Self {
        self.text(text).raw(&[LF])
    }

    /// ESC d n: prints the buffer and feeds n lines.
    pub fn feed(&mut self, lines: u8) -> &mut Self {
        self.raw(&[ESC, b'd', lines])
    }

    /// GS V 66 0: feeds to the cutter and cuts (partial cut on most models).
    pub fn cut(&mut self) -> &mut Self {
        self.raw(&[GS, b'V', 66, 0])
    }

    /// ESC p 0 25 250: a 50 ms pulse on pin 2, then 500 ms off, which opens common drawers.
    pub fn drawer_kick(&mut self) -> &mut Self {
        self.raw(&[ESC, b'p', 0, 25, 250])
    }

    /// A native model-2 QR code (GS ( k): select model, module size, error level, store, print.
    pub fn qr(
        &mut self,
        data: &str,
        module_size: u8,
        level: QrLevel,
    ) -> Result<&mut Self, EscPosError> {
        if !data.is_ascii() {
            return Err(EscPosError::QrNotAscii);
        }
        if data.len() > MAX_QR_BYTES {
            return Err(EscPosError::QrTooLong(data.len()));
        }
        let level = match level {
            QrLevel::L => 0x30,
            QrLevel::M => 0x31,
            QrLevel::Q => 0x32,
            QrLevel::H => 0x33,
        };
        let store_len = u16::try_from(data.len() + 3).expect("bounded by MAX_QR_BYTES");
        let [pl, ph] = store_len.to_le_bytes();
        self.raw(&[GS, b'(', b'k', 4, 0, 0x31, 0x41, 0x32, 0]);
        self.raw(&[GS, b'(', b'k', 3, 0, 0x31, 0x43, module_size.clamp(1, 16)]);
        self.raw(&[GS, b'(', b'k', 3, 0, 0x31, 0x45, level]);
        self.raw(&[GS, b'(', b'k', pl, ph, 0x31, 0x50, 0x30]);
        self.raw(data.as_bytes());
        Ok(self.raw(&[GS, b'(', b'k', 3, 0, 0x31, 0x51, 0x30]))
    }
}

/// DLE EOT n: asks for one real-time status byte, answered even while the printer is offline.
pub fn status_request(query: StatusQuery) -> [u8; 3] {
    [DLE, EOT, query as u8]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn qr_matches_the_upstream_vector() {
        let mut job = EscPos::new();
        job.qr("1234", 3, QrLevel::L).unwrap();
        assert_eq!(
            hex(job.bytes()),
            "1d 28 6b 04 00 31 41 32 00 1d 28 6b 03 00 31 43 03 1d 28 6b 03 00 31 45 30 1d 28 6b 07 00 31 50 30 31 32 33 34 1d 28 6b 03 00 31 51 30"
        );
    }

    /// protocols.md §6.1 ESC-1: a whole small 58 mm receipt, byte for byte.
    #[test]
    fn small_receipt_matches_esc_1() {
        let mut job = EscPos::new();
        job.init()
            .chinese_mode()
            .align(Align::Center)
            .size(Size::Double)
            .line("测试餐厅");
        job.size(Size::Normal)
            .align(Align::Left)
            .bold(true)
            .text("桌号:A12")
            .bold(false)
            .line("");
        job.line(&format!("宫保鸡丁{}x1  28.00", " ".repeat(15)));
        job.line(&"-".repeat(32));
        job.align(Align::Center);
        job.qr("https://m.example.com/o/123", 6, QrLevel::M)
            .unwrap();
        job.line("").feed(3).cut().drawer_kick();
        let expected = "1b 40 1c 26 1b 61 01 1d 21 11 b2 e2 ca d4 b2 cd cc fc 0a 1d 21 00 1b 61 00 1b 45 01 d7 c0 ba c5 \
3a 41 31 32 1b 45 00 0a b9 ac b1 a3 bc a6 b6 a1 20 20 20 20 20 20 20 20 20 20 20 20 20 20 20 78 \
31 20 20 32 38 2e 30 30 0a 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d \
2d 2d 2d 2d 2d 2d 2d 2d 2d 0a 1b 61 01 1d 28 6b 04 00 31 41 32 00 1d 28 6b 03 00 31 43 06 1d 28 \
6b 03 00 31 45 31 1d 28 6b 1e 00 31 50 30 68 74 74 70 73 3a 2f 2f 6d 2e 65 78 61 6d 70 6c 65 2e \
63 6f 6d 2f 6f 2f 31 32 33 1d 28 6b 03 00 31 51 30 0a 1b 64 03 1d 56 42 00 1b 70 00 19 fa";
        assert_eq!(job.bytes().len(), 190);
        assert_eq!(hex(job.bytes()), expected);
    }

    #[test]
    fn qr_refuses_what_it_cannot_encode() {
        let mut job = EscPos::new();
        assert_eq!(
            job.qr("点餐", 3, QrLevel::M).unwrap_err().code(),
            "QR_NOT_ASCII"
        );
        let long = "a".repeat(MAX_QR_BYTES + 1);
        assert_eq!(
            job.qr(&long, 3, QrLevel::M).unwrap_err().code(),
            "QR_TOO_LONG"
        );
        assert!(job.bytes().is_empty(), "a refused QR writes nothing");
    }

    #[test]
    fn status_requests() {
        assert_eq!(status_request(StatusQuery::Printer), [0x10, 0x04, 0x01]);
        assert_eq!(status_request(StatusQuery::Paper), [0x10, 0x04, 0x04]);
    }
}
