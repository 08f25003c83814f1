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

    /// The events, the open transaction cut at `limit` events in all, their
    /// times squeezed to end by [`clock::LATEST`] ([`fit_before`]).
    pub(crate) fn into_lines(mut self, limit: usize) -> Vec<Line> {
        self.lines.truncate(limit);
        fit_before(&mut self.lines, clock::LATEST);
        self.lines
    }
}

/// Squeeze the times of a stream that reaches past `latest` into
/// [`clock::START`]..=`latest`: each transaction's time scaled toward the
/// start, and kept at least a microsecond after the one before, so the
/// transactions keep their order and stay apart. A stream that ends in
/// time is left as it is.
///
/// A host reads only events below its clock (positions are commit times),
/// so an event stamped in the future of a run would stay unread.
fn fit_before(lines: &mut [Line], latest: i64) {
    let Some(last) = lines.last().map(|l| l.created_at) else {
        return;
    };
    if last <= latest {
        return;
    }
    let n = i64::try_from(lines.len()).unwrap_or(i64::MAX);
    let room = i128::from((latest - clock::START).saturating_sub(n).max(0));
    let span = i128::from((last - clock::START).max(1));
    let mut previous: Option<(i64, i64)> = None;
    for line in lines.iter_mut() {
        let scaled = clock::START
            + i64::try_from(i128::from(line.created_at - clock::START) * room / span).unwrap_or(0);
        let fitted = match previous {
            Some((was, now)) if was == line.created_at => now,
            Some((_, now)) => scaled.max(now + 1),
            None => scaled,
        };
        previous = Some((line.created_at, fitted));
        line.created_at = fitted;
    }
}

#[cfg(test)]
mod tests {
    use super::{Line, fit_before};
    use crate::clock::START;

    fn line(created_at: i64) -> Line {
        Line {
            instance_id: "i".into(),
            aggregate_type: "user".into(),
            aggregate_id: "u".into(),
            event_type: "user.human.added".into(),
            sequence: 1,
            revision: 2,
            created_at,
            payload: None,
            creator: "c".into(),
            owner: "o".into(),
            in_tx_order: 1,
        }
    }

    /// Transactions of one to three events, from one microsecond to an
    /// hour apart.
    fn times() -> Vec<i64> {
        let mut now = START;
        let mut times = Vec::new();
        for tx in 0..5_000_i64 {
            for _ in 0..=tx % 3 {
                times.push(now);
            }
            now += [1, 7, 3_600_000_000, 450_000][usize::try_from(tx % 4).unwrap_or(0)];
        }
        times
    }

    #[test]
    fn a_stream_past_the_latest_time_is_squeezed_in_keeping_its_transactions() {
        let before = times();
        let mut lines: Vec<Line> = before.iter().map(|t| line(*t)).collect();
        let latest = START + 1_000_000_000;
        assert!(*before.last().unwrap() > latest);
        fit_before(&mut lines, latest);
        let after: Vec<i64> = lines.iter().map(|l| l.created_at).collect();
        assert_eq!(after[0], START);
        assert!(*after.last().unwrap() <= latest);
        for i in 1..after.len() {
            // Same transaction, same time; the next one strictly later.
            assert_eq!(
                before[i] == before[i - 1],
                after[i] == after[i - 1],
                "line {i}"
            );
            assert!(after[i] >= after[i - 1], "line {i}");
        }
    }

    #[test]
    fn a_stream_that_ends_in_time_is_left_as_it_is() {
        let before = times();
        let mut lines: Vec<Line> = before.iter().map(|t| line(*t)).collect();
        fit_before(&mut lines, *before.last().unwrap());
        let after: Vec<i64> = lines.iter().map(|l| l.created_at).collect();
        assert_eq!(after, before);
    }
}
