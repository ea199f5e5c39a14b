//! Mail delivery over SMTP, against a small SMTP server the test runs on a loopback port: mail is
//! delivered once; a server that refuses fails it for good; one that drops the connection gets
//! it again later.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::helpers::{TestApp, User, eventually, expect_json, spawn_app_with};

/// How the test server answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Takes every mail.
    Accept,
    /// Answers `550` to every recipient.
    Refuse,
    /// Greets, then closes the connection.
    Drop,
}

/// A minimal SMTP server: enough of RFC 5321 for a client to hand over a mail.
struct SmtpServer {
    address: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    received: Arc<Mutex<Vec<String>>>,
    /// Connections dropped in [`Mode::Drop`] (each one a delivery attempt).
    dropped: Arc<Mutex<usize>>,
}

impl SmtpServer {
    async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let mode = Arc::new(Mutex::new(Mode::Accept));
        let received: Arc<Mutex<Vec<String>>> = Arc::default();
        let dropped: Arc<Mutex<usize>> = Arc::default();
        let (serving_mode, serving_received, serving_dropped) =
            (mode.clone(), received.clone(), dropped.clone());
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let mode = *serving_mode.lock().unwrap();
                if mode == Mode::Drop {
                    *serving_dropped.lock().unwrap() += 1;
                }
                tokio::spawn(converse(socket, mode, serving_received.clone()));
            }
        });
        SmtpServer {
            address,
            mode,
            received,
            dropped,
        }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
}

async fn converse(
    socket: tokio::net::TcpStream,
    mode: Mode,
    received: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 test.local ESMTP\r\n").await?;
    if mode == Mode::Drop {
        return Ok(());
    }
    while let Some(line) = lines.next_line().await? {
        let command = line.to_ascii_uppercase();
        let answer: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250 test.local\r\n"
        } else if command.starts_with("RCPT") && mode == Mode::Refuse {
            b"550 5.1.1 no such user here\r\n"
        } else if command.starts_with("DATA") {
            write.write_all(b"354 end with a dot\r\n").await?;
            let mut message = String::new();
            while let Some(data) = lines.next_line().await? {
                if data == "." {
                    break;
                }
                message.push_str(&data);
                message.push('\n');
            }
            received.lock().unwrap().push(message);
            b"250 2.0.0 queued\r\n"
        } else if command.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"250 OK\r\n"
        };
        write.write_all(answer).await?;
    }
    Ok(())
}

/// `asker` asks about the seller's listing: the seller gets a notification mail.
async fn question(app: &TestApp, asker: &User, product: &str) {
    let response = app
        .post(
            &format!("/api/v1/products/{product}/questions"),
            Some(&asker.token),
            json!({"body": "Does it come in blue?"}),
        )
        .await;
    expect_json(response, StatusCode::CREATED).await;
}

/// The outbox, newest first.
async fn outbox(app: &TestApp) -> Vec<Value> {
    expect_json(
        app.get("/api/v1/admin/outbox?per_page=100", Some(&app.owner.token))
            .await,
        StatusCode::OK,
    )
    .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits until the newest mail to `to` has `status`.
async fn mail_to(app: &TestApp, to: &str, status: &str) -> Value {
    eventually(&format!("the mail to {to} is {status}"), || async {
        outbox(app)
            .await
            .into_iter()
            .find(|m| m["to"] == to)
            .filter(|m| m["status"] == status)
    })
    .await
}

#[tokio::test]
async fn outbox_mail_is_delivered_over_smtp_once_and_refusals_and_drops_are_handled() {
    let server = SmtpServer::start().await;
    let url = format!("smtp://{}", server.address);
    let (app, _) = spawn_app_with(
        |config| {
            config.smtp_url = Some(app::config::Secret::new(url));
            config.mail_from = "Home Craft 3D <shop@example.com>".to_owned();
        },
        std::future::pending(),
    )
    .await;
    let models = app.category("MODEL", "Homeware", None).await;
    let seller = app.ready_seller("potter").await;
    let product = app.model_listing(&seller, &models, "Vase").await;

    // Delivered, once.
    let curious = app.register("curious", false).await;
    question(&app, &curious, &product).await;
    mail_to(&app, "potter@example.com", "sent").await;
    let received = server.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(
        received[0].contains("From: \"Home Craft 3D\" <shop@example.com>"),
        "{}",
        received[0]
    );
    assert!(
        received[0].contains("To: potter@example.com"),
        "{}",
        received[0]
    );

    // A server that drops the connection: kept queued and tried again until it takes it.
    server.set(Mode::Drop);
    let second = app.register("second", false).await;
    question(&app, &second, &product).await;
    // Dropped, then tried again: the second attempt shows the first left the mail queued.
    eventually("the delivery is dropped and attempted again", || async {
        (*server.dropped.lock().unwrap() >= 2).then_some(())
    })
    .await;
    assert_eq!(
        server.received.lock().unwrap().len(),
        1,
        "nothing got through"
    );
    let waiting = outbox(&app)
        .await
        .into_iter()
        .find(|m| m["to"] == "potter@example.com" && m["status"] != "sent")
        .expect("the second mail is still in the outbox");
    assert_eq!(
        waiting["status"], "queued",
        "a dropped connection is not a refusal: {waiting}"
    );
    server.set(Mode::Accept);
    eventually("both mails are delivered", || async {
        (server.received.lock().unwrap().len() == 2).then_some(())
    })
    .await;

    // A server that refuses the recipient: failed for good, never sent again.
    server.set(Mode::Refuse);
    let third = app.register("third", false).await;
    question(&app, &third, &product).await;
    eventually("the refused mail is failed", || async {
        outbox(&app)
            .await
            .iter()
            .any(|m| m["status"] == "failed")
            .then_some(())
    })
    .await;
    server.set(Mode::Accept);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        server.received.lock().unwrap().len(),
        2,
        "a refused mail is not sent again"
    );
}
