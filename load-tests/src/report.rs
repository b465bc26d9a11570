//! A scenario's results: a table for people, one JSON object for programs.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::ledger::Audit;
use crate::stats::{round3, ErrorKind, Summary};

/// One measured value.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    Count(u64),
    /// Per second.
    Rate(f64),
    Bytes(u64),
    Seconds(f64),
    Latency(Summary),
    Text(String),
    /// A plain number (percentages, differences).
    Number(f64),
    /// Rows (soak intervals): `json` for the JSON output, `lines` for the table.
    Table {
        json: Value,
        lines: Vec<String>,
    },
    /// In the JSON output only (a nested object, e.g. one half of `compare`,
    /// whose figures the table shows in another form).
    Json(Value),
    /// In the table only (e.g. a row of `compare`'s side-by-side columns,
    /// whose figures the JSON output holds elsewhere).
    Lines(Vec<String>),
}

/// A named figure of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The key in the JSON output.
    pub key: String,
    /// How the table names it.
    pub label: String,
    pub value: Measure,
}

/// What a scenario measured.
#[derive(Debug, Clone)]
pub struct Report {
    pub scenario: String,
    /// One line describing the run (sizes, rates, duration).
    pub setup: String,
    /// Messages (or conversations) acknowledged by the server that did not
    /// reach everyone they should have or are missing from the database.
    pub lost: u64,
    /// Errors of every kind (failed connections, refused frames, HTTP errors, ...).
    pub errors: u64,
    pub error_kinds: BTreeMap<String, ErrorKind>,
    pub figures: Vec<Figure>,
}

impl Report {
    pub fn new(scenario: &str, setup: String) -> Report {
        Report {
            scenario: scenario.to_string(),
            setup,
            lost: 0,
            errors: 0,
            error_kinds: BTreeMap::new(),
            figures: Vec::new(),
        }
    }

    pub fn add(&mut self, key: &str, label: &str, value: Measure) {
        self.figures.push(Figure {
            key: key.to_string(),
            label: label.to_string(),
            value,
        });
    }

    pub fn count(&mut self, key: &str, label: &str, n: u64) {
        self.add(key, label, Measure::Count(n));
    }

    pub fn rate(&mut self, key: &str, label: &str, per_second: f64) {
        self.add(key, label, Measure::Rate(per_second));
    }

    pub fn latency(&mut self, key: &str, label: &str, summary: Summary) {
        self.add(key, label, Measure::Latency(summary));
    }

    /// The ledger's figures, and `lost` from it.
    pub fn audit(&mut self, prefix: &str, what: &str, audit: &Audit) {
        self.lost += audit.lost;
        let mut n = |key: &str, label: &str, v: u64| {
            self.count(&format!("{prefix}_{key}"), &format!("{what} {label}"), v);
        };
        n("sent", "sent", audit.sent);
        n("acked", "acknowledged", audit.acked);
        n("unacked", "never acknowledged", audit.unacked);
        n(
            "undelivered",
            "acknowledged, not delivered",
            audit.undelivered,
        );
        n(
            "missing_deliveries",
            "deliveries missing",
            audit.missing_deliveries,
        );
        n(
            "duplicate_deliveries",
            "deliveries duplicated",
            audit.duplicate_deliveries,
        );
        n(
            "not_in_database",
            "acknowledged, not in the database",
            audit.not_in_database,
        );
        n("lost", "lost", audit.lost);
    }

    /// CPU use during the measured window (see [`crate::stats::CpuWindow`]).
    pub fn cpu(&mut self, (server, own): (Option<f64>, Option<f64>)) {
        if let Some(server) = server {
            self.add(
                "server_cpu_percent",
                "server CPU while measuring (% of one core)",
                Measure::Number(server),
            );
        }
        if let Some(own) = own {
            self.add(
                "load_cpu_percent",
                "load generator CPU while measuring (% of one core)",
                Measure::Number(own),
            );
        }
    }

    pub fn get(&self, key: &str) -> Option<&Measure> {
        self.figures.iter().find(|f| f.key == key).map(|f| &f.value)
    }

