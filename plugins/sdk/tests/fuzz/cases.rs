//! Target 2: texts for the conformance case parser, and what its answer
//! must be.
//!
//! Texts are arbitrary, or one to four lines of a real case file: as they
//! are, blank, or mutated by byte flips, truncation, deletion, duplication,
//! deep nesting, replaced values and spliced JSON fragments.

use arbitrary::Unstructured;
use projection_conformance::{CaseError, parse_cases};
use projection_sdk::time::{format_rfc3339, parse_rfc3339};

use fuzzing::{Gen, Verdict, ensure, mutate, non_blank};

/// JSON and case-format fragments spliced into real lines.
pub(crate) const CASE_FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "null",
    "true",
    "-0",
    "1e999",
    "99999999999999999999",
    "-9223372036854775809",
    "\"\\ud800\"",
    "\\u0000",
    "\u{e9}",
    "\u{1f4a5}",
    "\u{feff}",
    "\n",
    "\r\n",
    "\"created_at\": \"2024-02-30T00:00:00Z\"",
    "\"created_at\": \"2026-01-01T00:00:00.1234567890123Z\"",
    "\"created_at\": \"2026-01-01T00:00:00+99:99\"",
    "\"created_at\": \"2026-01-01T00:00:0\u{e9}Z\"",
    "\"created_at\": \"2026-01-01T00:00:00\u{e9}\"",
    "\"created_at\": \"9999-12-31T23:59:59-23:59\"",
    "\"created_at\": \"0000-01-01T00:00:00+23:59\"",
    "\"created_at\": 5",
    "{\"bytes_b64\": \"!!\"}",
    "{\"bytes_b64\": \"AAEC\"}",
    "{\"duration_ns\": 1.5}",
    "{\"duration_ns\": 99999999999999999999}",
    "{\"any\": false}",
    "{\"any\": true}",
    "{\"copy_from_column\": 1}",
    "{\"array_append\": {\"array_remove\": []}}",
    "{\"array_intersect\": \"x\"}",
    "{\"event_created_at\": true}",
    "\"op\": \"explode\"",
    "\"op\": \"noop\"",
    "\"op\": \"copy\"",
    "\"sequence\": 1.5",
    "\"sequence\": -9223372036854775808",
    "\"prior_events\": [{}]",
    "\"prior_events\": [{\"created_at\": \"x\"}]",
    "\"prior_events\": null",
    "\"conditions\": [{\"column\": \"a\", \"op\": \"ne\"}]",
    "\"conditions\": [{\"column\": \"a\", \"op\": \"is_null\", \"value\": {\"any\": true}}]",
    "\"effects\": []",
    "\"effects\": [{\"op\": \"error\"}]",
    "\"case\": \"\"",
    "\"case\": 7",
    "\"event\": {}",
    "\"payload\": [1, {\"a\": null}]",
];

/// Keys whose values a mutation replaces.
const CASE_KEYS: &[&str] = &[
    "\"created_at\": ",
    "\"sequence\": ",
    "\"payload\": ",
    "\"values\": ",
    "\"instance_id\": ",
    "\"op\": ",
];

/// A text of one to four lines: real, mutated, arbitrary or blank.
pub(crate) fn lines_input(
    u: &mut Unstructured<'_>,
    real: &[String],
    fragments: &[&str],
) -> Gen<String> {
    if u.ratio(1, 10u8)? {
        return u.arbitrary();
    }
    let n = 1 + u.int_in_range(0..=3u8)?;
    let mut text = String::new();
    for i in 0..n {
        if i > 0 {
            text.push_str(if u.ratio(1, 5u8)? { "\r\n" } else { "\n" });
        }
        let line = u.choose(real)?;
        match u.int_in_range(0..=9u8)? {
            0 => text.push_str(line),
            1 => text.push_str(if u.arbitrary()? { "" } else { "  \t" }),
            2 => text.push_str(&u.arbitrary::<String>()?),
            _ => text.push_str(&mutate(u, line, CASE_KEYS, fragments)?),
        }
    }
    Ok(text)
}

pub(crate) fn check_cases(text: &str) -> Verdict {
    const SOURCE: &str = "fuzz.jsonl";
    let lines = non_blank(text);
    match parse_cases(text, SOURCE) {
        Ok(cases) => {
            ensure!(
                cases.len() == lines.len(),
                "{} cases from {} lines",
                cases.len(),
                lines.len()
            );
            for (case, (_, line)) in cases.iter().zip(&lines) {
                let json: serde_json::Value = match serde_json::from_str(line) {
                    Ok(json) => json,
                    // Unknown fields are skipped without reading their numbers.
                    Err(e) if e.to_string().starts_with("number out of range") => continue,
                    Err(e) => return Err(format!("accepted a line that is not JSON ({e})")),
                };
                let event = &json["event"];
                let text_or =
                    |v: &serde_json::Value, default: &str| v.as_str().unwrap_or(default).to_owned();
                ensure!(case.name == text_or(&json["case"], ""), "name changed");
                ensure!(
                    case.event.instance_id == text_or(&event["instance_id"], "instance-id"),
                    "instance_id changed: {:?}",
                    case.event.instance_id
                );
                ensure!(
                    case.event.event_type == text_or(&event["event_type"], ""),
                    "event_type changed"
                );
                let given_payload = match &event["payload"] {
                    serde_json::Value::Null => None,
                    v => Some(v.clone()),
                };
                let payload = case
                    .event
                    .payload
                    .as_deref()
                    .map(serde_json::from_str::<serde_json::Value>)
                    .transpose()
                    .map_err(|e| format!("the payload is no longer JSON: {e}"))?;
                ensure!(payload == given_payload, "payload changed: {payload:?}");
                let effects = json["effects"].as_array().map_or(0, Vec::len);
                ensure!(case.effects.len() == effects, "effects lost");
                let prior = json["prior_events"].as_array().map_or(0, Vec::len);
                ensure!(case.prior_events.len() == prior, "prior events lost");
                for (i, e) in case.prior_events.iter().enumerate() {
                    ensure!(
                        usize::try_from(e.in_tx_order) == Ok(i),
                        "prior event {i} has order {}",
                        e.in_tx_order
                    );
                }
                for e in std::iter::once(&case.event).chain(&case.prior_events) {
                    let again = parse_rfc3339(&format_rfc3339(e.created_at));
                    ensure!(
                        again == Some(e.created_at),
                        "created_at {} does not survive formatting: {again:?}",
                        e.created_at
                    );
                }
                for effect in &case.effects {
                    for v in effect.values.values().chain(effect.where_.values()) {
                        ensure!(!v.to_string().is_empty(), "{v:?} shows as nothing");
                    }
                }
            }
            Ok("ok")
        }
        Err(CaseError::Invalid {
            file,
            line,
            message,
        }) => {
            ensure!(file == SOURCE, "the error names {file:?}");
            let named = lines.iter().position(|(n, _)| *n == line);
            let Some(index) = named else {
                return Err(format!(
                    "the error names line {line}, which is blank or absent"
                ));
            };
            let shown = CaseError::Invalid {
                file,
                line,
                message,
            }
            .to_string();
            ensure!(
                shown.starts_with(&format!("{SOURCE}:{line}: ")),
                "the error does not start with FILE:LINE: {shown}"
            );
            for (n, earlier) in &lines[..index] {
                ensure!(
                    parse_cases(earlier, SOURCE).is_ok(),
                    "the error names line {line}, but line {n} is bad too"
                );
            }
            Ok("error")
        }
        Err(other) => Err(format!("an error of the wrong kind: {other}")),
    }
}
