//! The events written so far: transactions with one position and creation
//! time each, per-aggregate sequences, and the import line of every event.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::clock;

/// One event of the stream, with the columns of `events2`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    /// Tenant.
    pub(crate) instance_id: String,
    /// Aggregate type.
    pub(crate) aggregate_type: String,
    /// Aggregate id.
    pub(crate) aggregate_id: String,
    /// Event type.
    pub(crate) event_type: String,
    /// Per-aggregate sequence.
    pub(crate) sequence: i64,
    /// Aggregate version.
    pub(crate) revision: i64,
    /// Transaction time, microseconds since the epoch.
    pub(crate) created_at: i64,
    /// Event body (`None` for events without data).
    pub(crate) payload: Option<Value>,
    /// Who caused it.
    pub(crate) creator: String,
    /// Resource owner.
    pub(crate) owner: String,
    /// Order inside the transaction, from 1.
    pub(crate) in_tx_order: u32,
}

/// The names of an import line's fields, in the order they are written.
pub(crate) const FIELDS: [&str; 12] = [
    "instance_id",
    "aggregate_type",
    "aggregate_id",
    "event_type",
    "sequence",
    "revision",
    "created_at",
    "payload",
    "creator",
    "owner",
    "position",
    "in_tx_order",
];

impl Line {
    /// The import line as a JSON object.
    pub(crate) fn to_json(&self) -> Value {
        let values = [
            Value::from(self.instance_id.as_str()),
            Value::from(self.aggregate_type.as_str()),
            Value::from(self.aggregate_id.as_str()),
            Value::from(self.event_type.as_str()),
            Value::from(self.sequence),
            Value::from(self.revision),
            Value::from(clock::rfc3339(self.created_at)),
            self.payload.clone().unwrap_or(Value::Null),
            Value::from(self.creator.as_str()),
            Value::from(self.owner.as_str()),
            Value::from(clock::position(self.created_at)),
            Value::from(self.in_tx_order),
        ];
        let map: Map<String, Value> = FIELDS.iter().map(|f| (*f).to_owned()).zip(values).collect();
        Value::Object(map)
    }
}

/// Who writes an event and what it is about.
#[derive(Debug, Clone)]
pub(crate) struct Draft<'a> {
    /// Tenant.
    pub(crate) instance_id: &'a str,
    /// Aggregate type.
    pub(crate) aggregate_type: &'a str,
    /// Aggregate id.
    pub(crate) aggregate_id: &'a str,
    /// Event type.
    pub(crate) event_type: &'a str,
    /// Resource owner.
    pub(crate) owner: &'a str,
    /// Aggregate version.
    pub(crate) revision: i64,
}

/// The stream being written.
#[derive(Debug)]
pub(crate) struct Stream {
    lines: Vec<Line>,
    sequences: HashMap<(String, String, String), i64>,
    now: i64,
    tx_start: usize,
    creator: String,
}

impl Stream {
    /// An empty stream starting at [`clock::START`].
    pub(crate) fn new() -> Stream {
        Stream {
            lines: Vec::new(),
            sequences: HashMap::new(),
            now: clock::START,
            tx_start: 0,
            creator: String::new(),
        }
    }

    /// The time of the open transaction, microseconds since the epoch.
    pub(crate) fn now(&self) -> i64 {
        self.now
    }

    /// How many events are written (committed or not).
    pub(crate) fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the open transaction holds events.
    pub(crate) fn open(&self) -> bool {
        self.tx_start < self.lines.len()
    }

    /// Set who writes the events of the open transaction (its first event
    /// fixes it, later calls in the same transaction are ignored).
    pub(crate) fn creator(&mut self, creator: &str) {
        if !self.open() {
            creator.clone_into(&mut self.creator);
        }
    }

    /// Add an event to the open transaction.
    pub(crate) fn push(&mut self, draft: &Draft<'_>, payload: Option<Value>) {
        let key = (
            draft.instance_id.to_owned(),
            draft.aggregate_type.to_owned(),
            draft.aggregate_id.to_owned(),
        );
        let sequence = self.sequences.entry(key).or_insert(0);
        *sequence += 1;
        let in_tx_order = u32::try_from(self.lines.len() - self.tx_start + 1).unwrap_or(u32::MAX);
        self.lines.push(Line {
            instance_id: draft.instance_id.to_owned(),
            aggregate_type: draft.aggregate_type.to_owned(),
            aggregate_id: draft.aggregate_id.to_owned(),
            event_type: draft.event_type.to_owned(),
            sequence: *sequence,
            revision: draft.revision,
            created_at: self.now,
            payload,
            creator: self.creator.clone(),
            owner: draft.owner.to_owned(),
            in_tx_order,
        });
    }

    /// Close the open transaction; the next one starts `gap` microseconds
    /// later (at least one).
    pub(crate) fn commit(&mut self, gap: i64) {
        if self.open() {
            self.tx_start = self.lines.len();
            self.now += gap.max(1);
        }
    }

    /// The events, the open transaction cut at `limit` events in all.
    pub(crate) fn into_lines(mut self, limit: usize) -> Vec<Line> {
        self.lines.truncate(limit);
        self.lines
    }
}