    /// A count or a rate, as a number.
    pub fn number(&self, key: &str) -> Option<f64> {
        match self.get(key)? {
            Measure::Count(n) | Measure::Bytes(n) => Some(*n as f64),
            Measure::Rate(x) | Measure::Seconds(x) => Some(*x),
            _ => None,
        }
    }

    pub fn latency_of(&self, key: &str) -> Option<Summary> {
        match self.get(key)? {
            Measure::Latency(s) => Some(*s),
            _ => None,
        }
    }

    /// Everything as one JSON object, `lost` at the top level.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("scenario".into(), json!(self.scenario));
        out.insert("setup".into(), json!(self.setup));
        out.insert("lost".into(), json!(self.lost));
        out.insert("errors".into(), json!(self.errors));
        for f in &self.figures {
            let v = match &f.value {
                Measure::Count(n) | Measure::Bytes(n) => json!(n),
                Measure::Rate(x) | Measure::Seconds(x) => json!(round3(*x)),
                Measure::Latency(s) => json!(s),
                Measure::Text(t) => json!(t),
                Measure::Number(x) => json!(round3(*x)),
                Measure::Table { json, .. } | Measure::Json(json) => json.clone(),
                Measure::Lines(_) => continue,
            };
            out.insert(f.key.clone(), v);
        }
        out.insert("error_kinds".into(), json!(self.error_kinds));
        Value::Object(out)
    }

    /// The summary table.
    pub fn table(&self) -> String {
        let mut rows: Vec<(String, String)> = Vec::new();
        for f in &self.figures {
            let text = match &f.value {
                Measure::Count(n) => group(*n),
                Measure::Rate(x) => format!("{} /s", group_f(*x)),
                Measure::Bytes(n) => format!("{} B ({})", group(*n), human_bytes(*n)),
                Measure::Seconds(x) => format!("{x:.2} s"),
                Measure::Latency(s) if s.count == 0 => "no samples".to_string(),
                Measure::Latency(s) => format!(
                    "p50 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms  (n={})",
                    s.p50_ms,
                    s.p99_ms,
                    s.p999_ms,
                    s.max_ms,
                    group(s.count)
                ),
                Measure::Text(t) => t.clone(),
                Measure::Number(x) => format!("{x:.1}"),
                Measure::Table { lines, .. } | Measure::Lines(lines) => lines.join("\n"),
                Measure::Json(_) => continue,
            };
            rows.push((f.label.clone(), text));
        }
        rows.push(("errors".into(), group(self.errors)));
        for (kind, e) in &self.error_kinds {
            rows.push((
                format!("  {kind}"),
                format!("{} (e.g. {})", group(e.count), e.example),
            ));
        }
        rows.push(("LOST".into(), group(self.lost)));
        let width = rows
            .iter()
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = format!("switchboard-load {}: {}\n", self.scenario, self.setup);
        for (label, text) in rows {
            let mut lines = text.lines();
            let first = lines.next().unwrap_or("");
            out.push_str(&format!("  {label:<width$}  {first}\n"));
            for more in lines {
                out.push_str(&format!("  {:<width$}  {more}\n", ""));
            }
        }
        out
    }
}

/// 1234567 as `1,234,567`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate: grouped whole numbers from 100 up, two decimals below.
pub fn group_f(x: f64) -> String {
    if x >= 100.0 {
        group(x.round() as u64)
    } else {
        format!("{x:.2}")
    }
}

fn human_bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GiB", n / 1024.0 / 1024.0 / 1024.0)
    } else if n >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", n / 1024.0 / 1024.0)
    } else if n >= 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_lost_at_the_top() {
        let mut r = Report::new("chat", "tiny".into());
        r.count("deliveries", "deliveries", 12);
        r.rate("deliveries_per_second", "deliveries", 1234.5678);
        r.lost = 2;
        let v = r.to_json();
        assert_eq!(v["lost"], 2);
        assert_eq!(v["deliveries"], 12);
        assert_eq!(v["deliveries_per_second"], 1234.568);
        let table = r.table();
        assert!(table.contains("1,235 /s"), "{table}");
        assert!(table.contains("LOST"), "{table}");
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1234567), "1,234,567");
    }
}
