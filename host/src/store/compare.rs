//! Compare a family's live rows with the rows a lane built from the events
//! (`verify`), table by table, matched by primary key.
//!
//! Three kinds of drift: a row the events make that the live table lacks
//! (*missing*), a live row the events do not make (*extra*), and a row both
//! have whose columns differ (*different*; compared null-safely, generated
//! columns left out, as they follow from the others). Counted per tenant in
//! SQL, with up to N examples per kind, so a table that drifted whole costs
//! no memory. Values are shown in [`super::dump`]'s canonical text.

use std::collections::BTreeMap;
use std::fmt;

use projection_sdk::{ColumnType, Table, Value};
use sqlx::Row;

use super::bind::ph;
use super::dump::text_of;
use super::sql::quote;
use super::{Dialect, Statement, StoreError, Tx, bind};

/// How a row drifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DriftKind {
    /// The events make it; the live table lacks it.
    Missing,
    /// The live table has it; the events do not make it.
    Extra,
    /// Both have it, with other values.
    Different,
}

impl fmt::Display for DriftKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DriftKind::Missing => "missing",
            DriftKind::Extra => "extra",
            DriftKind::Different => "different",
        })
    }
}

/// One row that drifted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowDrift {
    /// How.
    pub kind: DriftKind,
    /// Its primary key, column and value.
    pub key: Vec<(String, String)>,
    /// For a different row, each differing column: name, live value,
    /// value the events make (`None`: NULL).
    pub columns: Vec<(String, Option<String>, Option<String>)>,
}

/// How one table drifted for the compared tenants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableDrift {
    /// Rows per (tenant, kind).
    pub counts: BTreeMap<(String, DriftKind), u64>,
    /// Up to the asked number of examples per kind, ordered by key.
    pub examples: Vec<RowDrift>,
}

impl TableDrift {
    /// Whether nothing drifted.
    pub fn is_clean(&self) -> bool {
        self.counts.is_empty()
    }
}

/// Compare the live `table` with a lane's `expected` table for `tenants`
/// (on a system-scoped table: all its rows, when the system tenant is among
/// them), inside `tx`. Rows are matched by the primary key, which both must
/// share; the columns both have with one type are compared.
pub async fn table(
    tx: &mut Tx,
    table: &Table,
    expected: &Table,
    tenants: &[String],
    examples: usize,
) -> Result<TableDrift, StoreError> {
    let system = table.is_system_scoped();
    if tenants.is_empty() || (system && !tenants.iter().any(|t| t.is_empty())) {
        return Ok(TableDrift::default());
    }
    let query = Query::new(tx.dialect(), table, expected, tenants)?;
    let mut drift = TableDrift::default();
    for kind in [DriftKind::Missing, DriftKind::Extra, DriftKind::Different] {
        let counts = if system {
            format!(
                "SELECT '', CAST(count(*) AS TEXT) FROM {}",
                query.from(kind)
            )
        } else {
            let tenant = format!("{}.\"instance_id\"", query.side(kind));
            format!(
                "SELECT {tenant}, CAST(count(*) AS TEXT) FROM {} GROUP BY {tenant}",
                query.from(kind)
            )
        };
        for row in fetch(tx, &query.statement(counts)).await? {
            let (Some(Some(tenant)), Some(Some(n))) = (row.first(), row.get(1)) else {
                continue;
            };
            let n: u64 = n
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("count {n:?}: {e}")))?;
            if n > 0 {
                drift.counts.insert((tenant.clone(), kind), n);
            }
        }
        if examples == 0 || !drift.counts.keys().any(|(_, k)| *k == kind) {
            continue;
        }
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {} LIMIT {examples}",
            query.example_columns(kind).join(", "),
            query.from(kind),
            query.key_order(kind)
        );
        for row in fetch(tx, &query.statement(sql)).await? {
            drift.examples.push(query.example(kind, &row));
        }
    }
    Ok(drift)
}

