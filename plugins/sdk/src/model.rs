//! The contract's data types in plain Rust.
//!
//! These mirror `wit/projection.wit` one to one. Families build them, the
//! host validates and applies them, and both compile natively, so a family's
//! logic can be tested without WASM and without a database.

use serde::{Deserialize, Serialize};

/// A typed cell value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Text.
    Text(String),
    /// An integer (SMALLINT or BIGINT column).
    Int(i64),
    /// A boolean.
    Boolean(bool),
    /// Microseconds since the Unix epoch, UTC.
    Timestamp(i64),
    /// A duration in nanoseconds.
    Interval(i64),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A JSON document as JSON text.
    Json(String),
    /// An array of text.
    TextArray(Vec<String>),
    /// An array of integers.
    IntArray(Vec<i64>),
}

impl Value {
    /// A short name of the value's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Text(_) => "text",
            Value::Int(_) => "int",
            Value::Boolean(_) => "boolean",
            Value::Timestamp(_) => "timestamp",
            Value::Interval(_) => "interval",
            Value::Bytes(_) => "bytes",
            Value::Json(_) => "json",
            Value::TextArray(_) => "text array",
            Value::IntArray(_) => "int array",
        }
    }

    /// A JSON value, stored as its JSON text.
    pub fn json(value: &serde_json::Value) -> Value {
        Value::Json(value.to_string())
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}
impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::TextArray(v)
    }
}
impl From<Vec<i64>> for Value {
    fn from(v: Vec<i64>) -> Self {
        Value::IntArray(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// The SQL type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// TEXT.
    Text,
    /// SMALLINT (enums).
    SmallInt,
    /// BIGINT.
    Int,
    /// BOOLEAN.
    Boolean,
    /// TIMESTAMPTZ.
    Timestamp,
    /// INTERVAL.
    Interval,
    /// BYTEA.
    Bytes,
    /// JSONB.
    Json,
    /// TEXT[].
    TextArray,
    /// SMALLINT[].
    SmallIntArray,
    /// BIGINT[].
    IntArray,
}

impl ColumnType {
    /// Whether a value fits a column of this type (NULL is checked separately).
    pub fn accepts(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (_, Value::Null)
                | (ColumnType::Text, Value::Text(_))
                | (ColumnType::SmallInt | ColumnType::Int, Value::Int(_))
                | (ColumnType::Boolean, Value::Boolean(_))
                | (ColumnType::Timestamp, Value::Timestamp(_))
                | (ColumnType::Interval, Value::Interval(_))
                | (ColumnType::Bytes, Value::Bytes(_))
                | (ColumnType::Json, Value::Json(_))
                | (ColumnType::TextArray, Value::TextArray(_))
                | (
                    ColumnType::SmallIntArray | ColumnType::IntArray,
                    Value::IntArray(_)
                )
        )
    }

    /// Whether the type is an array.
    pub fn is_array(self) -> bool {
        matches!(
            self,
            ColumnType::TextArray | ColumnType::SmallIntArray | ColumnType::IntArray
        )
    }
}

/// How the store computes a generated column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Generated {
    /// `lower(column)` of a text column.
    Lower(String),
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// SQL type.
    pub kind: ColumnType,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Column default.
    pub default: Option<Value>,
    /// Set when the store computes the column; mutations never write it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<Generated>,
}

/// One key of a secondary index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IndexKey {
    /// A column.
    Column(String),
    /// An expression over a column.
    Expression(IndexExpression),
}

/// An expression key of an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexExpression {
    /// `lower(column)` of a text column.
    Lower(String),
    /// `sha256(column)` of a bytes column (a plain column index on SQLite).
    Sha256(String),
}

impl IndexKey {
    /// The column the key reads.
    pub fn column(&self) -> &str {
        match self {
            IndexKey::Column(c)
            | IndexKey::Expression(IndexExpression::Lower(c) | IndexExpression::Sha256(c)) => c,
        }
    }
}

impl From<&str> for IndexKey {
    fn from(column: &str) -> Self {
        IndexKey::Column(column.to_owned())
    }
}

/// `lower(column)` as an index key.
pub fn lower(column: &str) -> IndexKey {
    IndexKey::Expression(IndexExpression::Lower(column.to_owned()))
}

/// `sha256(column)` as an index key.
pub fn sha256(column: &str) -> IndexKey {
    IndexKey::Expression(IndexExpression::Sha256(column.to_owned()))
}

/// A secondary index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// Short name; the host prefixes it with the table name.
    pub name: String,
    /// Index keys.
    pub columns: Vec<IndexKey>,
    /// Included columns.
    pub include: Vec<String>,
}

/// A table a family owns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Table name.
    pub name: String,
    /// Columns.
    pub columns: Vec<Column>,
    /// Primary key, `instance_id` first.
    pub primary_key: Vec<String>,
    /// Secondary indexes.
    pub indexes: Vec<Index>,
    /// Parent table for cascading deletes.
    pub parent: Option<String>,
}

impl Table {
    /// Start declaring a table.
    pub fn new(name: &str) -> Table {
        Table {
            name: name.to_owned(),
            columns: Vec::new(),
            primary_key: Vec::new(),
            indexes: Vec::new(),
            parent: None,
        }
    }

