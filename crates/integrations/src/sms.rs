//! Sending verification codes by SMS. Real gateways (阿里云短信, 腾讯云短信) plug in behind
//! [`SmsSender`]; [`LogSms`], the documented development provider, writes the code to the log.

use diancan_domain::customer::{OtpCode, Phone};
use std::future::Future;
use std::pin::Pin;

/// A future that a trait object can return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// The gateway refused or could not be reached; `reason` is for the log, not the diner.
    #[error("SMS gateway failed: {reason}")]
    Gateway { reason: String },
}

/// Something that delivers a one-time code to a phone.
pub trait SmsSender: Send + Sync {
    fn send_code<'a>(
        &'a self,
        phone: &'a Phone,
        code: &'a OtpCode,
    ) -> BoxFuture<'a, Result<(), SmsError>>;
}

/// Development provider: sends nothing, logs the code with the phone masked so a developer
/// can log in from the server's console. Do not run it where strangers can request codes.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogSms;

impl SmsSender for LogSms {
    fn send_code<'a>(
        &'a self,
        phone: &'a Phone,
        code: &'a OtpCode,
    ) -> BoxFuture<'a, Result<(), SmsError>> {
        Box::pin(async move {
            tracing::info!(
                phone = %phone.masked(),
                code = code.expose(),
                "验证码 (development SMS provider, nothing sent)"
            );
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Collects formatted log lines for the assertions below.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_log_provider_shows_the_code_but_masks_the_phone() {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let phone = Phone::parse("13812345678").unwrap();
        let code = OtpCode::parse("246810").unwrap();
        LogSms.send_code(&phone, &code).await.unwrap();

        let logged = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        assert!(logged.contains("138****5678"), "{logged}");
        assert!(logged.contains("246810"), "{logged}");
        assert!(!logged.contains("13812345678"), "{logged}");
    }
}
