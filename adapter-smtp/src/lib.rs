//! Outbox mail delivered over SMTP with lettre. `SMTP_URL` names the server: `smtp://host:25`
//! (plain, for a relay on the same network), `smtp://user:password@host:587?tls=required`
//! (STARTTLS) or `smtps://user:password@host:465` (TLS from the start).

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use marketplace_ports::ports::{MailRecord, MailSender, SendError};

/// How long one SMTP conversation may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Replies about our own session (authentication required or refused, TLS needed): wrong
/// settings, not a bad mail. Mail is kept and tried again until the settings are fixed.
const SESSION_REFUSALS: &[&str] = &["530", "534", "535", "538"];

/// True when the server refused this mail for good (a permanent reply about the recipient or the
/// message), not our session or the connection.
fn refuses_this_mail(error: &lettre::transport::smtp::Error) -> bool {
    error.is_permanent()
        && error
            .status()
            .is_none_or(|code| !SESSION_REFUSALS.contains(&code.to_string().as_str()))
}

/// Sends outbox mail to one SMTP server.
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpSender {
    /// A sender to the server `url` (see the crate docs), as `from`
    /// (`Home Craft 3D <shop@example.com>`).
    ///
    /// # Errors
    /// A message (without the URL, which may hold a password) when either cannot be used.
    pub fn new(url: &str, from: &str) -> Result<SmtpSender, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("SMTP_URL cannot be used: {e}"))?
            .timeout(Some(TIMEOUT))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("MAIL_FROM {from:?} is not an address: {e}"))?;
        Ok(SmtpSender { transport, from })
    }
}

#[async_trait]
impl MailSender for SmtpSender {
    async fn send(&self, mail: &MailRecord) -> Result<(), SendError> {
        let to = mail
            .to
            .parse::<Mailbox>()
            .map_err(|e| SendError::Permanent(format!("{:?} is not an address: {e}", mail.to)))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{}@home-craft-3d>", mail.id)))
            .multipart(MultiPart::alternative_plain_html(
                mail.text_body.clone(),
                mail.html_body.clone(),
            ))
            .map_err(|e| SendError::Permanent(format!("the mail cannot be built: {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) if refuses_this_mail(&error) => Err(SendError::Permanent(error.to_string())),
            Err(error) => Err(SendError::Transient(error.to_string())),
        }
    }
}
