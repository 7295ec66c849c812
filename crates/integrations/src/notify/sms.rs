//! Order notices by text message, through the same SMS provider that sends login codes (the
//! log provider in demo mode, the deployment's webhook otherwise).

use super::{Notifier, NotifyError, Outgoing, Recipient};
use crate::sms::{BoxFuture, SmsError, SmsSender};
use diancan_domain::notifications::NotifyChannel;
use std::sync::Arc;

/// Sends the body of each message to the diner's phone.
#[derive(Clone)]
pub struct SmsNotifier(pub Arc<dyn SmsSender>);

impl Notifier for SmsNotifier {
    fn channel(&self) -> NotifyChannel {
        NotifyChannel::Sms
    }

    fn send<'a>(&'a self, message: &'a Outgoing) -> BoxFuture<'a, Result<(), NotifyError>> {
        Box::pin(async move {
            let Recipient::Phone(phone) = &message.recipient else {
                return Err(NotifyError::WrongRecipient);
            };
            match self.0.send_notice(phone, &message.body).await {
                Ok(()) => Ok(()),
                Err(SmsError::NotConfigured) => Err(NotifyError::NotConfigured),
                Err(SmsError::Gateway { reason }) => Err(NotifyError::Transient(reason)),
            }
        })
    }
}
