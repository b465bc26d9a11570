//! End-to-end tests in headless Chromium: the widget on the example host
//! page and the agent console, driven over WebDriver (chromedriver), against
//! a real server on SQLite and on Postgres.
//!
//! Without `/usr/bin/chromium` and `/usr/bin/chromedriver` these tests say
//! so once and pass; `.ci/run` installs both and, through
//! `SWITCHBOARD_TEST_BROWSER_LOG`, checks that they really ran. Screenshots
//! are saved under `target/artifacts/`.

#[allow(dead_code)]
#[path = "../api/agendor_fake.rs"]
mod agendor_fake;
mod channels;
#[allow(dead_code)]
#[path = "../api/common.rs"]
mod common;
mod console;
mod crm;
mod editing;
mod errors;
mod files;
#[allow(dead_code)]
#[path = "../api/meta.rs"]
mod meta;
mod proxy;
#[allow(dead_code)]
#[path = "../api/standin.rs"]
mod standin;
mod templates;
mod webdriver;
mod widget;
#[allow(dead_code)]
#[path = "../api/ws.rs"]
mod ws;

use std::io::Write;
use std::sync::Once;

/// When set, each browser test that really ran appends a line here.
pub const BROWSER_LOG_ENV: &str = "SWITCHBOARD_TEST_BROWSER_LOG";

/// A browser session, or `None` (with a notice) when none is installed.
pub async fn browser(width: u32, height: u32) -> Option<webdriver::Browser> {
    let browser = webdriver::Browser::start(width, height).await;
    match &browser {
        Some(_) => {
            if let Ok(log) = std::env::var(BROWSER_LOG_ENV) {
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .expect("browser log");
                writeln!(file, "ran").expect("write browser log");
            }
        }
        None => {
            static NOTICE: Once = Once::new();
            NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "note: chromium or chromedriver is not installed; the browser tests are skipped"
                );
            });
        }
    }
    browser
}
