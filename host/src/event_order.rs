//! The global event order, in one place: the SQL tuple that reads and
//! compares it, the values bound for an event's place in it, and the same
//! comparison in Rust.
//!
//! Events are ordered by `(position, in_tx_order)`, then by `instance_id,
//! aggregate_type, aggregate_id, sequence` as a total tie-break. Within one
//! tenant (checkpoints are per tenant) the tenant column drops out and the
//! other five keep their order. Batches, look-ups, checkpoints and lag all
//! use these definitions, so the SQL and the Rust side cannot drift apart.

use std::cmp::Ordering;

use projection_sdk::Event;

use crate::store::Dialect;

/// Which columns of the order a tuple holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// All six: the order across tenants (batches, look-ups).
    Global,
    /// Five, without `instance_id`: the order within one tenant
    /// (checkpoints, lag).
    Tenant,
}

/// The columns of the order, as `alias.column`, each text column followed
/// by `collate`.
fn columns(alias: &str, scope: Scope, collate: &str) -> Vec<String> {
    let mut names = vec![
        ("\"position\"", ""),
        ("in_tx_order", ""),
        ("instance_id", collate),
        ("aggregate_type", collate),
        ("aggregate_id", collate),
        ("\"sequence\"", ""),
    ];
    if scope == Scope::Tenant {
        names.remove(2);
    }
    names
        .into_iter()
        .map(|(name, collate)| format!("{alias}.{name}{collate}"))
        .collect()
}

/// The columns of the order to compare and sort by.
///
/// On PostgreSQL the text columns compare byte by byte (`COLLATE "C"`),
/// whatever the database's collation: [`cmp_global`] and checkpoints
/// compare them so, as SQLite does by default. Under a collation such as
/// ICU's `en-US` ("a" before "B"), events that share a position and an
/// order in their transaction would otherwise be read in one order and
/// checkpointed in another: one read again, one never.
fn compared(alias: &str, scope: Scope, dialect: Dialect) -> Vec<String> {
    let bytewise = match dialect {
        Dialect::Postgres => " COLLATE \"C\"",
        Dialect::Sqlite => "",
    };
    columns(alias, scope, bytewise)
}

/// `alias.position, alias.in_tx_order, ...`: an `ORDER BY` list.
pub fn order_by(alias: &str, dialect: Dialect) -> String {
    compared(alias, Scope::Global, dialect).join(", ")
}

