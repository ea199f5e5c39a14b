//! Journeys through the storefront in a real browser: headless Chromium driven over WebDriver
//! (chromedriver), against the real application on a fresh database with its Stripe simulator.
//! Each journey saves screenshots of its key pages under `target/browser-screenshots/<journey>/`.
//! One browser runs at a time (two cores).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[allow(dead_code)]
#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;
mod journeys;
mod webdriver;

use std::path::{Path, PathBuf};

use helpers::{TestApp, spawn_app_with};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit};
use webdriver::{Driver, Session};

/// One browser at a time: each is a few hundred MB and the machine has two cores.
static ONE_BROWSER: Semaphore = Semaphore::const_new(1);

/// A desktop window.
pub const DESKTOP: (u32, u32) = (1280, 900);
/// A phone-sized window.
pub const PHONE: (u32, u32) = (390, 844);

/// The application and a browser window on it.
pub struct Journey {
    pub app: TestApp,
    pub browser: Session,
    _driver: Driver,
    _turn: SemaphorePermit<'static>,
}

impl Journey {
    /// Boots the application on a port its links name (Stripe's return addresses must lead back
    /// to it) and opens a browser window of `size`; screenshots go under `name`.
    pub async fn start(name: &str, size: (u32, u32)) -> Journey {
        let turn = ONE_BROWSER.acquire().await.expect("the browser queue");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let (app, _) = spawn_app_with(
            |config| {
                config.bind = format!("127.0.0.1:{port}").parse().unwrap();
                config.site_base_url = format!("http://127.0.0.1:{port}");
            },
            std::future::pending(),
        )
        .await;
        let driver = Driver::start().await;
        let browser = driver.session(size.0, size.1, name).await;
        Journey {
            app,
            browser,
            _driver: driver,
            _turn: turn,
        }
    }

    /// Opens a path of the site.
    pub async fn open(&self, path: &str) {
        self.browser.goto(&self.app.url(path)).await;
    }

    /// Reloads `path` until `css` has an element whose text holds `text` (a webhook or a job
    /// may land a moment later).
    pub async fn reload_until(&self, path: &str, css: &str, text: &str) {
        let started = std::time::Instant::now();
        loop {
            self.open(path).await;
            for element in self.browser.find_all(css).await {
                if self.browser.text_of(&element).await.contains(text) {
                    return;
                }
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "{path}: no {css:?} says {text:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }

    /// Runs axe-core on the page and fails on any serious or critical violation.
    pub async fn check_accessibility(&self, page: &str) {
        let source = std::fs::read_to_string(axe_path()).unwrap_or_else(|_| {
            panic!(
                "axe-core is missing at {}: run .ci/browser",
                axe_path().display()
            )
        });
        self.browser
            .execute(&format!("{source}\nreturn true;"), json!([]))
            .await;
        let found = self
            .browser
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                    .then(r => done(r.violations
                        .filter(v => v.impact === 'serious' || v.impact === 'critical')
                        .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                     nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) }))))
                    .catch(e => done([{ id: 'axe-failed', help: String(e) }]));",
                json!([]),
            )
            .await;
        let violations = found
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("{page}: axe-core did not run: {found}"));
        assert!(
            violations.is_empty(),
            "{page}: serious or critical accessibility violations:\n{}",
            serde_json::to_string_pretty(&Value::Array(violations)).unwrap()
        );
    }
}

/// Where `.ci/browser` puts axe-core.
fn axe_path() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("axe/axe-4.10.3.min.js")
}
