//! What the stream tests share: the seeds they check, a seed's stream, the
//! fields of an import line, its transactions, the event types and payload
//! keys a stream holds, and the checks every family's stream test makes.

// Each test binary uses a part of these.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use streams::{Config, generate};

/// The seeds of the default-size streams checked.
pub(crate) const SEEDS: [u64; 3] = [1, 2, 0xC0FFEE];

/// The default-size stream of `seed`.
pub(crate) fn stream(seed: u64) -> Vec<Value> {
    generate(&Config {
        seed,
        ..Config::default()
    })
}

/// A text field of an import line or payload ("" when absent).
pub(crate) fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

/// The transactions of a stream: the lines sharing a position.
pub(crate) fn transactions(lines: &[Value]) -> Vec<&[Value]> {
    lines
        .chunk_by(|a, b| a["position"] == b["position"])
        .collect()
}

/// The keys of a line's payload (none when it has no object).
pub(crate) fn payload_keys(line: &Value) -> Vec<String> {
    line["payload"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Per event type, the sets of payload keys it occurs with.
pub(crate) fn key_sets(lines: &[Value]) -> BTreeMap<String, BTreeSet<Vec<String>>> {
    let mut sets: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
    for line in lines {
        let event_type = text(line, "event_type").to_owned();
        sets.entry(event_type)
            .or_default()
            .insert(payload_keys(line));
    }
    sets
}

/// How often each event type occurs in `lines`, after asserting that each
/// of `event_types` does.
pub(crate) fn assert_written<'a>(
    seed: u64,
    lines: impl IntoIterator<Item = &'a Value>,
    event_types: &[&str],
) -> BTreeMap<&'a str, usize> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for line in lines {
        *counts.entry(text(line, "event_type")).or_default() += 1;
    }
    let missing: Vec<&str> = event_types
        .iter()
        .copied()
        .filter(|e| !counts.contains_key(e))
        .collect();
    assert!(
        missing.is_empty(),
        "seed {seed}: never written: {missing:?}"
    );
    counts
}

/// Assert that a family's own events (of the aggregate types `own` tells)
/// are `event_types`, each of them and no other, and are owned by their
/// instance.
pub(crate) fn assert_own_event_types(
    seed: u64,
    lines: &[Value],
    own: impl Fn(&str) -> bool,
    event_types: &[&str],
) {
    let ours: Vec<&Value> = lines
        .iter()
        .filter(|l| own(text(l, "aggregate_type")))
        .collect();
    for line in &ours {
        assert_eq!(text(line, "owner"), text(line, "instance_id"), "{line}");
    }
    let counts = assert_written(seed, ours, event_types);
    let unexpected: Vec<&&str> = counts.keys().filter(|e| !event_types.contains(e)).collect();
    assert!(unexpected.is_empty(), "seed {seed}: {unexpected:?}");
}

/// The lines of seed 5's stream that `keep` keeps, after asserting that
/// seed 5 always gives the same ones and seed 6 others.
pub(crate) fn same_for_a_seed(keep: impl Fn(&Value) -> bool) -> Vec<Value> {
    let kept = |seed: u64| -> Vec<Value> { stream(seed).into_iter().filter(|l| keep(l)).collect() };
    let first = kept(5);
    assert_eq!(first, kept(5));
    assert_ne!(first, kept(6));
    first
}
