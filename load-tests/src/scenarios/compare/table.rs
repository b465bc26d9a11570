//! `compare`'s report: both halves side by side in the table, nested in the
//! JSON output, with the ratio and `lost` at the top level.

use serde_json::json;

use super::TARGET_RATIO;
use crate::cli::{Common, CompareArgs};
use crate::report::{group, group_f, Measure, Report};
use crate::stats::{round3, Summary};

/// Width of the relay's column.
const COLUMN: usize = 30;
/// Share of the run (%) `--max-rate` may hold a half's visitors back before
/// that half counts as measuring the brake rather than the target.
const CAPPED_PERCENT: f64 = 10.0;

/// switchboard / relay of delivered messages per second.
fn ratio(relay: &Report, switchboard: &Report) -> Option<f64> {
    let r = relay.number("delivered_per_second")?;
    let s = switchboard.number("delivered_per_second")?;
    (r > 0.0).then(|| s / r)
}

fn latency(s: Option<Summary>) -> String {
    match s {
        Some(s) if s.count > 0 => {
            format!("{:.2} / {:.2} / {:.2} ms", s.p50_ms, s.p99_ms, s.p999_ms)
        }
        _ => "-".into(),
    }
}

fn row(report: &mut Report, label: &str, relay: String, switchboard: String) {
    let line = format!("{relay:<COLUMN$}{switchboard}");
    report.add("", label, Measure::Lines(vec![line]));
}

/// A warning when `--max-rate` paced a half.
fn capped(name: &str, half: &Report, max_rate: f64) -> Option<String> {
    let percent = match half.get("capped_percent")? {
        Measure::Number(x) => *x,
        _ => return None,
    };
    (percent > CAPPED_PERCENT).then(|| {
        format!(
            "--max-rate ({max_rate}/s per visitor) held the {name} half's visitors back {percent:.0}% \
             of the time: its figure is a floor set by the load, not the target's limit; \
             raise --conversations"
        )
    })
}

pub(super) fn combine(
    common: &Common,
    args: &CompareArgs,
    relay: Report,
    switchboard: Report,
) -> Report {
    let load = match args.rate {
        Some(rate) => format!("open loop, {rate} msg/s per visitor"),
        None => format!(
            "closed loop, window {}, at most {} msg/s per visitor",
            args.window, args.max_rate
        ),
    };
    let setup = format!(
        "{} conversations, {} agent(s), {load}, {:.1} s per target",
        args.conversations,
        args.agents,
        common.duration.as_secs_f64()
    );
    let mut report = Report::new("compare", setup);
    let ratio = ratio(&relay, &switchboard);
    let (r, s) = (&relay, &switchboard);

    row(&mut report, "", "relay".into(), "switchboard".into());
    let rate = |h: &Report| {
        h.number("delivered_per_second")
            .map_or("-".into(), |x| format!("{} /s", group_f(x)))
    };
    row(
        &mut report,
        "delivered messages (both ways)",
        rate(r),
        rate(s),
    );
    for (key, label) in [
        ("visitor_to_agent", "visitor -> agent p50/p99/p99.9"),
        ("agent_to_visitor", "agent -> visitor p50/p99/p99.9"),
        ("round_trip", "round trip p50/p99/p99.9"),
        ("agent_post", "agent POST -> durable p50/p99/p99.9"),
    ] {
        row(
            &mut report,
            label,
            latency(r.latency_of(key)),
            latency(s.latency_of(key)),
        );
    }
    let count = |h: &Report, key: &str| h.number(key).map_or("-".into(), |n| group(n as u64));
    for (key, label) in [
        ("sent", "visitor messages sent"),
        ("answered", "visitor messages answered"),
        ("capped_sends", "sends held back by --max-rate"),
    ] {
        row(&mut report, label, count(r, key), count(s, key));
    }
    let percent = |h: &Report, key: &str| match h.get(key) {
        Some(Measure::Number(x)) => format!("{x:.0}%"),
        _ => "-".into(),
    };
    row(
        &mut report,
        "time held back by --max-rate",
        percent(r, "capped_percent"),
        percent(s, "capped_percent"),
    );
    row(
        &mut report,
        "target process CPU (1 core = 100%)",
        percent(r, "server_cpu_percent"),
        percent(s, "server_cpu_percent"),
    );
    row(
        &mut report,
        "load generator CPU",
        percent(r, "load_cpu_percent"),
        percent(s, "load_cpu_percent"),
    );
    let text = |h: &Report, key: &str| match h.get(key) {
        Some(Measure::Text(t)) => t.clone(),
        _ => "-".into(),
    };
    row(
        &mut report,
        "drained in time",
        text(r, "drained"),
        text(s, "drained"),
    );

    let open_loop = args.rate.is_some();
    let verdict = match ratio {
        None => "no figure: the relay delivered nothing".to_string(),
        Some(x) if open_loop => {
            format!("{x:.3}  (open loop, the same offered load: compare latencies)")
        }
        Some(x) if x >= TARGET_RATIO => format!("{x:.3}  (target {TARGET_RATIO}: met)"),
        Some(x) => format!(
            "{x:.3}  (target {TARGET_RATIO}: missed by {:.3}, switchboard at {:.0}% of it)",
            TARGET_RATIO - x,
            x / TARGET_RATIO * 100.0
        ),
    };
    report.add(
        "",
        "RATIO switchboard / relay",
        Measure::Lines(vec![verdict]),
    );
    let warnings: Vec<String> = [("relay", r), ("switchboard", s)]
        .into_iter()
        .filter_map(|(name, h)| capped(name, h, args.max_rate))
        .filter(|_| !open_loop)
        .collect();
    for w in &warnings {
        tracing::warn!("{w}");
    }
    if !warnings.is_empty() {
        report.add("", "WARNING", Measure::Lines(warnings.clone()));
    }

    report.add("ratio", "", Measure::Json(json!(ratio.map(round3))));
    report.add("target_ratio", "", Measure::Json(json!(TARGET_RATIO)));
    report.add(
        "target_met",
        "",
        // The target is about the most each can carry: the closed loop.
        Measure::Json(json!(ratio
            .filter(|_| !open_loop)
            .map(|x| x >= TARGET_RATIO))),
    );
    report.add("warnings", "", Measure::Json(json!(warnings)));
    report.add("relay", "", Measure::Json(relay.to_json()));
    report.add("switchboard", "", Measure::Json(switchboard.to_json()));
    report.lost = relay.lost + switchboard.lost;
    report.errors = relay.errors + switchboard.errors;
    for (name, half) in [("relay", &relay), ("switchboard", &switchboard)] {
        for (kind, e) in &half.error_kinds {
            report
                .error_kinds
                .insert(format!("{name}_{kind}"), e.clone());
        }
    }
    report
}
