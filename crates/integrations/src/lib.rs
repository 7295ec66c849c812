//! Diancan's edges to the outside world: dish photos, demo pictures, menu spreadsheets, the
//! login and SMS providers, payment gateways and their simulators, and receipt printers. Each
//! module owns its wire types and turns outside bytes into domain values or back.
#![forbid(unsafe_code)]

pub mod couriers;
pub mod demo_images;
pub mod images;
pub mod menu_files;
pub mod notify;
pub mod payments;
pub mod pii;
pub mod printing;
pub mod sms;
pub mod testing;

/// Whether the login providers' HTTP client can speak HTTPS (the `tls` feature).
pub const HAS_TLS: bool = cfg!(feature = "tls");

/// Refuses an `https://` URL in a build without TLS, at start-up rather than at the first login.
pub fn check_reachable(url: &str) -> Result<(), String> {
    if !HAS_TLS && url.starts_with("https://") {
        return Err(format!(
            "{url} needs HTTPS, which this build lacks: build with `--features tls`, or point the URL at an http:// egress proxy"
        ));
    }
    Ok(())
}
pub mod wechat;
