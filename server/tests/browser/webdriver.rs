//! A small WebDriver client: just what the browser tests use, over the
//! W3C protocol chromedriver speaks. Elements are found by CSS selector;
//! anything subtler runs as a script in the page.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};

/// How long a test waits for the page to reach a state it expects.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// The W3C key for Enter, for [`Browser::type_into`].
pub(crate) const ENTER: &str = "\u{E007}";

/// A chromedriver process and one headless Chromium session in it.
pub struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a session. `None` when
    /// chromium or chromedriver is not installed.
    pub async fn start(width: u32, height: u32) -> Option<Browser> {
        let driver_path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())?;
        let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + WAIT;
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", format!("--window-size={width},{height}"),
                         "--lang=en-US"],
            }
        }}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session JSON");
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_string();
        Some(Browser {
            driver,
            http,
            session: format!("{base}/session/{session}"),
        })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res: Value = req
            .send()
            .await
            .expect("webdriver call")
            .json()
            .await
            .expect("JSON");
        if let Some(error) = res["value"]["error"].as_str() {
            panic!("webdriver {path}: {error}: {}", res["value"]["message"]);
        }
        res["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub async fn refresh(&self) {
        self.call(reqwest::Method::POST, "/refresh", Some(json!({})))
            .await;
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the
    /// current frame and returns its result.
    pub async fn run(&self, script: &str, args: Value) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Polls `script` until it returns something other than null/false.
    pub async fn wait_for(&self, what: &str, script: &str, args: Value) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let value = self.run(script, args.clone()).await;
            if !(value.is_null() || value == Value::Bool(false)) {
                return value;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("timed out waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Enters the frame element `script` returns (it may sit in a shadow
    /// root, which frame indexes do not reach).
    pub async fn enter_frame(&self, script: &str) {
        let element = self.run(script, json!([])).await;
        assert!(element.is_object(), "no frame element from {script}");
        self.call(
            reqwest::Method::POST,
            "/frame",
            Some(json!({"id": element})),
        )
        .await;
    }

    pub async fn leave_frame(&self) {
        self.call(reqwest::Method::POST, "/frame", Some(json!({"id": null})))
            .await;
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    /// Types `text` into the element as keystrokes.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Replaces a field's text by typing, as a person would.
    pub async fn fill(&self, css: &str, text: &str) {
        self.run(
            "const e = document.querySelector(arguments[0]); e.value = '';",
            json!([css]),
        )
        .await;
        self.type_into(css, text).await;
    }

    /// The value of a form field (`null` when there is no such element).
    pub async fn value(&self, css: &str) -> Value {
        self.run(
            "const e = document.querySelector(arguments[0]); return e ? e.value : null;",
            json!([css]),
        )
        .await
    }

    /// A screenshot named `name` for this database, its path printed so a
    /// failing run shows where to look.
    pub async fn shot(&self, name: &str, db: impl std::fmt::Debug) {
        let path = self.screenshot(&format!("{name}-{db:?}")).await;
        eprintln!("screenshot: {}", path.display());
    }

    pub async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Saves a PNG of the window under `target/artifacts/`; returns its path.
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("base64 screenshot"))
            .expect("valid base64");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/artifacts");
        std::fs::create_dir_all(&dir).expect("artifacts folder");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("screenshot written");
        path
    }

    /// Ends the session (closing Chromium) and chromedriver.
    pub async fn quit(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

impl Drop for Browser {
    /// A test that panics never reaches [`Browser::quit`]: end the session
    /// (which closes Chromium) with a blocking request, so no browser
    /// outlives its chromedriver.
    fn drop(&mut self) {
        use std::io::{Read, Write};
        let rest = self.session.trim_start_matches("http://");
        if let Some((host, path)) = rest.split_once('/') {
            if let Ok(mut tcp) = std::net::TcpStream::connect(host) {
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                let request =
                    format!("DELETE /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
                if tcp.write_all(request.as_bytes()).is_ok() {
                    let _ = tcp.read_to_end(&mut Vec::new());
                }
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
