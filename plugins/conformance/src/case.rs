//! Case files: one JSON object per line, read into [`Case`]s.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value as Json;

use crate::expect::Effect;
use projection_sdk::Event;
use projection_sdk::time::parse_rfc3339;

/// The creation time the harness gives a case's event whose `created_at` is
/// null: 2024-01-02T03:04:05.678901Z.
pub const FIXED_CREATED_AT: i64 = 1_704_164_645_678_901;

/// One conformance case: an event and the effects it must have.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// `<family>/<description>`.
    pub name: String,
    /// Where the case comes from in the reference's tests.
    pub zitadel_test: String,
    /// The event, as the harness hands it to the family.
    pub event: Event,
    /// The expected effects, in order.
    pub effects: Vec<Effect>,
    /// Free-text explanation.
    pub notes: String,
    /// Events already in the store, oldest first, for the family's look-ups.
    pub prior_events: Vec<Event>,
    /// Tables that some case of the same file expects to be stamped with
    /// `sequence`: the reference's table has `change_date`/`sequence`, so a
    /// case that leaves them out means the row must not be bumped.
    pub stamped_tables: std::collections::BTreeSet<String>,
}

impl Case {
    /// The family part of the name: everything before the first `/`.
    pub fn family_prefix(&self) -> &str {
        self.name.split('/').next().unwrap_or_default()
    }
}

/// Why case files could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaseError {
    /// A file or directory could not be read.
    #[error("cannot read {}: {error}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error (in the message; not also a `source`, so `{:#}`
        /// prints it once).
        error: std::io::Error,
    },
    /// A line is not a valid case.
    #[error("{file}:{line}: {message}")]
    Invalid {
        /// The file (or other source name) the line is from.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Parse the cases of one file's text; blank lines are skipped.
///
/// `source` names the text in errors (usually the file's path).
pub fn parse_cases(text: &str, source: &str) -> Result<Vec<Case>, CaseError> {
    let mut cases = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let invalid = |message: String| CaseError::Invalid {
            file: source.to_owned(),
            line: idx + 1,
            message,
        };
        let raw: RawCase = serde_json::from_str(line).map_err(|e| invalid(e.to_string()))?;
        cases.push(raw.into_case().map_err(invalid)?);
    }
    let stamped: std::collections::BTreeSet<String> = cases
        .iter()
        .flat_map(|c| c.effects.iter())
        .filter(|e| e.values.contains_key("sequence"))
        .filter_map(|e| e.table.clone())
        .collect();
    for case in &mut cases {
        case.stamped_tables = stamped.clone();
    }
    Ok(cases)
}

/// Load the cases of a `.jsonl` file, or of every `*.jsonl` file of a
/// directory in name order.
pub fn load_cases(path: &Path) -> Result<Vec<Case>, CaseError> {
    let io = |error| CaseError::Io {
        path: path.to_owned(),
        error,
    };
    if !path.is_dir() {
        return read_file(path);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io)? {
        let file = entry.map_err(io)?.path();
        if file.extension().is_some_and(|e| e == "jsonl") && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        cases.extend(read_file(&file)?);
    }
    Ok(cases)
}

fn read_file(path: &Path) -> Result<Vec<Case>, CaseError> {
    let text = std::fs::read_to_string(path).map_err(|error| CaseError::Io {
        path: path.to_owned(),
        error,
    })?;
    parse_cases(&text, &path.display().to_string())
}

#[derive(Deserialize)]
struct RawCase {
    case: String,
    #[serde(default)]
    zitadel_test: String,
    event: RawEvent,
    effects: Vec<Effect>,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    prior_events: Vec<RawEvent>,
}

impl RawCase {
    fn into_case(self) -> Result<Case, String> {
        let event = self
            .event
            .into_event(0)
            .map_err(|e| format!("event: {e}"))?;
        let prior_events = self
            .prior_events
            .into_iter()
            .enumerate()
            .map(|(idx, raw)| {
                let order = u32::try_from(idx).map_err(|e| e.to_string())?;
                raw.into_event(order)
                    .map_err(|e| format!("prior_events[{idx}]: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Case {
            name: self.case,
            zitadel_test: self.zitadel_test,
            event,
            effects: self.effects,
            notes: self.notes,
            prior_events,
            stamped_tables: std::collections::BTreeSet::new(),
        })
    }
}

/// An event as a case line writes it, with the README's defaults.
#[derive(Deserialize)]
struct RawEvent {
    #[serde(default = "defaults::instance_id")]
    instance_id: String,
    #[serde(default)]
    aggregate_type: String,
    #[serde(default = "defaults::aggregate_id")]
    aggregate_id: String,
    #[serde(default)]
    event_type: String,
    #[serde(default = "defaults::sequence")]
    sequence: i64,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default = "defaults::resource_owner")]
    resource_owner: String,
    #[serde(default = "defaults::creator")]
    creator: String,
    #[serde(default)]
    payload: Json,
}

impl RawEvent {
    fn into_event(self, in_tx_order: u32) -> Result<Event, String> {
        let created_at = match &self.created_at {
            None => FIXED_CREATED_AT,
            Some(text) => parse_rfc3339(text)
                .ok_or_else(|| format!("created_at {text:?} is not an RFC 3339 timestamp"))?,
        };
        Ok(Event {
            position: "0".to_owned(),
            in_tx_order,
            instance_id: self.instance_id,
            aggregate_type: self.aggregate_type,
            aggregate_id: self.aggregate_id,
            event_type: self.event_type,
            sequence: self.sequence,
            revision: 1,
            created_at,
            payload: match self.payload {
                Json::Null => None,
                json => Some(json.to_string()),
            },
            creator: self.creator,
            owner: self.resource_owner,
        })
    }
}

mod defaults {
    pub(super) fn instance_id() -> String {
        "instance-id".to_owned()
    }
    pub(super) fn aggregate_id() -> String {
        "agg-id".to_owned()
    }
    pub(super) fn sequence() -> i64 {
        15
    }
    pub(super) fn resource_owner() -> String {
        "ro-id".to_owned()
    }
    pub(super) fn creator() -> String {
        "editor-user".to_owned()
    }
}
