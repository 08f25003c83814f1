//! The Prometheus text exposition format, version 0.0.4: per metric a
//! `# HELP` and a `# TYPE` line, then one sample a line,
//! `name{label="value",...} number`. Families are labelled by name only.

use std::fmt::Write as _;

use super::{FamilyState, State};

/// The `Content-Type` of [`render`]'s text.
pub(super) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric with one sample per family, labelled `family`.
struct PerFamily {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    /// The family's value; `None` leaves its sample out.
    value: fn(&FamilyState) -> Option<f64>,
}

const APPLIED: PerFamily = PerFamily {
    name: "projector_events_applied_total",
    kind: "counter",
    help: "Events applied, per family.",
    value: |f| Some(f.n_applied as f64),
};

const FAILED: PerFamily = PerFamily {
    name: "projector_events_failed_total",
    kind: "counter",
    help: "Events that failed and were recorded in projector_failed_events \
           (a retry that fails again counts again), per family.",
    value: |f| Some(f.n_failed as f64),
};

const LAG_EVENTS: PerFamily = PerFamily {
    name: "projector_lag_events",
    kind: "gauge",
    help: "Subscribed events committed after the family's checkpoints and not yet applied, \
           as last measured (absent when the measurement failed).",
    value: |f| f.lag.as_ref()?.as_ref().ok().map(|l| l.n_events as f64),
};

const LAG_SECONDS: PerFamily = PerFamily {
    name: "projector_lag_seconds",
    kind: "gauge",
    help: "Age of the oldest event not yet applied (0 when none), \
           as last measured (absent when the measurement failed).",
    value: |f| f.lag.as_ref()?.as_ref().ok().map(|l| l.seconds),
};

const STUCK_TENANTS: PerFamily = PerFamily {
    name: "projector_stuck_tenants",
    kind: "gauge",
    help: "Tenants stopped at a failed event.",
    value: |f| Some(f.stuck_tenants as f64),
};

const PAUSED: PerFamily = PerFamily {
    name: "projector_family_paused",
    kind: "gauge",
    help: "1 while the family is paused (projector family pause): run starts no batch of it.",
    value: |f| Some(if f.paused { 1.0 } else { 0.0 }),
};

/// Every metric, families in name order.
pub(super) fn render(state: &State) -> String {
    let mut out = String::new();
    let families: Vec<(&str, &FamilyState)> = state
        .families
        .iter()
        .map(|(name, f)| (name.as_str(), f))
        .collect();
    per_family(&mut out, &families, &APPLIED);
    per_family(&mut out, &families, &FAILED);
    histogram(&mut out, &families);
    per_family(&mut out, &families, &LAG_EVENTS);
    per_family(&mut out, &families, &LAG_SECONDS);
    per_family(&mut out, &families, &STUCK_TENANTS);
    plugin_info(&mut out, &families);
    per_family(&mut out, &families, &PAUSED);
    out
}

fn per_family(out: &mut String, families: &[(&str, &FamilyState)], metric: &PerFamily) {
    header(out, metric.name, metric.kind, metric.help);
    for (family, f) in families {
        if let Some(value) = (metric.value)(f) {
            sample(out, metric.name, &[("family", family)], value);
        }
    }
}

/// `projector_plugin_info`: the active version as a label, value 1.
fn plugin_info(out: &mut String, families: &[(&str, &FamilyState)]) {
    const NAME: &str = "projector_plugin_info";
    header(
        out,
        NAME,
        "gauge",
        "The active plugin version of each family (version@hash), as a label.",
    );
    for (family, f) in families {
        let labels = [("family", *family), ("version", f.version.as_str())];
        sample(out, NAME, &labels, 1.0);
    }
}

/// `projector_batch_apply_seconds`: buckets, sum and count per family.
fn histogram(out: &mut String, families: &[(&str, &FamilyState)]) {
    const NAME: &str = "projector_batch_apply_seconds";
    header(
        out,
        NAME,
        "histogram",
        "Time to apply a batch: its transaction (rows, checkpoints, failure records) from start to commit.",
    );
    for (family, f) in families {
        let bucket = format!("{NAME}_bucket");
        for (bound, n) in f.batch_apply.cumulative() {
            let le = bound.map_or_else(|| "+Inf".to_owned(), number);
            sample(out, &bucket, &[("family", family), ("le", &le)], n as f64);
        }
        let labels = [("family", *family)];
        sample(out, &format!("{NAME}_sum"), &labels, f.batch_apply.sum());
        sample(
            out,
            &format!("{NAME}_count"),
            &labels,
            f.batch_apply.count() as f64,
        );
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    let labels: Vec<String> = labels
        .iter()
        .map(|(key, value)| format!("{key}=\"{}\"", label_value(value)))
        .collect();
    let _ = writeln!(out, "{name}{{{}}} {}", labels.join(","), number(value));
}

/// A label value with `\`, `"` and line feeds escaped.
fn label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A sample value as Prometheus reads it (`+Inf`, `-Inf`, `NaN`; Rust's
/// shortest form otherwise, which never uses an exponent).
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{Metrics, MetricsOptions};
    use super::*;

    #[test]
    fn labels_are_escaped_and_numbers_are_prometheus_numbers() {
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(0.0025), "0.0025");
        assert_eq!(number(3.0), "3");
    }

    #[test]
    fn a_family_has_every_series_with_its_label() {
        let metrics = Metrics::new(MetricsOptions::default());
        metrics.family_round("orgs", "1.0.0@abc", true, 2);
        metrics.batch_committed("orgs", 5, 1, Duration::from_millis(3));
        let text = metrics.render();
        for line in [
            "projector_events_applied_total{family=\"orgs\"} 5",
            "projector_events_failed_total{family=\"orgs\"} 1",
            "projector_batch_apply_seconds_bucket{family=\"orgs\",le=\"0.0025\"} 0",
            "projector_batch_apply_seconds_bucket{family=\"orgs\",le=\"0.005\"} 1",
            "projector_batch_apply_seconds_bucket{family=\"orgs\",le=\"+Inf\"} 1",
            "projector_batch_apply_seconds_count{family=\"orgs\"} 1",
            "projector_stuck_tenants{family=\"orgs\"} 2",
            "projector_plugin_info{family=\"orgs\",version=\"1.0.0@abc\"} 1",
            "projector_family_paused{family=\"orgs\"} 1",
            "# TYPE projector_batch_apply_seconds histogram",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
        assert!(
            !text.contains("projector_lag_events{"),
            "a lag not measured yet has no sample:\n{text}"
        );
    }
}