    /// Add a NOT NULL column.
    pub fn column(mut self, name: &str, kind: ColumnType) -> Table {
        self.columns.push(Column {
            name: name.to_owned(),
            kind,
            nullable: false,
            default: None,
            generated: None,
        });
        self
    }

    /// Add a nullable column.
    pub fn nullable(mut self, name: &str, kind: ColumnType) -> Table {
        self.columns.push(Column {
            name: name.to_owned(),
            kind,
            nullable: true,
            default: None,
            generated: None,
        });
        self
    }

    /// Add a NOT NULL column with a default.
    pub fn column_default(
        mut self,
        name: &str,
        kind: ColumnType,
        default: impl Into<Value>,
    ) -> Table {
        self.columns.push(Column {
            name: name.to_owned(),
            kind,
            nullable: false,
            default: Some(default.into()),
            generated: None,
        });
        self
    }

    /// Add a text column the store computes as `lower(source)`.
    pub fn lower_of(mut self, name: &str, source: &str) -> Table {
        self.columns.push(Column {
            name: name.to_owned(),
            kind: ColumnType::Text,
            nullable: true,
            default: None,
            generated: Some(Generated::Lower(source.to_owned())),
        });
        self
    }

    /// Set the primary key.
    pub fn primary_key(mut self, columns: &[&str]) -> Table {
        self.primary_key = columns.iter().map(|c| (*c).to_owned()).collect();
        self
    }

    /// Add a secondary index over columns.
    pub fn index(self, name: &str, columns: &[&str], include: &[&str]) -> Table {
        let keys: Vec<IndexKey> = columns.iter().map(|c| IndexKey::from(*c)).collect();
        self.index_keys(name, &keys, include)
    }

    /// Add a secondary index whose keys may be expressions ([`lower`], [`sha256`]).
    pub fn index_keys(mut self, name: &str, keys: &[IndexKey], include: &[&str]) -> Table {
        self.indexes.push(Index {
            name: name.to_owned(),
            columns: keys.to_vec(),
            include: include.iter().map(|c| (*c).to_owned()).collect(),
        });
        self
    }

    /// Declare the parent table (rows go when the parent row goes).
    pub fn parent(mut self, parent: &str) -> Table {
        self.parent = Some(parent.to_owned());
        self
    }

    /// Look up a column by name.
    pub fn find_column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Events of one aggregate type a family wants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    /// Aggregate type.
    pub aggregate_type: String,
    /// Event types.
    pub event_types: Vec<String>,
}

/// What a family says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Description {
    /// Family name.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// Owned tables.
    pub tables: Vec<Table>,
    /// Views over the owned tables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<crate::View>,
    /// Subscriptions.
    pub subscriptions: Vec<Subscription>,
}

impl Description {
    /// Start describing a family.
    pub fn new(name: &str, version: &str) -> Description {
        Description {
            name: name.to_owned(),
            version: version.to_owned(),
            tables: Vec::new(),
            views: Vec::new(),
            subscriptions: Vec::new(),
        }
    }

    /// Add an owned table.
    pub fn table(mut self, table: Table) -> Description {
        self.tables.push(table);
        self
    }

    /// Add a view over owned tables.
    pub fn view(mut self, view: crate::View) -> Description {
        self.views.push(view);
        self
    }

    /// Subscribe to event types of an aggregate type (merged with earlier ones).
    pub fn subscribe(mut self, aggregate_type: &str, event_types: &[&str]) -> Description {
        let types = event_types.iter().map(|t| (*t).to_owned());
        match self
            .subscriptions
            .iter_mut()
            .find(|s| s.aggregate_type == aggregate_type)
        {
            Some(sub) => {
                for t in types {
                    if !sub.event_types.contains(&t) {
                        sub.event_types.push(t);
                    }
                }
            }
            None => self.subscriptions.push(Subscription {
                aggregate_type: aggregate_type.to_owned(),
                event_types: types.collect(),
            }),
        }
        self
    }

    /// Look up an owned table by name.
    pub fn find_table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Whether the family subscribes to this (aggregate type, event type).
    pub fn wants(&self, aggregate_type: &str, event_type: &str) -> bool {
        self.subscriptions.iter().any(|s| {
            s.aggregate_type == aggregate_type && s.event_types.iter().any(|t| t == event_type)
        })
    }
}

/// A column paired with a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Column.
    pub column: String,
    /// Value.
    pub value: Value,
}

/// How an update changes a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnOp {
    /// Set a value.
    Set(Value),
    /// Append an element to an array.
    ArrayAppend(Value),
    /// Remove an element from an array.
    ArrayRemove(Value),
    /// Keep only these elements of a text array.
    ArrayIntersect(Vec<String>),
    /// Add to an integer.
    Increment(i64),
    /// Take another column's value of the same row.
    CopyFrom(String),
}

/// One column change of an update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Column.
    pub column: String,
    /// Change.
    pub op: ColumnOp,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareOp {
    /// `=`.
    Eq,
    /// `<>`.
    NotEq,
    /// `<`.
    Lt,
    /// The array column contains the element.
    ArrayContains,
}

