//! Receipt and kitchen printers: the ESC/POS bytes, the column layout of a paper roll, the
//! documents a restaurant prints, and the ways bytes reach a printer (raw TCP, a fake on loopback).

pub mod agent;
pub mod documents;
pub mod escpos;
pub mod fake_printer;
pub mod feie;
pub mod feie_markup;
pub mod feie_simulator;
pub mod layout;
pub mod tcp;
pub mod text_width;
