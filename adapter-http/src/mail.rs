//! The marketplace's e-mails, rendered as plain text and HTML. The use cases decide what to say
//! (a [`Mail`] with its facts and links); the wording lives here, in one place.

use std::fmt::Write as _;

use marketplace_domain::refunds::RefundRequestStatus;
use marketplace_ports::ports::{Mail, MailTemplates, RenderedMail};

/// The site's name as mails spell it.
const SITE: &str = "Home Craft 3D";

/// The mail templates of the marketplace.
#[derive(Clone, Copy, Debug, Default)]
pub struct MarketplaceMail;

impl MailTemplates for MarketplaceMail {
    fn render(&self, mail: &Mail) -> RenderedMail {
        match mail {
            Mail::OrderPaid {
                order_id,
                order_url,
                lines,
                currency,
                downloads,
            } => {
                let subject = format!("Your {SITE} order {order_id}");
                let mut text = format!(
                    "Thanks for your purchase at {SITE}!\n\nAccess your order here:\n{order_url}\n\nItems:\n"
                );
                let mut html = format!(
                    "<p>Thanks for your purchase at {SITE}!</p>\n<p><a href=\"{url}\">Access your order here</a></p>\n<h2>Items</h2>\n<ul>\n",
                    url = escape(order_url)
                );
                for line in lines {
                    let _ = writeln!(
                        text,
                        "- {} × {} ({} {currency})",
                        line.quantity, line.title, line.gross
                    );
                    let _ = writeln!(
                        html,
                        "<li>{} × {} ({} {currency})</li>",
                        line.quantity,
                        escape(&line.title),
                        line.gross
                    );
                }
                html.push_str("</ul>\n");
                if !downloads.is_empty() {
                    text.push_str("\nYour digital downloads (links are tied to your order):\n");
                    html.push_str(
                        "<h2>Your digital downloads</h2>\n<p>These links are tied to your order.</p>\n<ul>\n",
                    );
                    for download in downloads {
                        let _ = writeln!(text, "- {}: {}", download.file_name, download.url);
                        let _ = writeln!(
                            html,
                            "<li><a href=\"{}\">{}</a></li>",
                            escape(&download.url),
                            escape(&download.file_name)
                        );
                    }
                    html.push_str("</ul>\n");
                }
                text.push_str("\nIf you didn't make this purchase, you can ignore this email.\n");
                html.push_str(
                    "<p>If you didn't make this purchase, you can ignore this email.</p>\n",
                );
                RenderedMail {
                    subject,
                    text,
                    html,
                }
            }
            Mail::Notification { title, body, url } => RenderedMail {
                subject: format!("{title} — {SITE}"),
                text: format!(
                    "{body}\n\n{url}\n\nYou can choose which notifications come by e-mail in your notification preferences.\n"
                ),
                html: format!(
                    "<p>{}</p>\n<p><a href=\"{}\">See it on {SITE}</a></p>\n<p>You can choose which notifications come by e-mail in your notification preferences.</p>\n",
                    escape(body),
                    escape(url)
                ),
            },
            Mail::RefundRequested {
                request: _,
                item,
                amount,
                currency,
                reason,
                notes,
                request_url,
            } => {
                let subject = format!("Refund requested: {item}");
                let lead = format!(
                    "A buyer asked for a refund of {amount} {currency} for \"{item}\" (reason: {reason})."
                );
                let notes_text = if notes.is_empty() {
                    String::new()
                } else {
                    format!("\nTheir notes:\n{notes}\n")
                };
                let text =
                    format!("{lead}\n{notes_text}\nApprove or decline it here:\n{request_url}\n");
                let notes_html = if notes.is_empty() {
                    String::new()
                } else {
                    format!("<blockquote>{}</blockquote>\n", escape(notes))
                };
                let html = format!(
                    "<p>{}</p>\n{notes_html}<p><a href=\"{}\">Approve or decline it</a></p>\n",
                    escape(&lead),
                    escape(request_url)
                );
                RenderedMail {
                    subject,
                    text,
                    html,
                }
            }
            Mail::RefundRequestUpdated {
                request: _,
                item,
                amount,
                currency,
                status,
                note,
                request_url,
            } => {
                let (subject, lead) = match status {
                    RefundRequestStatus::Approved => (
                        format!("Your refund request for {item} was approved"),
                        format!(
                            "Your refund of {amount} {currency} for \"{item}\" was approved; the money will be sent back to your card shortly."
                        ),
                    ),
                    RefundRequestStatus::Declined => (
                        format!("Your refund request for {item} was declined"),
                        format!(
                            "Your refund request for \"{item}\" ({amount} {currency}) was declined."
                        ),
                    ),
                    RefundRequestStatus::Refunded => (
                        format!("Your refund for {item} is on its way"),
                        format!(
                            "We sent {amount} {currency} for \"{item}\" back to your card. Banks usually take 5–10 days to show it."
                        ),
                    ),
                    RefundRequestStatus::Failed => (
                        format!("Your refund for {item} could not be sent yet"),
                        format!(
                            "The refund of {amount} {currency} for \"{item}\" could not be sent; the seller or our staff will try again."
                        ),
                    ),
                    RefundRequestStatus::Requested | RefundRequestStatus::Canceled => (
                        format!("Your refund request for {item}"),
                        format!(
                            "Your refund request for \"{item}\" ({amount} {currency}) is now {status}."
                        ),
                    ),
                };
                let note_text = if note.is_empty() {
                    String::new()
                } else {
                    format!("\nNote: {note}\n")
                };
                let text = format!("{lead}\n{note_text}\nSee the request:\n{request_url}\n");
                let note_html = if note.is_empty() {
                    String::new()
                } else {
                    format!("<p>Note: {}</p>\n", escape(note))
                };
                let html = format!(
                    "<p>{}</p>\n{note_html}<p><a href=\"{}\">See the request</a></p>\n",
                    escape(&lead),
                    escape(request_url)
                );
                RenderedMail {
                    subject,
                    text,
                    html,
                }
            }
        }
    }
}

