//! `projector events import`: append events from a JSON-lines file.
//!
//! One JSON object per line with the `events2` columns (`payload` as JSON).
//! `sequence`, `created_at`, `position`, `in_tx_order`, `revision` and
//! `creator` may be left out: the store assigns them (the next sequence of the
//! aggregate, now, one position for the whole import, the line order). The
//! whole file is one transaction: a malformed line or a duplicate event
//! imports nothing, and the error names the line.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value as Json;

use crate::store::bind::{ph, placeholders};
use crate::store::{Db, Dialect, StoreError, Tx};
use crate::time;

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// A line is not a valid event.
    #[error("{source_name}:{line}: {message}")]
    Malformed {
        /// File name.
        source_name: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The store refused the events.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One event to append, as read from a line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvent {
    /// Tenant.
    pub instance_id: String,
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Event type.
    pub event_type: String,
    /// Per-aggregate sequence (assigned when absent).
    #[serde(default)]
    pub sequence: Option<i64>,
    /// Aggregate revision (1 when absent).
    #[serde(default)]
    pub revision: Option<i16>,
    /// Creation time, RFC 3339 (now when absent).
    #[serde(default)]
    pub created_at: Option<String>,
    /// Event body.
    #[serde(default)]
    pub payload: Option<Json>,
    /// Who caused it.
    #[serde(default)]
    pub creator: String,
    /// Resource owner.
    #[serde(alias = "resource_owner")]
    pub owner: String,
    /// Global position (assigned when absent).
    #[serde(default)]
    pub position: Option<Json>,
    /// Order in the transaction (assigned when absent).
    #[serde(default)]
    pub in_tx_order: Option<u32>,
}

/// A parsed line: the event and where it came from.
#[derive(Debug, Clone)]
pub struct ParsedEvent {
    /// 1-based line.
    pub line: usize,
    /// Event.
    pub event: NewEvent,
    /// Creation time in microseconds, when given.
    pub created_at: Option<i64>,
    /// Position as decimal text, when given.
    pub position: Option<String>,
}

/// Parse a JSON-lines text; blank lines are skipped.
pub fn parse(text: &str, source_name: &str) -> Result<Vec<ParsedEvent>, ImportError> {
    let mut events = Vec::new();
    let mut keys: HashMap<(String, String, String, i64), usize> = HashMap::new();
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        let malformed = |message: String| ImportError::Malformed {
            source_name: source_name.to_owned(),
            line,
            message,
        };
        if raw.trim().is_empty() {
            continue;
        }
        let event: NewEvent = serde_json::from_str(raw).map_err(|e| malformed(e.to_string()))?;
        for (field, value) in [
            ("instance_id", &event.instance_id),
            ("aggregate_type", &event.aggregate_type),
            ("aggregate_id", &event.aggregate_id),
            ("event_type", &event.event_type),
        ] {
            if value.is_empty() && field != "instance_id" {
                return Err(malformed(format!("{field} is empty")));
            }
        }
        if let Some(payload) = &event.payload
            && !(payload.is_object() || payload.is_null())
        {
            return Err(malformed("payload must be a JSON object or null".into()));
        }
        let created_at = match &event.created_at {
            None => None,
            Some(text) => Some(time::parse_rfc3339(text).ok_or_else(|| {
                malformed(format!("created_at {text:?} is not an RFC 3339 time"))
            })?),
        };
        let position = match &event.position {
            None | Some(Json::Null) => None,
            Some(Json::Number(n)) => Some(n.to_string()),
            Some(Json::String(s)) if s.parse::<f64>().is_ok_and(f64::is_finite) => Some(s.clone()),
            Some(other) => return Err(malformed(format!("position {other} is not a number"))),
        };
        if let Some(seq) = event.sequence {
            if seq < 1 {
                return Err(malformed(format!("sequence {seq} must be at least 1")));
            }
            let key = (
                event.instance_id.clone(),
                event.aggregate_type.clone(),
                event.aggregate_id.clone(),
                seq,
            );
            if let Some(first) = keys.insert(key, line) {
                return Err(malformed(format!(
                    "same event (aggregate and sequence) as line {first}"
                )));
            }
        }
        events.push(ParsedEvent {
            line,
            event,
            created_at,
            position,
        });
    }
    Ok(events)
}

