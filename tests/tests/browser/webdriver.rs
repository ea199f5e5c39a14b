//! A small W3C WebDriver client over reqwest: enough to drive headless Chromium through
//! chromedriver (navigate, find, click, type, read, run a script, take a screenshot). Chromium and
//! chromedriver come from the distribution's packages (`.ci/browser` installs them).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// The key WebDriver names element references with.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(name: &str) -> PathBuf {
    let candidates = [format!("/usr/bin/{name}"), format!("/usr/local/bin/{name}")];
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("{name} is not installed: run .ci/browser (Debian packages chromium and chromium-driver)")
        })
}

/// A chromedriver process, killed when dropped.
pub struct Driver {
    process: Child,
    url: String,
    http: reqwest::Client,
    profile: PathBuf,
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it is ready.
    pub async fn start() -> Driver {
        let chromedriver = find_program("chromedriver");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let process = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let ready = http
                .get(format!("{url}/status"))
                .send()
                .await
                .ok()
                .and_then(|r| r.status().is_success().then_some(()))
                .is_some();
            if ready {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not answer within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(format!("hc3-chromium-{}", uuid::Uuid::new_v4()));
        Driver {
            process,
            url,
            http,
            profile,
        }
    }

    /// Opens a headless Chromium window of `width` × `height` CSS pixels.
    pub async fn session(&self, width: u32, height: u32, screenshots: &str) -> Session {
        let chromium = find_program("chromium");
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium,
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-gpu",
                            "--disable-dev-shm-usage", "--disable-background-networking",
                            "--disable-component-update", "--no-first-run", "--disable-sync",
                            "--disable-quic", "--hide-scrollbars",
                            format!("--window-size={width},{height}"),
                            format!("--user-data-dir={}", self.profile.display()),
                        ]
                    }
                }
            }
        });
        let answer: Value = self
            .http
            .post(format!("{}/session", self.url))
            .json(&capabilities)
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("a JSON answer");
        let id = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {answer}"))
            .to_owned();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
            .join("browser-screenshots")
            .join(screenshots);
        std::fs::create_dir_all(&dir).expect("the screenshot folder");
        let session = Session {
            http: self.http.clone(),
            url: format!("{}/session/{id}", self.url),
            screenshots: dir,
        };
        session.set_window(width, height).await;
        session
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.start_kill();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One browser window.
pub struct Session {
    http: reqwest::Client,
    url: String,
    screenshots: PathBuf,
}

/// An element on the page.
#[derive(Clone, Debug)]
pub struct Element(String);