/// One predicate on a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Predicate {
    /// `column op value`.
    Compare {
        /// Column.
        column: String,
        /// Operator.
        op: CompareOp,
        /// Value.
        value: Value,
    },
    /// `column IS NULL`.
    IsNull(String),
    /// `column IS NOT NULL`.
    IsNotNull(String),
    /// `column IN (values)`.
    OneOf {
        /// Column.
        column: String,
        /// Values.
        values: Vec<Value>,
    },
}

impl Predicate {
    /// The column the predicate reads.
    pub fn column(&self) -> &str {
        match self {
            Predicate::Compare { column, .. } | Predicate::OneOf { column, .. } => column,
            Predicate::IsNull(column) | Predicate::IsNotNull(column) => column,
        }
    }
}

/// One condition; a mutation's conditions are ANDed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The predicate holds.
    All(Predicate),
    /// At least one predicate holds.
    AnyOf(Vec<Predicate>),
    /// No predicate holds.
    NoneOf(Vec<Predicate>),
}

impl Condition {
    /// `column = value`.
    pub fn eq(column: &str, value: impl Into<Value>) -> Condition {
        Condition::All(Predicate::Compare {
            column: column.to_owned(),
            op: CompareOp::Eq,
            value: value.into(),
        })
    }

    /// The predicates of the condition.
    pub fn predicates(&self) -> &[Predicate] {
        match self {
            Condition::All(p) => std::slice::from_ref(p),
            Condition::AnyOf(ps) | Condition::NoneOf(ps) => ps,
        }
    }
}

/// Where a copied column's value comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopySource {
    /// A column of the source row.
    Column(String),
    /// A constant.
    Value(Value),
}

/// One target column of a copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyColumn {
    /// Target column.
    pub column: String,
    /// Source.
    pub source: CopySource,
}

/// Which row a predicate of a conditional upsert reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowSide {
    /// The stored row.
    Existing,
    /// The row being inserted.
    Incoming,
}

/// On conflict, take the incoming value of `column` only when every
/// predicate holds (the reference's "only set in case").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateWhen {
    /// Column.
    pub column: String,
    /// Predicates on the stored or incoming row, all of which must hold.
    pub when: Vec<(RowSide, Predicate)>,
}

/// One row mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Mutation {
    /// Insert one row.
    Insert {
        /// Table.
        table: String,
        /// Values.
        values: Vec<Cell>,
        /// Stamp from the event.
        bump: bool,
    },
    /// Insert or update one row.
    Upsert {
        /// Table.
        table: String,
        /// Values.
        values: Vec<Cell>,
        /// Conflict columns.
        conflict: Vec<String>,
        /// Columns kept on conflict.
        keep_on_conflict: Vec<String>,
        /// Columns updated on conflict only under a condition.
        #[serde(default)]
        update_when: Vec<UpdateWhen>,
        /// Stamp from the event.
        bump: bool,
    },
    /// Update rows.
    Update {
        /// Table.
        table: String,
        /// Changes.
        set: Vec<Assignment>,
        /// Conditions.
        conditions: Vec<Condition>,
        /// Stamp from the event.
        bump: bool,
    },
    /// Delete rows.
    Delete {
        /// Table.
        table: String,
        /// Conditions.
        conditions: Vec<Condition>,
    },
    /// Copy rows within the family's tables.
    Copy {
        /// Target table.
        table: String,
        /// Source table.
        source_table: String,
        /// Target columns and sources.
        columns: Vec<CopyColumn>,
        /// Conditions on the source rows.
        conditions: Vec<Condition>,
        /// Conflict columns.
        conflict: Vec<String>,
        /// Stamp from the event.
        bump: bool,
    },
}

impl Mutation {
    /// The table the mutation writes.
    pub fn table(&self) -> &str {
        match self {
            Mutation::Insert { table, .. }
            | Mutation::Upsert { table, .. }
            | Mutation::Update { table, .. }
            | Mutation::Delete { table, .. }
            | Mutation::Copy { table, .. } => table,
        }
    }
}

/// Which stored events a look-up wants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventFilter {
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate ids (empty: any).
    pub aggregate_ids: Vec<String>,
    /// Event types (empty: any).
    pub event_types: Vec<String>,
}

impl EventFilter {
    /// Whether an event passes the filter.
    pub fn matches(&self, event: &crate::Event) -> bool {
        event.aggregate_type == self.aggregate_type
            && (self.aggregate_ids.is_empty() || self.aggregate_ids.contains(&event.aggregate_id))
            && (self.event_types.is_empty() || self.event_types.contains(&event.event_type))
    }
}

/// Why a family could not handle an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum ProjectionError {
    /// The family does not handle this event type.
    #[error("unhandled event: {0}")]
    UnhandledEvent(String),
    /// The payload is not what the event type promises.
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    /// A looked-up fact is missing.
    #[error("not found: {0}")]
    NotFound(String),
    /// Anything else.
    #[error("{0}")]
    Failed(String),
}

/// Log levels for [`crate::log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Verbose detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected.
    Warn,
    /// A failure.
    Error,
}
