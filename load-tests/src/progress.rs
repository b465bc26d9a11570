//! The live progress line on stderr (hidden when stderr is not a terminal or
//! with `--no-progress`).

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A spinner whose message a task refreshes four times a second.
pub(crate) struct Progress {
    bar: ProgressBar,
    ticker: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Progress {
    pub(crate) fn new(enabled: bool) -> Progress {
        let target = if enabled {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(None, target);
        if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}") {
            bar.set_style(style);
        }
        Progress {
            bar,
            ticker: Mutex::new(None),
        }
    }

    fn stop_ticker(&self) {
        if let Some(t) = self.ticker.lock().unwrap_or_else(|e| e.into_inner()).take() {
            t.abort();
        }
    }

    /// Shows `phase` until the next call; `line` is called every 250 ms for
    /// the rest of the line.
    pub(crate) fn phase(&self, phase: &'static str, line: impl Fn() -> String + Send + 'static) {
        self.stop_ticker();
        let bar = self.bar.clone();
        bar.set_message(format!("{phase}: {}", line()));
        let ticker = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            loop {
                tick.tick().await;
                bar.set_message(format!("{phase}: {}", line()));
                bar.tick();
            }
        });
        *self.ticker.lock().unwrap_or_else(|e| e.into_inner()) = Some(ticker);
    }

    /// Runs `f` (which writes to stderr) with the line hidden meanwhile.
    pub(crate) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop_ticker();
        self.bar.finish_and_clear();
    }
}