/// Append parsed events in one transaction; returns how many were stored.
pub async fn append(db: &Db, events: &[ParsedEvent]) -> Result<usize, StoreError> {
    append_with_pause(db, events, None).await
}

/// [`append`], pausing inside the transaction after the position is taken:
/// a slow writer, for tests of the ordering protocol. On PostgreSQL the
/// transaction takes projector's and Zitadel's write locks and names itself
/// before its position is taken (see [`super::order::begin_write`]).
pub async fn append_with_pause(
    db: &Db,
    events: &[ParsedEvent],
    pause: Option<std::time::Duration>,
) -> Result<usize, StoreError> {
    let mut tx = db.begin().await?;
    let now = time::now_micros();
    let tenants: Vec<&str> = events
        .iter()
        .map(|e| e.event.instance_id.as_str())
        .collect();
    let (position, max_stored) =
        super::order::begin_write(&mut tx, db.events_table(), &tenants).await?;
    if let Some(max) = max_stored.as_deref().and_then(|m| m.parse::<f64>().ok()) {
        let stale = events.iter().find(|e| {
            e.position
                .as_deref()
                .and_then(|p| p.parse::<f64>().ok())
                .is_some_and(|p| p <= max)
        });
        if let Some(stale) = stale {
            return Err(StoreError::BadValue(format!(
                "line {}: position {} is not after the stored events (the last is at {max}); \
                 leave position out to have one assigned",
                stale.line,
                stale.position.as_deref().unwrap_or_default()
            )));
        }
    }
    let mut next_sequence: HashMap<(String, String, String), i64> = HashMap::new();
    let mut rows = Vec::with_capacity(events.len());
    for (i, parsed) in events.iter().enumerate() {
        let e = &parsed.event;
        let sequence = match e.sequence {
            Some(s) => s,
            None => {
                let key = (
                    e.instance_id.clone(),
                    e.aggregate_type.clone(),
                    e.aggregate_id.clone(),
                );
                match next_sequence.get(&key) {
                    Some(n) => *n,
                    None => max_sequence(db, &mut tx, &key).await? + 1,
                }
            }
        };
        next_sequence.insert(
            (
                e.instance_id.clone(),
                e.aggregate_type.clone(),
                e.aggregate_id.clone(),
            ),
            sequence + 1,
        );
        let in_tx_order = e
            .in_tx_order
            .unwrap_or_else(|| u32::try_from(i + 1).unwrap_or(u32::MAX));
        rows.push(Row {
            event: e,
            sequence,
            created_at: parsed.created_at.unwrap_or(now),
            position: parsed.position.clone().unwrap_or_else(|| position.clone()),
            in_tx_order,
        });
    }
    let chunk = match db.dialect() {
        Dialect::Sqlite => 1000,
        Dialect::Postgres => 2000,
    };
    if let Some(pause) = pause {
        tokio::time::sleep(pause).await;
    }
    for part in rows.chunks(chunk) {
        insert_rows(&mut tx, db.events_table(), part).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

struct Row<'a> {
    event: &'a NewEvent,
    sequence: i64,
    created_at: i64,
    position: String,
    in_tx_order: u32,
}

async fn max_sequence(
    db: &Db,
    tx: &mut Tx,
    key: &(String, String, String),
) -> Result<i64, StoreError> {
    let d = db.dialect();
    let sql = format!(
        "SELECT COALESCE(MAX(\"sequence\"), 0) FROM {} WHERE instance_id = {} AND aggregate_type = {} AND aggregate_id = {}",
        db.events_table(),
        ph(d, 1, "TEXT"),
        ph(d, 2, "TEXT"),
        ph(d, 3, "TEXT")
    );
    Ok(match tx {
        Tx::Sqlite(t) => {
            sqlx::query_scalar(&sql)
                .bind(&key.0)
                .bind(&key.1)
                .bind(&key.2)
                .fetch_one(&mut **t)
                .await?
        }
        Tx::Postgres(t) => {
            sqlx::query_scalar(&sql)
                .bind(&key.0)
                .bind(&key.1)
                .bind(&key.2)
                .fetch_one(&mut **t)
                .await?
        }
    })
}

async fn insert_rows(tx: &mut Tx, table: &str, rows: &[Row<'_>]) -> Result<(), StoreError> {
    let d = tx.dialect();
    let casts = [
        "TEXT",
        "TEXT",
        "TEXT",
        "TEXT",
        "BIGINT",
        "SMALLINT",
        "TIMESTAMPTZ",
        "JSONB",
        "TEXT",
        "TEXT",
        "DECIMAL",
        "INTEGER",
    ];
    let mut sql = format!(
        "INSERT INTO {table} (instance_id, aggregate_type, aggregate_id, event_type, \"sequence\", revision, \
         created_at, payload, creator, \"owner\", \"position\", in_tx_order) VALUES "
    );
    for r in 0..rows.len() {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        sql.push_str(&placeholders(d, r * casts.len() + 1, &casts));
        sql.push(')');
    }
    macro_rules! bind_all {
        ($query:expr, $created:expr) => {{
            let mut q = $query;
            for r in rows {
                let e = r.event;
                let payload = e
                    .payload
                    .as_ref()
                    .filter(|p| !p.is_null())
                    .map(Json::to_string);
                q = q
                    .bind(e.instance_id.clone())
                    .bind(e.aggregate_type.clone())
                    .bind(e.aggregate_id.clone())
                    .bind(e.event_type.clone())
                    .bind(r.sequence)
                    .bind(e.revision.unwrap_or(1))
                    .bind($created(r.created_at)?)
                    .bind(payload)
                    .bind(e.creator.clone())
                    .bind(e.owner.clone())
                    .bind(r.position.clone())
                    .bind(i64::from(r.in_tx_order));
            }
            q
        }};
    }
    match tx {
        Tx::Sqlite(t) => {
            let q = bind_all!(sqlx::query(&sql), |m: i64| -> Result<String, StoreError> {
                Ok(time::format_micros(m))
            });
            q.execute(&mut **t).await?;
        }
        Tx::Postgres(t) => {
            let q = bind_all!(sqlx::query(&sql), |m: i64| time::from_micros(m)
                .ok_or_else(|| StoreError::BadValue(format!("time {m} out of range"))));
            q.execute(&mut **t).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_line_of_a_malformed_event() {
        let text = "{\"instance_id\":\"i\",\"aggregate_type\":\"org\",\"aggregate_id\":\"o\",\"event_type\":\"org.added\",\"owner\":\"o\"}\n\nnot json\n";
        let err = parse(text, "f.jsonl").unwrap_err().to_string();
        assert!(err.starts_with("f.jsonl:3: "), "{err}");
    }

    #[test]
    fn refuses_unknown_fields_and_duplicate_sequences() {
        let err = parse("{\"instance_id\":\"i\",\"aggregate_type\":\"org\",\"aggregate_id\":\"o\",\"event_type\":\"x\",\"owner\":\"o\",\"colour\":1}", "f").unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
        let line = "{\"instance_id\":\"i\",\"aggregate_type\":\"org\",\"aggregate_id\":\"o\",\"event_type\":\"x\",\"owner\":\"o\",\"sequence\":1}";
        let err = parse(&format!("{line}\n{line}\n"), "f").unwrap_err();
        assert!(err.to_string().contains("f:2: same event"), "{err}");
    }

    #[test]
    fn accepts_resource_owner_and_optional_columns() {
        let events = parse("{\"instance_id\":\"i\",\"aggregate_type\":\"org\",\"aggregate_id\":\"o\",\"event_type\":\"x\",\"resource_owner\":\"ro\",\"created_at\":\"2026-01-01T00:00:00Z\",\"position\":12.5}", "f").unwrap();
        assert_eq!(events[0].event.owner, "ro");
        assert_eq!(events[0].position.as_deref(), Some("12.5"));
        assert_eq!(events[0].created_at, Some(1_767_225_600_000_000));
    }
}