/// Escapes text for HTML (titles and file names come from sellers).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use marketplace_domain::ids::OrderId;
    use marketplace_domain::money::{Cents, Currency};
    use marketplace_ports::ports::{MailDownload, MailLine};
    use uuid::Uuid;

    use super::*;

    fn paid_mail() -> Mail {
        Mail::OrderPaid {
            order_id: OrderId::from_uuid(Uuid::from_u128(1)),
            order_url: "https://shop.example/api/v1/orders/1?t=tok".into(),
            lines: vec![MailLine {
                quantity: 2,
                title: "Owl <script>".into(),
                gross: Cents::new(1250),
            }],
            currency: Currency::USD,
            downloads: vec![MailDownload {
                file_name: "owl.stl".into(),
                url: "https://shop.example/api/v1/orders/1/assets/9?t=tok".into(),
            }],
        }
    }

    #[test]
    fn the_paid_order_mail_has_the_links_in_text_and_html() {
        let rendered = MarketplaceMail.render(&paid_mail());
        assert!(rendered.subject.starts_with("Your Home Craft 3D order "));
        assert!(
            rendered
                .text
                .contains("https://shop.example/api/v1/orders/1?t=tok")
        );
        assert!(rendered.text.contains("- 2 × Owl <script> (12.50 usd)"));
        assert!(
            rendered
                .text
                .contains("- owl.stl: https://shop.example/api/v1/orders/1/assets/9?t=tok")
        );
        assert!(
            rendered.html.contains("Owl &lt;script&gt;"),
            "seller text is escaped"
        );
        assert!(!rendered.html.contains("<script>"));
        assert!(rendered.html.contains(
            "<a href=\"https://shop.example/api/v1/orders/1/assets/9?t=tok\">owl.stl</a>"
        ));
    }
}