/// The SQL of one table's comparison: live as `l`, expected as `e`.
struct Query<'a> {
    dialect: Dialect,
    table: &'a Table,
    live: String,
    expected: String,
    /// `l.k = e.k AND ...`
    join: String,
    /// The compared tenants.
    tenants: Vec<String>,
    /// The primary key: name, quoted, kind.
    key: Vec<(&'a str, String, ColumnType)>,
    /// Columns compared besides the key: name, quoted, kind.
    compared: Vec<(&'a str, String, ColumnType)>,
}

impl<'a> Query<'a> {
    fn new(
        dialect: Dialect,
        table: &'a Table,
        expected: &Table,
        tenants: &[String],
    ) -> Result<Query<'a>, StoreError> {
        if table.primary_key != expected.primary_key {
            return Err(StoreError::InvalidTable {
                table: table.name.clone(),
                detail: format!(
                    "the primary keys differ ({:?} and {:?}): rows cannot be matched",
                    table.primary_key, expected.primary_key
                ),
            });
        }
        let kind_of = |name: &str| table.find_column(name).map_or(ColumnType::Text, |c| c.kind);
        let key = table
            .primary_key
            .iter()
            .map(|k| Ok((k.as_str(), quote(k)?, kind_of(k))))
            .collect::<Result<Vec<_>, StoreError>>()?;
        if key.is_empty() {
            return Err(StoreError::InvalidTable {
                table: table.name.clone(),
                detail: "no primary key to compare rows by".into(),
            });
        }
        let join = key
            .iter()
            .map(|(_, k, _)| format!("l.{k} = e.{k}"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let both = |c: &projection_sdk::Column| {
            expected
                .find_column(&c.name)
                .is_some_and(|e| e.kind == c.kind && e.generated.is_none())
        };
        let compared = table
            .columns
            .iter()
            .filter(|c| c.generated.is_none() && !table.primary_key.contains(&c.name) && both(c))
            .map(|c| Ok((c.name.as_str(), quote(&c.name)?, c.kind)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Query {
            dialect,
            table,
            live: quote(&table.name)?,
            expected: quote(&expected.name)?,
            join,
            tenants: tenants.to_vec(),
            key,
            compared,
        })
    }

    /// The side whose rows a kind lists.
    fn side(&self, kind: DriftKind) -> &'static str {
        match kind {
            DriftKind::Missing => "e",
            DriftKind::Extra | DriftKind::Different => "l",
        }
    }

    fn tenant_filter(&self, side: &str) -> String {
        if self.table.is_system_scoped() {
            return "1 = 1".to_owned();
        }
        let placeholders: Vec<String> = (1..=self.tenants.len())
            .map(|n| ph(self.dialect, n, "TEXT"))
            .collect();
        format!("{side}.\"instance_id\" IN ({})", placeholders.join(", "))
    }

    /// `a IS DISTINCT FROM b`, null-safe on both stores.
    fn distinct(&self, a: &str, b: &str) -> String {
        match self.dialect {
            Dialect::Postgres => format!("{a} IS DISTINCT FROM {b}"),
            Dialect::Sqlite => format!("{a} IS NOT {b}"),
        }
    }

    fn differs(&self, quoted: &str) -> String {
        self.distinct(&format!("l.{quoted}"), &format!("e.{quoted}"))
    }

    fn from(&self, kind: DriftKind) -> String {
        let key = self.key.first().map_or("", |(_, k, _)| k.as_str());
        match kind {
            DriftKind::Missing => format!(
                "{} e LEFT JOIN {} l ON {} WHERE l.{key} IS NULL AND {}",
                self.expected,
                self.live,
                self.join,
                self.tenant_filter("e")
            ),
            DriftKind::Extra => format!(
                "{} l LEFT JOIN {} e ON {} WHERE e.{key} IS NULL AND {}",
                self.live,
                self.expected,
                self.join,
                self.tenant_filter("l")
            ),
            DriftKind::Different => {
                let any: Vec<String> = self
                    .compared
                    .iter()
                    .map(|(_, c, _)| self.differs(c))
                    .collect();
                let any = if any.is_empty() {
                    "1 = 0".to_owned()
                } else {
                    any.join(" OR ")
                };
                format!(
                    "{} l JOIN {} e ON {} WHERE ({any}) AND {}",
                    self.live,
                    self.expected,
                    self.join,
                    self.tenant_filter("l")
                )
            }
        }
    }

    fn key_order(&self, kind: DriftKind) -> String {
        let side = self.side(kind);
        self.key
            .iter()
            .map(|(_, k, _)| format!("{side}.{k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The key as text, then for a different row each compared column's
    /// flag and both values.
    fn example_columns(&self, kind: DriftKind) -> Vec<String> {
        let side = self.side(kind);
        let mut columns: Vec<String> = self
            .key
            .iter()
            .map(|(_, k, kind)| text_of(self.dialect, &format!("{side}.{k}"), *kind))
            .collect();
        if kind == DriftKind::Different {
            for (_, c, kind) in &self.compared {
                columns.push(format!(
                    "CASE WHEN {} THEN 'y' ELSE 'n' END",
                    self.differs(c)
                ));
                columns.push(text_of(self.dialect, &format!("l.{c}"), *kind));
                columns.push(text_of(self.dialect, &format!("e.{c}"), *kind));
            }
        }
        columns
    }

    fn example(&self, kind: DriftKind, row: &[Option<String>]) -> RowDrift {
        let n_key = self.key.len();
        let key = self
            .key
            .iter()
            .zip(row)
            .map(|((k, _, _), v)| ((*k).to_owned(), v.clone().unwrap_or_else(|| "NULL".into())))
            .collect();
        let mut columns = Vec::new();
        if kind == DriftKind::Different {
            for (i, (column, _, _)) in self.compared.iter().enumerate() {
                let at = n_key + 3 * i;
                if row.get(at).and_then(Option::as_deref) == Some("y") {
                    columns.push((
                        (*column).to_owned(),
                        row.get(at + 1).cloned().flatten(),
                        row.get(at + 2).cloned().flatten(),
                    ));
                }
            }
        }
        RowDrift { kind, key, columns }
    }

    fn statement(&self, sql: String) -> Statement {
        let binds = if self.table.is_system_scoped() {
            Vec::new()
        } else {
            self.tenants
                .iter()
                .map(|t| (Value::Text(t.clone()), ColumnType::Text))
                .collect()
        };
        Statement {
            sql,
            binds,
            arrays: Vec::new(),
        }
    }
}

/// The first column of a query without parameters, as text (NULLs left out).
pub async fn texts(tx: &mut Tx, sql: &str) -> Result<Vec<String>, StoreError> {
    let statement = Statement {
        sql: sql.to_owned(),
        binds: Vec::new(),
        arrays: Vec::new(),
    };
    Ok(fetch(tx, &statement)
        .await?
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .collect())
}

/// Run a query whose every column is text; the rows as optional strings.
async fn fetch(tx: &mut Tx, statement: &Statement) -> Result<Vec<Vec<Option<String>>>, StoreError> {
    macro_rules! rows {
        ($rows:expr) => {
            $rows
                .iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| r.try_get::<Option<String>, _>(i))
                        .collect::<Result<Vec<_>, _>>()
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        };
    }
    Ok(match tx {
        Tx::Sqlite(t) => {
            let query =
                bind::sqlite(sqlx::query(&statement.sql), &statement.binds)?.persistent(false);
            rows!(query.fetch_all(&mut **t).await?)
        }
        Tx::Postgres(t) => {
            let query =
                bind::postgres(sqlx::query(&statement.sql), &statement.binds)?.persistent(false);
            rows!(query.fetch_all(&mut **t).await?)
        }
    })
}