impl Session {
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_command(method, path, body)
            .await
            .unwrap_or_else(|error| panic!("WebDriver {path}: {error}"))
    }

    /// A command whose refusal the caller handles (an element replaced by a new page).
    async fn try_command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("a JSON answer");
        if let Some(error) = answer["value"]["error"].as_str() {
            return Err(format!(
                "{error}: {}",
                answer["value"]["message"].as_str().unwrap_or_default()
            ));
        }
        Ok(answer["value"].clone())
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.command(reqwest::Method::GET, path, None).await
    }

    /// Resizes the window.
    pub async fn set_window(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
    }

    /// Opens a URL.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The address shown.
    pub async fn current_url(&self) -> String {
        self.get("/url")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's title.
    pub async fn title(&self) -> String {
        self.get("/title")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Every element matching a CSS selector.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let found = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await;
        found
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e[ELEMENT_KEY].as_str().map(|id| Element(id.to_owned())))
            .collect()
    }

    /// The first element matching a CSS selector, waiting up to 10 s for it.
    pub async fn find(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Some(element) = self.find_all(css).await.into_iter().next() {
                return element;
            }
            if started.elapsed() > Duration::from_secs(10) {
                let url = self.current_url().await;
                let page = self.page_text().await;
                panic!("no element matches {css:?} on {url}; the page says:\n{page}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The first element whose text contains `text` among those matching `css`.
    pub async fn find_with_text(&self, css: &str, text: &str) -> Element {
        let started = Instant::now();
        loop {
            for element in self.find_all(css).await {
                if self.text_of(&element).await.contains(text) {
                    return element;
                }
            }
            if started.elapsed() > Duration::from_secs(10) {
                let url = self.current_url().await;
                panic!("no {css:?} with text {text:?} on {url}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The start of the page's visible text (for failure messages).
    pub async fn page_text(&self) -> String {
        let text = self
            .execute(
                "return document.body ? document.body.innerText : '';",
                json!([]),
            )
            .await;
        text.as_str()
            .unwrap_or_default()
            .chars()
            .take(600)
            .collect()
    }

    /// Waits until some element matching `css` shows `text` (read in the page, so a page being
    /// replaced by the next one is simply read again).
    pub async fn wait_for_text(&self, css: &str, text: &str) {
        let started = Instant::now();
        loop {
            let shown = self
                .execute(
                    "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText);",
                    json!([css]),
                )
                .await;
            let found = shown
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .any(|t| t.contains(text));
            if found {
                return;
            }
            if started.elapsed() > Duration::from_secs(10) {
                let url = self.current_url().await;
                let page = self.page_text().await;
                panic!("no {css:?} says {text:?} on {url}; the page says:\n{page}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks an element.
    pub async fn click_element(&self, element: &Element) {
        self.post(&format!("/element/{}/click", element.0), json!({}))
            .await;
    }

    /// Clicks the first element matching a CSS selector.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.click_element(&element).await;
    }

    /// Clicks the first `css` element whose text contains `text`.
    pub async fn click_text(&self, css: &str, text: &str) {
        let element = self.find_with_text(css, text).await;
        self.click_element(&element).await;
    }

    /// Replaces an input's value by typing `text` into it (a file input takes a path).
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        if self.attribute(&element, "type").await.as_deref() != Some("file") {
            self.post(&format!("/element/{}/clear", element.0), json!({}))
                .await;
        }
        self.post(
            &format!("/element/{}/value", element.0),
            json!({ "text": text }),
        )
        .await;
    }

    /// Chooses the option with `value` in a select.
    pub async fn select(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value=\"{value}\"]"))
            .await;
    }

    /// An element's visible text (empty when the element has been replaced meanwhile).
    pub async fn text_of(&self, element: &Element) -> String {
        self.try_command(
            reqwest::Method::GET,
            &format!("/element/{}/text", element.0),
            None,
        )
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
    }

    /// The visible text of the first element matching a CSS selector (read again if the page
    /// replaced it meanwhile).
    pub async fn text(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            let element = self.find(css).await;
            let read = self
                .try_command(
                    reqwest::Method::GET,
                    &format!("/element/{}/text", element.0),
                    None,
                )
                .await;
            match read {
                Ok(text) => return text.as_str().unwrap_or_default().to_owned(),
                Err(error) if started.elapsed() > Duration::from_secs(10) => {
                    panic!("reading {css:?}: {error}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// An element's attribute.
    pub async fn attribute(&self, element: &Element, name: &str) -> Option<String> {
        self.get(&format!("/element/{}/attribute/{name}", element.0))
            .await
            .as_str()
            .map(str::to_owned)
    }

    /// Waits until the page's address satisfies `check`.
    pub async fn wait_for_url(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let url = self.current_url().await;
            if check(&url) {
                return url;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "{what}: still on {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs a script in the page and returns what it returns.
    pub async fn execute(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Runs an asynchronous script (it calls the last argument with its result).
    pub async fn execute_async(&self, script: &str, args: Value) -> Value {
        self.post("/execute/async", json!({"script": script, "args": args}))
            .await
    }

    /// Saves a screenshot of the window as `<name>.png` under `target/browser-screenshots/`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let encoded = self.get("/screenshot").await;
        let bytes = decode_base64(encoded.as_str().unwrap_or_default());
        let path = self.screenshots.join(format!("{name}.png"));
        std::fs::write(&path, bytes).expect("the screenshot is saved");
        path
    }

    /// Closes the window (and its browser).
    pub async fn close(self) {
        let _ = self.http.delete(&self.url).send().await;
    }
}

/// Decodes standard base64 (screenshots arrive so).
fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter_map(value) {
        buffer = (buffer << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    out
}

#[test]
fn base64_decodes_like_the_standard_says() {
    assert_eq!(decode_base64("aGVsbG8="), b"hello");
    assert_eq!(decode_base64("aGk="), b"hi");
    assert_eq!(decode_base64(""), b"");
}
