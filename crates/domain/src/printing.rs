//! Printing's rules: which printer a document goes to (a station's printer, the store's default
//! where a station has none, the fallback while a printer is down), the states of a print job,
//! and what a job holds so it can be rendered for the paper of the printer it finally reaches.

use crate::ids::*;
use crate::money::Money;
use crate::ordering::Channel;
use serde::{Deserialize, Serialize};

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)* _ => None }
            }
        }
    };
}

named_enum!(
    /// How bytes reach the printer: raw TCP 9100 from the server, the shop's print-agent, or
    /// the Feie cloud.
    PrinterConnection { Tcp => "tcp", Agent => "agent", Feie => "feie" }
);

named_enum!(
    /// The paper a document is laid out for.
    DocumentKind {
        Kitchen => "kitchen",
        Addition => "addition",
        Cancel => "cancel",
        Receipt => "receipt",
        PackingSlip => "packing_slip",
        Test => "test",
    }
);

named_enum!(
    /// queued → sending → printed | failed. `sending` is committed before the first byte is
    /// written; see `crate::printing` in usecases for what a restart does with it.
    PrintJobState { Queued => "queued", Sending => "sending", Printed => "printed", Failed => "failed" }
);

/// Paper roll width; the layout's columns follow from it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PaperWidth {
    #[serde(rename = "58")]
    Mm58,
    #[serde(rename = "80")]
    Mm80,
}

impl PaperWidth {
    pub fn mm(self) -> i64 {
        match self {
            PaperWidth::Mm58 => 58,
            PaperWidth::Mm80 => 80,
        }
    }

    pub fn from_mm(mm: i64) -> Option<Self> {
        match mm {
            58 => Some(PaperWidth::Mm58),
            80 => Some(PaperWidth::Mm80),
            _ => None,
        }
    }
}

/// One item as printed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintLine {
    pub name: String,
    pub specs: Vec<String>,
    pub note: Option<String>,
    pub quantity: i64,
    /// Zero on kitchen papers, which show no prices.
    pub amount: Money,
}

/// What a job prints, captured when it is queued, so a reprint shows the same paper.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintContent {
    pub order_id: Option<OrderId>,
    pub channel: Option<Channel>,
    pub table_code: Option<String>,
    pub pickup_number: Option<i64>,
    /// 1 for an order, 2.. for each 加菜.
    pub round: i64,
    /// The kitchen station (a kitchen, 加菜 or cancel ticket); "厨房" for a brand without any.
    pub station: Option<String>,
    pub placed_at_ms: i64,
    pub lines: Vec<PrintLine>,
    pub subtotal: Money,
    /// Named fees and deductions, signed: a discount is negative.
    pub adjustments: Vec<(String, Money)>,
    pub total: Money,
    pub note: Option<String>,
}

/// A store's printer as routing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutablePrinter {
    pub id: PrinterId,
    pub enabled: bool,
    /// Answered off, open or out of paper, and not yet seen ready again.
    pub down: bool,
    pub fallback: Option<PrinterId>,
    pub takes_receipts: bool,
    pub takes_packing_slips: bool,
    pub stations: Vec<StationId>,
}

/// The printers of one store, listed by name, and where each document goes.
pub struct Routing<'a>(pub &'a [RoutablePrinter]);

impl Routing<'_> {
    fn get(&self, id: PrinterId) -> Option<&RoutablePrinter> {
        self.0.iter().find(|p| p.id == id)
    }

    /// The store's default printer: the first enabled one that takes receipts (the counter),
    /// else the first enabled one. Tickets of a station without a printer print there.
    pub fn default_printer(&self) -> Option<PrinterId> {
        let enabled = || self.0.iter().filter(|p| p.enabled);
        enabled()
            .find(|p| p.takes_receipts)
            .or_else(|| enabled().next())
            .map(|p| p.id)
    }

    /// A station's printer, or the default one. `None` only for a store with no printer.
    pub fn for_station(&self, station: Option<StationId>) -> Option<PrinterId> {
        let own =
            station.and_then(|s| self.0.iter().find(|p| p.enabled && p.stations.contains(&s)));
        own.map(|p| p.id)
            .or_else(|| self.default_printer())
            .map(|id| self.avoiding_down(id))
    }

    /// Where a takeaway's packing slip prints.
    pub fn for_packing_slip(&self) -> Option<PrinterId> {
        self.0
            .iter()
            .find(|p| p.enabled && p.takes_packing_slips)
            .map(|p| p.id)
            .or_else(|| self.default_printer())
            .map(|id| self.avoiding_down(id))
    }

    /// `id`, or its fallback while `id` is down and the fallback is enabled and up.
    pub fn avoiding_down(&self, id: PrinterId) -> PrinterId {
        match self.get(id) {
            Some(p) if p.down => p
                .fallback
                .and_then(|f| self.get(f))
                .filter(|f| f.enabled && !f.down)
                .map_or(id, |f| f.id),
            _ => id,
        }
    }
}

/// Whether a job's paper says 重打: a reprint someone asked for, or a job one of whose
/// earlier attempts may already have put ink on paper. A second copy is never silent.
pub fn says_reprint(reprint: i64, uncertain: bool) -> bool {
    reprint > 0 || uncertain
}

/// After the `attempt`-th failure (1-based): 1 s, 2 s, 4 s … capped at a minute, before jitter.
pub fn retry_delay_ms(attempt: i64) -> i64 {
    (1_000_i64 << (attempt - 1).clamp(0, 16)).min(60_000)
}

/// After this many failed attempts a job stops retrying and is `failed` (shown, reprintable).
pub const MAX_ATTEMPTS: i64 = 12;

#[cfg(test)]
mod tests {
    use super::*;

    fn printer(takes_receipts: bool, stations: Vec<StationId>) -> RoutablePrinter {
        RoutablePrinter {
            id: PrinterId::new(),
            enabled: true,
            down: false,
            fallback: None,
            takes_receipts,
            takes_packing_slips: false,
            stations,
        }
    }

    #[test]
    fn a_station_goes_to_its_printer_and_one_without_to_the_counter() {
        let (hot, cold) = (StationId::new(), StationId::new());
        let counter = printer(true, vec![]);
        let kitchen = printer(false, vec![hot]);
        let printers = [kitchen.clone(), counter.clone()];
        let routing = Routing(&printers);
        assert_eq!(routing.for_station(Some(hot)), Some(kitchen.id));
        assert_eq!(routing.for_station(Some(cold)), Some(counter.id));
        assert_eq!(routing.for_station(None), Some(counter.id));
        assert_eq!(routing.for_packing_slip(), Some(counter.id));
        assert_eq!(Routing(&[]).for_station(Some(hot)), None);
    }

    #[test]
    fn a_down_printer_hands_over_to_a_working_fallback_only() {
        let hot = StationId::new();
        let counter = printer(true, vec![]);
        let mut kitchen = printer(false, vec![hot]);
        kitchen.down = true;
        kitchen.fallback = Some(counter.id);
        let printers = [kitchen.clone(), counter.clone()];
        assert_eq!(Routing(&printers).for_station(Some(hot)), Some(counter.id));
        let mut dead_counter = counter.clone();
        dead_counter.down = true;
        let printers = [kitchen.clone(), dead_counter];
        assert_eq!(Routing(&printers).for_station(Some(hot)), Some(kitchen.id));
    }

    #[test]
    fn retries_back_off_to_a_minute() {
        assert_eq!(retry_delay_ms(1), 1_000);
        assert_eq!(retry_delay_ms(3), 4_000);
        assert_eq!(retry_delay_ms(40), 60_000);
    }
}
