//! What a family declares: tables (columns, keys, indexes, generated
//! columns), views and subscriptions.

use serde::{Deserialize, Serialize};

use crate::{ColumnType, Value, View};

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
    /// Primary key, `instance_id` first (a system-scoped table has none;
    /// see [`Table::is_system_scoped`]).
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

    /// Whether the table is system-scoped: it declares no `instance_id`
    /// column, so its rows belong to the whole installation, not to a
    /// tenant. Only events of the system tenant (`instance_id` `''`) may
    /// write it, and those events may write no other table (see
    /// [`crate::validate::scope`]).
    pub fn is_system_scoped(&self) -> bool {
        self.find_column(crate::validate::TENANT_COLUMN).is_none()
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
    pub views: Vec<View>,
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
    pub fn view(mut self, view: View) -> Description {
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
