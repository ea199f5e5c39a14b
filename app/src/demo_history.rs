//! Sample history for the demo marketplace: paid orders (with their payouts), refunds, reviews
//! and engagement, made the way shoppers make them.
//!
//! The app is served on a loopback port inside the command, with its job workers and the Stripe
//! simulator, and guests shop over HTTP like `bench/guest_flow.py`: a cart, an order, the hosted
//! checkout page, Pay. The simulator's webhooks mark the orders paid and the workers pay the
//! sellers, as in production. A fifth of the paid orders get a review of their first line, one in
//! fifty of those with a printed model asks for a refund that the owner approves and sends, and
//! views and clicks are counted through the engagement use cases, then written and ranked as the
//! app's schedule would. Nothing is written behind the app's back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use futures_util::StreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use marketplace_domain::ids::{ProductId, RefundRequestId};
use marketplace_domain::pagination::PageRequest;
use marketplace_ports::ports::JobStatus;
use marketplace_ports::use_cases::discovery::Visitor;
use marketplace_ports::use_cases::refund_requests::RefundDecision;
use marketplace_ports::use_cases::{Actor, Services};

use crate::Config;
use serde_json::{Value, json};
use uuid::Uuid;

/// How many shoppers check out at once.
const SHOPPERS: usize = 16;
/// How long the workers get to run what the history queued.
const SETTLE_LIMIT: Duration = Duration::from_secs(30 * 60);
/// How many listings the shoppers and visitors choose from (the newest paid ones).
const SHOP_WINDOW: usize = 2_000;

/// What to make.
#[derive(Clone, Copy, Debug)]
pub struct HistorySize {
    /// Paid orders.
    pub orders: u32,
    /// Views and clicks.
    pub engagement: u32,
}

/// A listing a shopper can buy.
#[derive(Clone, Debug)]
struct Listing {
    id: String,
    is_file: bool,
}

/// An order a guest placed and paid.
struct Placed {
    id: String,
    token: String,
    email: String,
    first_line: String,
    first_is_model: bool,
}

/// Serves the app configured by `config` on a loopback port (its HTTP API, the simulator's
/// webhooks to it, the job workers that pay the sellers), makes the history `size` asks for
/// through it, and stops it. Needs the demo marketplace ([`crate::demo::create_demo_data`]) and
/// the simulator. Returns a summary line.
///
/// # Errors
/// As [`make_history`], or when the app cannot be served.
pub async fn create_demo_history(config: Config, size: HistorySize) -> anyhow::Result<String> {
    if config.jobs.workers == 0 {
        bail!("demo history needs job workers to pay the sellers (JOB_WORKERS=0 is set)");
    }
    let app = crate::build(Config {
        bind: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        ..config
    })
    .await?;
    let base = format!("http://{}", app.address());
    let services = app.services().clone();
    let owner = crate::demo::demo_owner(&app.queries()).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let history = match owner {
        Ok(owner) => make_history(&services, &owner, &base, size).await,
        Err(error) => Err(error),
    };
    let _ = stop.send(());
    serving.await.context("the app stopped")??;
    history
}

/// Shops through the app at `base` (served by this process) as `size` says, then waits for the
/// job workers to finish what the orders queued. Returns a summary line.
///
/// # Errors
/// When a step a shopper takes is refused (a bug in the demo) or the app stops answering.
async fn make_history(
    services: &Services,
    owner: &Actor,
    base: &str,
    size: HistorySize,
) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(SHOPPERS)
        .build()?;
    let listings = shop_window(&http, base).await?;
    if listings.is_empty() {
        bail!("no listing can be bought: seed listings first");
    }
    let progress = bar(u64::from(size.orders), "orders")?;
    let placed: Vec<anyhow::Result<Placed>> = futures_util::stream::iter(0..size.orders)
        .map(|n| {
            let (http, listings, progress) = (&http, &listings, &progress);
            async move {
                let placed = shop(http, base, listings, n).await;
                progress.inc(1);
                placed
            }
        })
        .buffer_unordered(SHOPPERS)
        .collect()
        .await;
    progress.finish();
    let placed = placed
        .into_iter()
        .collect::<anyhow::Result<Vec<Placed>>>()?;

    let reviews = AtomicU64::new(0);
    let refunds = AtomicU64::new(0);
    let follow_ups: Vec<anyhow::Result<()>> = futures_util::stream::iter(placed.iter().enumerate())
        .map(|(n, order)| {
            let (http, reviews, refunds) = (&http, &reviews, &refunds);
            async move {
                if n.is_multiple_of(5) {
                    review(http, base, order, n).await?;
                    reviews.fetch_add(1, Ordering::Relaxed);
                }
                if n % 50 == 1 && order.first_is_model {
                    let id = ask_refund(http, base, order).await?;
                    for decision in [RefundDecision::Approve, RefundDecision::Trigger] {
                        services
                            .refund_decisions
                            .decide(owner, id, Some("Sorry about that."), decision)
                            .await
                            .map_err(|e| anyhow!("deciding refund request {id}: {e}"))?;
                    }
                    refunds.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }
        })
        .buffer_unordered(SHOPPERS)
        .collect()
        .await;
    follow_ups
        .into_iter()
        .collect::<anyhow::Result<Vec<()>>>()?;

    engage(services, &listings, size.engagement).await?;
    settle(services, owner).await?;
    Ok(format!(
        "{} paid orders, {} reviews, {} refunds, {} views and clicks\n",
        placed.len(),
        reviews.load(Ordering::Relaxed),
        refunds.load(Ordering::Relaxed),
        size.engagement
    ))
}

