//! Corrections to vendored conformance cases (`tests/conformance/errata.json`),
//! applied by `cargo xtask conformance` after it copies the case files.
//!
//! A correction names a case, the reducer its notes name, and the event type
//! to replace in the case's event. Applying one that no longer matches (the
//! case is gone, names another reducer, or has another event type) is an
//! error, so a refresh never drops a correction silently.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;

/// The errata file.
#[derive(Debug, Deserialize)]
pub(crate) struct Errata {
    corrections: Vec<Correction>,
}

/// One case's correction.
#[derive(Debug, Deserialize)]
struct Correction {
    case: String,
    reducer: String,
    event_type: Replace,
}

/// An event type to replace.
#[derive(Debug, Deserialize)]
struct Replace {
    from: String,
    to: String,
}

impl Errata {
    /// Read `errata.json` in `dir`; none when there is no such file.
    pub(crate) fn read(dir: &Path) -> Result<Option<Errata>> {
        let path = dir.join("errata.json");
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let errata = serde_json::from_str(&text)
            .with_context(|| format!("{} is not an errata file", path.display()))?;
        Ok(Some(errata))
    }

    /// Apply every correction to the case files (`*.jsonl`) in `dir`;
    /// returns how many lines changed.
    pub(crate) fn apply(&self, dir: &Path) -> Result<usize> {
        let mut applied = vec![false; self.corrections.len()];
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_none_or(|e| e != "jsonl") {
                continue;
            }
            let text = std::fs::read_to_string(&path)?;
            let mut changed = false;
            let mut lines = Vec::new();
            for line in text.lines() {
                let case: serde_json::Value = serde_json::from_str(line)
                    .with_context(|| format!("a line of {} is not JSON", path.display()))?;
                let name = case["case"].as_str().unwrap_or_default();
                match self.corrections.iter().position(|c| c.case == name) {
                    Some(at) => {
                        lines.push(self.corrections[at].apply(line, &case)?);
                        applied[at] = true;
                        changed = true;
                    }
                    None => lines.push(line.to_owned()),
                }
            }
            if changed {
                std::fs::write(&path, lines.join("\n") + "\n")
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
        }
        if let Some(at) = applied.iter().position(|done| !done) {
            bail!("no case file has the case {:?}", self.corrections[at].case);
        }
        Ok(applied.len())
    }
}

impl Correction {
    /// The case line with its event's type replaced.
    fn apply(&self, line: &str, case: &serde_json::Value) -> Result<String> {
        let notes = case["notes"].as_str().unwrap_or_default();
        if !notes.contains(&format!(".{}", self.reducer)) {
            bail!(
                "case {:?} no longer names the reducer {:?}: {notes:?}",
                self.case,
                self.reducer
            );
        }
        let found = case["event"]["event_type"].as_str().unwrap_or_default();
        if found != self.event_type.from {
            bail!(
                "case {:?} has the event type {found:?}, not {:?}",
                self.case,
                self.event_type.from
            );
        }
        let event_at = line
            .find("\"event\": {")
            .with_context(|| format!("case {:?} has no event object", self.case))?;
        let (head, tail) = line.split_at(event_at);
        let from = format!("\"event_type\": \"{}\"", self.event_type.from);
        let to = format!("\"event_type\": \"{}\"", self.event_type.to);
        if !tail.contains(&from) {
            bail!("case {:?}: cannot find {from} in its event", self.case);
        }
        Ok(format!("{head}{}", tail.replacen(&from, &to, 1)))
    }
}

#[cfg(test)]
mod tests {
    use super::{Correction, Replace};

    fn correction() -> Correction {
        Correction {
            case: "session/x".into(),
            reducer: "reduceX".into(),
            event_type: Replace {
                from: "session.added".into(),
                to: "session.x".into(),
            },
        }
    }

    #[test]
    fn replaces_the_event_type_of_the_case_event_only() {
        let line = r#"{"case": "session/x", "event": {"event_type": "session.added"}, "prior_events": [{"event_type": "session.added"}], "notes": "reducer: p.reduceX"}"#;
        let case = serde_json::from_str(line).unwrap();
        let fixed = correction().apply(line, &case).unwrap();
        assert_eq!(
            fixed,
            r#"{"case": "session/x", "event": {"event_type": "session.x"}, "prior_events": [{"event_type": "session.added"}], "notes": "reducer: p.reduceX"}"#
        );
    }

    #[test]
    fn a_correction_that_no_longer_matches_is_an_error() {
        let other_type = r#"{"case": "session/x", "event": {"event_type": "session.y"}, "notes": "reducer: p.reduceX"}"#;
        let case = serde_json::from_str(other_type).unwrap();
        assert!(correction().apply(other_type, &case).is_err());
        let other_reducer = r#"{"case": "session/x", "event": {"event_type": "session.added"}, "notes": "reducer: p.reduceY"}"#;
        let case = serde_json::from_str(other_reducer).unwrap();
        assert!(correction().apply(other_reducer, &case).is_err());
    }

    #[test]
    fn the_vendored_cases_carry_every_correction() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance");
        let errata = super::Errata::read(&dir).unwrap().unwrap();
        for c in &errata.corrections {
            let file = c.case.split('/').next().unwrap();
            let text = std::fs::read_to_string(dir.join(format!("{file}.jsonl"))).unwrap();
            let line = text
                .lines()
                .find(|l| l.contains(&format!("\"case\": \"{}\"", c.case)))
                .unwrap();
            let case: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(case["event"]["event_type"], c.event_type.to.as_str());
        }
    }
}