/// [`order_by`] backwards: the last event first.
pub fn order_by_desc(alias: &str, dialect: Dialect) -> String {
    compared(alias, Scope::Global, dialect)
        .iter()
        .map(|c| format!("{c} DESC"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `(alias.position, ...)`: a row value to compare with `<`, `>`.
pub fn tuple(alias: &str, scope: Scope, dialect: Dialect) -> String {
    format!("({})", compared(alias, scope, dialect).join(", "))
}

/// `alias.position, alias.in_tx_order, ...` as they are stored, without a
/// collation: a select list.
pub fn names(alias: &str) -> String {
    columns(alias, Scope::Global, "").join(", ")
}

/// Whether events `a` and `b` are at the same place: equality needs no
/// collation (a database's default collation is always deterministic), and
/// without one it can use any index on the columns.
pub fn same_place(a: &str, b: &str) -> String {
    format!(
        "({}) = ({})",
        columns(a, Scope::Global, "").join(", "),
        columns(b, Scope::Global, "").join(", ")
    )
}

/// One bound part of an event's place in the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'e> {
    /// A position, compared as a decimal.
    Decimal(&'e str),
    /// An integer (`in_tx_order` as INTEGER, `sequence` as BIGINT).
    Int(i64, &'static str),
    /// A text column.
    Text(&'e str),
}

/// The values of [`tuple`] with [`Scope::Global`] for `event`, in order.
pub fn parts(event: &Event) -> [Part<'_>; 6] {
    [
        Part::Decimal(&event.position),
        Part::Int(i64::from(event.in_tx_order), "INTEGER"),
        Part::Text(&event.instance_id),
        Part::Text(&event.aggregate_type),
        Part::Text(&event.aggregate_id),
        Part::Int(event.sequence, "BIGINT"),
    ]
}

/// Compare two events in the global order, as [`order_by`] sorts them
/// (positions as decimals).
pub fn cmp_global(a: &Event, b: &Event) -> Ordering {
    cmp_position(&a.position, &b.position)
        .then(a.in_tx_order.cmp(&b.in_tx_order))
        .then_with(|| a.instance_id.cmp(&b.instance_id))
        .then_with(|| a.aggregate_type.cmp(&b.aggregate_type))
        .then_with(|| a.aggregate_id.cmp(&b.aggregate_id))
        .then(a.sequence.cmp(&b.sequence))
}

/// A place in one tenant's order (what a checkpoint records). Compares as
/// [`tuple`] with [`Scope::Tenant`] does: positions as decimals.
#[derive(Debug, Clone, Copy)]
pub struct TenantKey<'a> {
    /// Position, as decimal text.
    pub position: &'a str,
    /// Order within its transaction.
    pub in_tx_order: i64,
    /// Aggregate type.
    pub aggregate_type: &'a str,
    /// Aggregate id.
    pub aggregate_id: &'a str,
    /// Sequence.
    pub sequence: i64,
}

impl<'a> TenantKey<'a> {
    /// An event's place in its tenant's order.
    pub fn of(event: &'a Event) -> Self {
        TenantKey {
            position: &event.position,
            in_tx_order: i64::from(event.in_tx_order),
            aggregate_type: &event.aggregate_type,
            aggregate_id: &event.aggregate_id,
            sequence: event.sequence,
        }
    }
}

impl Ord for TenantKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_position(self.position, other.position)
            .then(self.in_tx_order.cmp(&other.in_tx_order))
            .then_with(|| self.aggregate_type.cmp(other.aggregate_type))
            .then_with(|| self.aggregate_id.cmp(other.aggregate_id))
            .then(self.sequence.cmp(&other.sequence))
    }
}

impl PartialOrd for TenantKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for TenantKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for TenantKey<'_> {}

/// Compare two positions given as decimal text (`"1767225600.123456"`,
/// `"12.5"`), exactly, without floating point.
pub fn cmp_position(a: &str, b: &str) -> Ordering {
    let split = |p: &str| -> (String, String) {
        let (int, frac) = p.split_once('.').unwrap_or((p, ""));
        let int = int.trim_start_matches('0');
        (int.to_owned(), frac.trim_end_matches('0').to_owned())
    };
    let (ai, af) = split(a);
    let (bi, bf) = split(b);
    ai.len()
        .cmp(&bi.len())
        .then_with(|| ai.cmp(&bi))
        .then_with(|| af.cmp(&bf))
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use projection_sdk::Event;

    use super::{
        Scope, TenantKey, cmp_global, cmp_position, names, order_by, order_by_desc, same_place,
        tuple,
    };
    use crate::store::Dialect;

    #[test]
    fn positions_compare_as_decimals() {
        assert_eq!(
            cmp_position("1767225600.123456", "1767225600.123457"),
            Ordering::Less
        );
        assert_eq!(cmp_position("12.5", "12.500000"), Ordering::Equal);
        assert_eq!(cmp_position("9.9", "10"), Ordering::Less);
        assert_eq!(cmp_position("100", "99.999999"), Ordering::Greater);
        assert_eq!(cmp_position("0.000001", "0"), Ordering::Greater);
        assert_eq!(cmp_position("010", "10.0"), Ordering::Equal);
    }

    #[test]
    fn the_tenant_tuple_is_the_global_one_without_the_tenant() {
        assert_eq!(
            order_by("e", Dialect::Sqlite),
            "e.\"position\", e.in_tx_order, e.instance_id, e.aggregate_type, e.aggregate_id, e.\"sequence\""
        );
        assert_eq!(
            tuple("c", Scope::Tenant, Dialect::Sqlite),
            "(c.\"position\", c.in_tx_order, c.aggregate_type, c.aggregate_id, c.\"sequence\")"
        );
        assert_eq!(
            tuple("c", Scope::Tenant, Dialect::Postgres),
            "(c.\"position\", c.in_tx_order, c.aggregate_type COLLATE \"C\", \
             c.aggregate_id COLLATE \"C\", c.\"sequence\")"
        );
    }

    /// Equality and select lists carry no collation: equality is the same
    /// under every deterministic collation, and a plain column can use any
    /// index on it.
    #[test]
    fn places_are_matched_and_selected_without_a_collation() {
        assert_eq!(
            same_place("e", "w"),
            "(e.\"position\", e.in_tx_order, e.instance_id, e.aggregate_type, e.aggregate_id, \
             e.\"sequence\") = (w.\"position\", w.in_tx_order, w.instance_id, w.aggregate_type, \
             w.aggregate_id, w.\"sequence\")"
        );
        assert_eq!(names("e"), order_by("e", Dialect::Sqlite));
        assert!(order_by("e", Dialect::Postgres).contains("e.aggregate_id COLLATE \"C\""));
    }

    #[test]
    fn the_backward_order_reverses_every_column() {
        assert_eq!(
            order_by_desc("e", Dialect::Sqlite),
            "e.\"position\" DESC, e.in_tx_order DESC, e.instance_id DESC, e.aggregate_type DESC, \
             e.aggregate_id DESC, e.\"sequence\" DESC"
        );
    }

    #[test]
    fn the_global_order_breaks_ties_column_by_column() {
        let event = |position: &str, in_tx_order, instance: &str, id: &str, sequence| Event {
            position: position.to_owned(),
            in_tx_order,
            instance_id: instance.to_owned(),
            aggregate_type: "user".to_owned(),
            aggregate_id: id.to_owned(),
            sequence,
            event_type: "user.added".to_owned(),
            revision: 1,
            created_at: 0,
            payload: None,
            creator: "c".to_owned(),
            owner: "o".to_owned(),
        };
        let a = event("9.5", 2, "b", "u2", 3);
        // Each column decides once the ones before it tie.
        for (other, expected) in [
            (event("10", 0, "a", "u1", 1), Ordering::Less),
            (event("9.50", 1, "c", "u9", 9), Ordering::Greater),
            (event("9.5", 2, "c", "u1", 1), Ordering::Less),
            (event("9.5", 2, "b", "u1", 9), Ordering::Greater),
            (event("9.5", 2, "b", "u2", 4), Ordering::Less),
        ] {
            assert_eq!(cmp_global(&a, &other), expected, "{other:?}");
        }
        assert_eq!(cmp_global(&a, &a.clone()), Ordering::Equal);
    }

    #[test]
    fn tenant_keys_break_ties_by_aggregate_then_sequence() {
        let key = |position, aggregate_id, sequence| TenantKey {
            position,
            in_tx_order: 0,
            aggregate_type: "user",
            aggregate_id,
            sequence,
        };
        assert_eq!(
            key("1.5", "a", 2).cmp(&key("1.50", "a", 2)),
            Ordering::Equal
        );
        assert_eq!(key("1.5", "a", 9).cmp(&key("1.5", "b", 1)), Ordering::Less);
        assert_eq!(key("1.5", "b", 1).cmp(&key("1.5", "b", 2)), Ordering::Less);
        assert_eq!(key("2", "a", 1).cmp(&key("10", "a", 1)), Ordering::Less);
    }
}