fn bar(length: u64, message: &'static str) -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::new(length);
    bar.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({eta})")
            .map_err(|e| anyhow!(e))?
            .progress_chars("=> "),
    );
    bar.set_message(message);
    Ok(bar)
}

/// The newest listings that can be bought and are not free, read through the public API.
async fn shop_window(http: &reqwest::Client, base: &str) -> anyhow::Result<Vec<Listing>> {
    let mut listings = Vec::new();
    for page in 1..=SHOP_WINDOW.div_ceil(100) {
        let found: Value = http
            .get(format!(
                "{base}/api/v1/products?sort=new&per_page=100&page={page}"
            ))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let items = found["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        listings.extend(
            items
                .iter()
                .filter(|p| p["can_buy"] == true && p["is_free"] == false)
                .filter_map(|p| {
                    Some(Listing {
                        id: p["id"].as_str()?.to_owned(),
                        is_file: p["kind"] == "FILE",
                    })
                }),
        );
    }
    Ok(listings)
}

/// Guest `n` buys one or two listings: cart, order, hosted checkout page, Pay.
async fn shop(
    http: &reqwest::Client,
    base: &str,
    listings: &[Listing],
    n: u32,
) -> anyhow::Result<Placed> {
    let pick = |salt: u64| {
        let mixed = (u64::from(n) ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 16;
        &listings[usize::try_from(mixed % listings.len() as u64).unwrap_or(0)]
    };
    let mut basket = vec![pick(1)];
    if n.is_multiple_of(4) {
        basket.push(pick(2));
    }
    let mut cart: Option<String> = None;
    for listing in &basket {
        let mut request = http.post(format!("{base}/api/v1/cart/items")).json(&json!({
            "product_id": listing.id,
            "quantity": if listing.is_file { 1 } else { 1 + n % 2 },
        }));
        if let Some(token) = &cart {
            request = request.header("X-Cart-Token", token);
        }
        let added = request.send().await?;
        if !added.status().is_success() {
            bail!(
                "adding to a cart: {} {}",
                added.status(),
                added.text().await?
            );
        }
        if let Some(token) = added.headers().get("X-Cart-Token") {
            cart = Some(token.to_str()?.to_owned());
        }
    }
    let email = format!("guest-{n}@demo.homecraft3d.test");
    let order: Value = expect(
        http.post(format!("{base}/api/v1/orders"))
            .header("X-Cart-Token", cart.context("no cart token")?)
            .json(&json!({"guest_email": email}))
            .send()
            .await?,
        "placing an order",
    )
    .await?;
    let id = text(&order, "id")?;
    let token = text(&order, "access_token")?;
    let checkout: Value = expect(
        http.post(format!("{base}/api/v1/orders/{id}/checkout"))
            .header("X-Order-Token", &token)
            .send()
            .await?,
        "opening checkout",
    )
    .await?;
    let url = text(&checkout, "checkout_url")?;
    let page = http
        .get(&url)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let mut form = vec![("method", "card")];
    if page.contains("Shipping address") {
        form.extend([
            ("name", "Demo Buyer"),
            ("phone", "+15555550123"),
            ("line1", "1 Demo Street"),
            ("city", "Springfield"),
            ("state", "IL"),
            ("postal_code", "62701"),
            ("country", "US"),
        ]);
    }
    let paid = http.post(format!("{url}/pay")).form(&form).send().await?;
    if paid.status() != reqwest::StatusCode::SEE_OTHER {
        bail!("paying order {id}: {}", paid.status());
    }
    let first = order["items"]
        .as_array()
        .and_then(|items| items.first())
        .context("an order without lines")?;
    Ok(Placed {
        first_line: text(first, "id")?,
        first_is_model: first["kind"] == "MODEL",
        id,
        token,
        email,
    })
}

/// The guest reviews their order's first line (once the payment's webhook has marked it paid).
async fn review(
    http: &reqwest::Client,
    base: &str,
    order: &Placed,
    n: usize,
) -> anyhow::Result<()> {
    let rating = [5, 4, 5, 3, 4, 5, 2, 5][n % 8];
    let title = ["Lovely print", "As described", "Great detail", "Fine"][n % 4];
    let body = json!({
        "rating": rating,
        "title": title,
        "body": "Arrived as pictured; would buy from this shop again.",
    });
    let path = format!(
        "{base}/api/v1/orders/{}/items/{}/review?t={}",
        order.id, order.first_line, order.token
    );
    until_paid(|| async {
        let answer = http.post(&path).json(&body).send().await?;
        Ok((answer.status(), answer.text().await?))
    })
    .await
    .with_context(|| format!("reviewing order {}", order.id))?;
    Ok(())
}

/// The guest asks for their first line's money back; returns the request.
async fn ask_refund(
    http: &reqwest::Client,
    base: &str,
    order: &Placed,
) -> anyhow::Result<RefundRequestId> {
    let path = format!(
        "{base}/api/v1/orders/{}/items/{}/refund-request?t={}",
        order.id, order.first_line, order.token
    );
    let body =
        json!({"reason": "damaged", "notes": "A corner arrived cracked.", "email": order.email});
    let made = until_paid(|| async {
        let answer = http.post(&path).json(&body).send().await?;
        Ok((answer.status(), answer.text().await?))
    })
    .await
    .with_context(|| format!("asking a refund of order {}", order.id))?;
    let made: Value = serde_json::from_str(&made)?;
    Ok(RefundRequestId::from_uuid(Uuid::parse_str(&text(
        &made, "id",
    )?)?))
}

/// Runs `attempt` until it is answered 201 (returns that answer's body), waiting while the order
/// is not paid yet (its webhook may still be on its way).
async fn until_paid<F, Fut>(mut attempt: F) -> anyhow::Result<String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<(reqwest::StatusCode, String)>>,
{
    for _ in 0..200 {
        let (status, body) = attempt().await?;
        if status == reqwest::StatusCode::CREATED {
            return Ok(body);
        }
        if !body.contains("not_paid") {
            bail!("{status}: {body}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the order was not paid within 10 s")
}

/// Views (nine in ten) and clicks by many visitors on the shop window, counted by the engagement
/// use cases, then written and ranked as the app's schedule would.
async fn engage(services: &Services, listings: &[Listing], events: u32) -> anyhow::Result<()> {
    let progress = bar(u64::from(events), "engagement")?;
    let ids: Vec<ProductId> = listings
        .iter()
        .filter_map(|l| Uuid::parse_str(&l.id).ok().map(ProductId::from_uuid))
        .collect();
    let event = |n: u32| {
        let mixed = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // Popularity falls off: the first listings of the window draw most of the traffic.
        let spread = usize::try_from((mixed >> 20) % ids.len() as u64).unwrap_or(0);
        let product = ids[spread * spread / ids.len().max(1)];
        let visitor = Visitor(format!("demo-visitor-{}", (mixed >> 40) % 50_000));
        (visitor, product, n % 10 == 9)
    };
    // In batches: views are counted at once, clicks (each checks its listing) several at a time.
    for start in (0..events).step_by(10_000) {
        let batch = start..events.min(start.saturating_add(10_000));
        let mut clicks = Vec::new();
        for n in batch.clone() {
            let (visitor, product, click) = event(n);
            if click {
                clicks.push((visitor, product));
            } else {
                services.engagement.view_of_cached_page(&visitor, product);
            }
        }
        let counted: Vec<anyhow::Result<()>> = futures_util::stream::iter(clicks)
            .map(|(visitor, product)| async move {
                services
                    .engagement
                    .click(&visitor, product)
                    .await
                    .map_err(|e| anyhow!("counting a click: {e}"))
            })
            .buffer_unordered(SHOPPERS)
            .collect()
            .await;
        counted.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
        services.engagement.flush().await.map_err(|e| anyhow!(e))?;
        progress.inc(u64::from(batch.end - batch.start));
    }
    progress.finish();
    services.engagement.flush().await.map_err(|e| anyhow!(e))?;
    services
        .engagement
        .refresh_trending()
        .await
        .map_err(|e| anyhow!(e))?;
    Ok(())
}

/// Waits until the job workers have run everything the history queued (payouts, mail, refunds),
/// for at most [`SETTLE_LIMIT`].
async fn settle(services: &Services, owner: &Actor) -> anyhow::Result<()> {
    let progress = ProgressBar::new_spinner();
    progress.set_message("payouts and refunds");
    let deadline = tokio::time::Instant::now() + SETTLE_LIMIT;
    loop {
        if tokio::time::Instant::now() > deadline {
            bail!(
                "the job workers did not finish within {SETTLE_LIMIT:?}: see GET /api/v1/admin/jobs"
            );
        }
        let waiting = services
            .job_admin
            .jobs(owner, Some(JobStatus::Queued), PageRequest::first())
            .await
            .map_err(|e| anyhow!(e))?
            .total
            + services
                .job_admin
                .jobs(owner, Some(JobStatus::Running), PageRequest::first())
                .await
                .map_err(|e| anyhow!(e))?
                .total;
        if waiting == 0 {
            progress.finish_and_clear();
            return Ok(());
        }
        progress.set_message(format!("payouts and refunds: {waiting} jobs to go"));
        progress.tick();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn expect(response: reqwest::Response, what: &str) -> anyhow::Result<Value> {
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        bail!("{what}: {status} {body}");
    }
    Ok(serde_json::from_str(&body)?)
}

fn text(value: &Value, field: &str) -> anyhow::Result<String> {
    value[field]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no {field} in {value}"))
}
