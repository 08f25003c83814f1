//! Target 1: mutations for `validate::scope`, and what an accepted one must
//! look like.
//!
//! Mutations come three ways: built to the documented rules (these must be
//! accepted), such a mutation with one to three things changed, and freely
//! from every kind, operation and value the model has. Names mix declared
//! ones, undeclared ones, other tables' columns, the tenant column, other
//! casing and spacing, and SQL.

use arbitrary::Unstructured;
use projection_sdk::{
    Assignment, Cell, ColumnOp, ColumnType, CompareOp, Condition, CopyColumn, CopySource,
    Description, Event, Mutation, Predicate, RowSide, Table, UpdateWhen, Value,
};

use fuzzing::{Gen, ensure};

pub(crate) const TENANT: &str = "instance_id";
const CHANGE_DATE: &str = "change_date";
const CREATION_DATE: &str = "creation_date";
const SEQUENCE: &str = "sequence";

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z in microseconds.
pub(crate) const MIN_TIME: i64 = -62_135_596_800_000_000;
pub(crate) const MAX_TIME: i64 = 253_402_300_799_999_999;

/// A family with a parent/child pair, a table without stamps, generated
/// columns, array columns, nullable and NOT NULL columns of every type.
pub(crate) fn family() -> Description {
    use ColumnType as T;
    Description::new("fuzzed", "0.1.0")
        .table(
            Table::new("orgs_projection")
                .column("instance_id", T::Text)
                .column("id", T::Text)
                .column("creation_date", T::Timestamp)
                .column("change_date", T::Timestamp)
                .column("sequence", T::Int)
                .column("name", T::Text)
                .lower_of("name_lower", "name")
                .column_default("state", T::SmallInt, 1)
                .nullable("domains", T::TextArray)
                .column("roles", T::SmallIntArray)
                .nullable("counters", T::IntArray)
                .nullable("active", T::Boolean)
                .nullable("expiry", T::Interval)
                .nullable("secret", T::Bytes)
                .nullable("settings", T::Json)
                .nullable("owner_id", T::Text)
                .primary_key(&["instance_id", "id"]),
        )
        .table(
            Table::new("org_members_projection")
                .column("instance_id", T::Text)
                .column("org_id", T::Text)
                .column("user_id", T::Text)
                .column("change_date", T::Timestamp)
                .column("sequence", T::Int)
                .column("roles", T::TextArray)
                .nullable("name", T::Text)
                .lower_of("name_lower", "name")
                .nullable("logins", T::Int)
                .primary_key(&["instance_id", "org_id", "user_id"])
                .parent("orgs_projection"),
        )
        .table(
            Table::new("settings_projection")
                .column("instance_id", T::Text)
                .column("key", T::Text)
                .nullable("value", T::Text)
                .nullable("flags", T::IntArray)
                .primary_key(&["instance_id", "key"]),
        )
}

const TENANTS: &[&str] = &[
    "tenant-a",
    "Tenant-A",
    "TENANT-A",
    "tenant-a ",
    " tenant-a",
    "tenant-b",
    "",
    " ",
    "tenant-a\0",
    "tenant-\u{430}",
    "x\"; DROP TABLE orgs_projection; --",
    "' OR '1'='1",
];

const ODD_TABLES: &[&str] = &[
    "Orgs_Projection",
    "orgs_projection ",
    "",
    "users_projection",
    "events2",
    "eventstore.events2",
    "projector_checkpoints",
    "x\"; DROP TABLE orgs_projection; --",
    "sqlite_master",
    "orgs",
];

const ODD_COLUMNS: &[&str] = &[
    "INSTANCE_ID",
    "Instance_Id",
    "instance_id ",
    " instance_id",
    "instance-id",
    "",
    "x\"; DROP TABLE orgs_projection; --",
    "id\"; DELETE FROM orgs_projection; --",
    "*",
    "id, instance_id",
    "\"id\"",
    "rowid",
    "ctid",
    "position",
    "orgs_projection.id",
    "NAME",
    "\u{131}d",
];

const WORDS: &[&str] = &[
    "org-1",
    "user-1",
    "Alice",
    "alice",
    "M\u{fc}ller",
    "",
    "it's \\ $$ \u{1f980}",
    "NULL",
];

const JSON_OK: &[&str] = &[
    "{}",
    "null",
    "[1,2,3]",
    "{\"a\":\"M\u{fc}ller\"}",
    "\"t\"",
    "1.5",
];
const JSON_BAD: &[&str] = &[
    "{\"a\":",
    "not json",
    "{\"a\":\"x\\u0000y\"}",
    "{\"k\\u0000\":1}",
    "",
];

/// Everything an iteration of the scope target needs.
#[derive(Debug)]
pub(crate) struct ScopeInput {
    pub(crate) event: Event,
    pub(crate) mutation: Mutation,
    /// Built to the documented rules: it must be accepted.
    pub(crate) well_formed: bool,
}

struct Gn<'u, 'a> {
    u: &'u mut Unstructured<'a>,
    d: &'u Description,
    tenant: String,
}

impl Gn<'_, '_> {
    fn pick<T: Clone>(&mut self, items: &[T]) -> Gen<T> {
        self.u.choose(items).cloned()
    }

    fn pct(&mut self, percent: u8) -> Gen<bool> {
        Ok(self.u.int_in_range(0..=99u8)? < percent)
    }

    fn count(&mut self, max: usize) -> Gen<usize> {
        self.u.int_in_range(0..=max)
    }

    fn table(&mut self) -> Gen<&Table> {
        let i = self.u.choose_index(self.d.tables.len())?;
        Ok(&self.d.tables[i])
    }

    /// A table name: mostly declared, sometimes not.
    fn table_name(&mut self) -> Gen<String> {
        Ok(match self.u.int_in_range(0..=9u8)? {
            0 => self.pick(ODD_TABLES)?.to_owned(),
            1 => self.u.arbitrary()?,
            _ => self.table()?.name.clone(),
        })
    }

    /// The declared table named `name`, or any declared table.
    fn table_or_any(&mut self, name: &str) -> Gen<Table> {
        match self.d.find_table(name) {
            Some(t) => Ok(t.clone()),
            None => Ok(self.table()?.clone()),
        }
    }

    /// A column name for `table`: mostly its own, sometimes another
    /// table's, the tenant, or something odd.
    fn column(&mut self, table: &Table) -> Gen<String> {
        Ok(match self.u.int_in_range(0..=99u8)? {
            0..=11 => TENANT.to_owned(),
            12..=69 => self.pick(&table.columns)?.name,
            70..=81 => {
                let other = self.table()?.clone();
                self.pick(&other.columns)?.name
            }
            82..=96 => self.pick(ODD_COLUMNS)?.to_owned(),
            _ => self.u.arbitrary()?,
        })
    }

    fn kind_of(&self, table: &Table, column: &str) -> Option<ColumnType> {
        table
            .find_column(column)
            .or_else(|| self.d.tables.iter().find_map(|t| t.find_column(column)))
            .map(|c| c.kind)
    }

    fn text(&mut self, storable: bool) -> Gen<String> {
        let text: String = match self.u.int_in_range(0..=9u8)? {
            0..=2 => self.pick(TENANTS)?.to_owned(),
            3..=6 => self.pick(WORDS)?.to_owned(),
            _ => self.u.arbitrary()?,
        };
        Ok(if storable {
            text.replace('\0', "")
        } else {
            text
        })
    }

    /// An integer; `small` keeps it in SMALLINT's range.
    fn int(&mut self, small: bool) -> Gen<i64> {
        let edges = [
            0,
            -1,
            1,
            i64::MIN,
            i64::MAX,
            32_767,
            -32_768,
            32_768,
            -32_769,
        ];
        let n: i64 = match self.u.int_in_range(0..=5u8)? {
            0 => *self.u.choose(&edges)?,
            1 | 2 => self.u.arbitrary()?,
            _ => self.u.int_in_range(-3..=40)?,
        };
        Ok(if small {
            i64::from(i16::try_from(n).unwrap_or(if n < 0 { i16::MIN } else { i16::MAX }))
        } else {
            n
        })
    }

    fn time(&mut self, storable: bool) -> Gen<i64> {
        if storable || self.pct(80)? {
            self.u.int_in_range(MIN_TIME..=MAX_TIME)
        } else {
            self.u.arbitrary()
        }
    }

    /// A value of `kind` (storable when asked, else usually).
    fn typed(&mut self, kind: ColumnType, storable: bool) -> Gen<Value> {
        use ColumnType as T;
        let odd = !storable && self.pct(10)?;
        Ok(match kind {
            T::Text => Value::Text(self.text(storable)?),
            T::SmallInt => Value::Int(self.int(!odd)?),
            T::Int => Value::Int(self.int(false)?),
            T::Boolean => Value::Boolean(self.u.arbitrary()?),
            T::Timestamp => Value::Timestamp(self.time(!odd)?),
            T::Interval => Value::Interval(self.u.arbitrary()?),
            T::Bytes => {
                let n = self.count(24)?.min(self.u.len());
                Value::Bytes(self.u.bytes(n)?.to_vec())
            }
            T::Json => Value::Json(if odd {
                self.pick(JSON_BAD)?.to_owned()
            } else {
                self.pick(JSON_OK)?.to_owned()
            }),
            T::TextArray => {
                let n = self.count(3)?;
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(self.text(storable)?);
                }
                Value::TextArray(items)
            }
            T::SmallIntArray | T::IntArray => {
                let n = self.count(3)?;
                let mut items = Vec::new();
                for _ in 0..n {
                    items.push(self.int(kind == T::SmallIntArray && !odd)?);
                }
                Value::IntArray(items)
            }
        })
    }

    /// A value of any variant.
    fn any_value(&mut self) -> Gen<Value> {
        use ColumnType as T;
        if self.pct(10)? {
            return Ok(Value::Null);
        }
        let kind = self.pick(&[
            T::Text,
            T::Int,
            T::Boolean,
            T::Timestamp,
            T::Interval,
            T::Bytes,
            T::Json,
            T::TextArray,
            T::IntArray,
        ])?;
        self.typed(kind, false)
    }

    /// A value for `column`: the tenant column gets tenants, a declared
    /// column usually a value of its type.
    fn value_for(&mut self, table: &Table, column: &str) -> Gen<Value> {
        if column == TENANT && self.pct(85)? {
            return Ok(Value::Text(if self.pct(60)? {
                self.tenant.clone()
            } else {
                self.pick(TENANTS)?.to_owned()
            }));
        }
        match self.kind_of(table, column) {
            Some(kind) if self.pct(75)? => {
                if self.pct(8)? {
                    Ok(Value::Null)
                } else {
                    self.typed(kind, false)
                }
            }
            _ => self.any_value(),
        }
    }

    /// An element for an array column (or anything).
    fn element_for(&mut self, table: &Table, column: &str, storable: bool) -> Gen<Value> {
        match self.kind_of(table, column) {
            Some(ColumnType::TextArray) if storable || self.pct(75)? => {
                Ok(Value::Text(self.text(storable)?))
            }
            Some(k @ (ColumnType::SmallIntArray | ColumnType::IntArray))
                if storable || self.pct(75)? =>
            {
                Ok(Value::Int(
                    self.int(storable && k == ColumnType::SmallIntArray)?,
                ))
            }
            _ => self.any_value(),
        }
    }

    // Free generation: anything the model can express.

    fn cell(&mut self, table: &Table) -> Gen<Cell> {
        let column = self.column(table)?;
        let value = self.value_for(table, &column)?;
        Ok(Cell { column, value })
    }

    fn cells(&mut self, table: &Table) -> Gen<Vec<Cell>> {
        let n = self.count(5)?;
        (0..n).map(|_| self.cell(table)).collect()
    }

    fn names(&mut self, table: &Table, max: usize) -> Gen<Vec<String>> {
        let n = self.count(max)?;
        (0..n).map(|_| self.column(table)).collect()
    }

    /// Conflict columns: often the primary key (some order, perhaps without
    /// the tenant), sometimes with a repeat or a stranger.
    fn conflict(&mut self, table: &Table) -> Gen<Vec<String>> {
        if self.pct(30)? {
            return self.names(table, 4);
        }
        let mut key = self.primary_key(table)?;
        if !key.is_empty() && self.pct(25)? {
            let i = self.u.choose_index(key.len())?;
            let extra = if self.pct(50)? {
                key[i].clone()
            } else {
                self.column(table)?
            };
            if self.pct(50)? {
                key[i] = extra;
            } else {
                key.push(extra);
            }
        }
        Ok(key)
    }

    fn predicate(&mut self, table: &Table) -> Gen<Predicate> {
        let column = self.column(table)?;
        Ok(match self.u.int_in_range(0..=5u8)? {
            0 => Predicate::IsNull(column),
            1 => Predicate::IsNotNull(column),
            2 => {
                let n = self.count(3)?;
                let mut values = Vec::new();
                for _ in 0..n {
                    values.push(self.value_for(table, &column)?);
                }
                Predicate::OneOf { column, values }
            }
            _ => {
                let op = self.pick(&[
                    CompareOp::Eq,
                    CompareOp::NotEq,
                    CompareOp::Lt,
                    CompareOp::ArrayContains,
                ])?;
                let value = if op == CompareOp::ArrayContains {
                    self.element_for(table, &column, false)?
                } else {
                    self.value_for(table, &column)?
                };
                Predicate::Compare { column, op, value }
            }
        })
    }

    fn predicates(&mut self, table: &Table) -> Gen<Vec<Predicate>> {
        let n = self.count(3)?;
        (0..n).map(|_| self.predicate(table)).collect()
    }

    fn condition(&mut self, table: &Table) -> Gen<Condition> {
        Ok(match self.u.int_in_range(0..=9u8)? {
            0 | 1 => Condition::AnyOf(self.predicates(table)?),
            2 => Condition::NoneOf(self.predicates(table)?),
            3 => {
                let value = self.value_for(table, TENANT)?;
                Condition::eq(TENANT, value)
            }
            _ => Condition::All(self.predicate(table)?),
        })
    }

    fn conditions(&mut self, table: &Table) -> Gen<Vec<Condition>> {
        let n = self.count(3)?;
        (0..n).map(|_| self.condition(table)).collect()
    }

    fn column_op(&mut self, table: &Table, column: &str) -> Gen<ColumnOp> {
        Ok(match self.u.int_in_range(0..=9u8)? {
            0..=3 => ColumnOp::Set(self.value_for(table, column)?),
            4 => ColumnOp::ArrayAppend(self.element_for(table, column, false)?),
            5 => ColumnOp::ArrayRemove(self.element_for(table, column, false)?),
            6 => {
                let n = self.count(3)?;
                let mut keep = Vec::new();
                for _ in 0..n {
                    keep.push(self.text(false)?);
                }
                ColumnOp::ArrayIntersect(keep)
            }
            7 => ColumnOp::Increment(self.int(false)?),
            _ => ColumnOp::CopyFrom(self.column(table)?),
        })
    }

    fn assignment(&mut self, table: &Table) -> Gen<Assignment> {
        let column = self.column(table)?;
        let op = self.column_op(table, &column)?;
        Ok(Assignment { column, op })
    }

    fn update_when(&mut self, table: &Table) -> Gen<UpdateWhen> {
        let column = self.column(table)?;
        let n = self.count(2)?;
        let mut when = Vec::new();
        for _ in 0..n {
            let side = self.pick(&[RowSide::Existing, RowSide::Incoming])?;
            when.push((side, self.predicate(table)?));
        }
        Ok(UpdateWhen { column, when })
    }

    fn copy_column(&mut self, target: &Table, source: &Table) -> Gen<CopyColumn> {
        let column = self.column(target)?;
        let source = if self.pct(60)? {
            CopySource::Column(if self.pct(50)? {
                column.clone()
            } else {
                self.column(source)?
            })
        } else {
            CopySource::Value(self.value_for(target, &column)?)
        };
        Ok(CopyColumn { column, source })
    }

    fn free(&mut self) -> Gen<Mutation> {
        let name = self.table_name()?;
        let table = self.table_or_any(&name)?;
        let bump = self.pct(70)?;
        Ok(match self.u.int_in_range(0..=4u8)? {
            0 => Mutation::Insert {
                table: name,
                values: self.cells(&table)?,
                bump,
            },
            1 => {
                let n = self.count(2)?;
                let update_when = (0..n)
                    .map(|_| self.update_when(&table))
                    .collect::<Gen<_>>()?;
                Mutation::Upsert {
                    table: name,
                    values: self.cells(&table)?,
                    conflict: self.conflict(&table)?,
                    keep_on_conflict: self.names(&table, 2)?,
                    update_when,
                    bump,
                }
            }
            2 => {
                let n = self.count(4)?;
                Mutation::Update {
                    table: name,
                    set: (0..n)
                        .map(|_| self.assignment(&table))
                        .collect::<Gen<_>>()?,
                    conditions: self.conditions(&table)?,
                    bump,
                }
            }
            3 => Mutation::Delete {
                table: name,
                conditions: self.conditions(&table)?,
            },
            _ => {
                let source_name = self.table_name()?;
                let source = self.table_or_any(&source_name)?;
                let n = self.count(4)?;
                Mutation::Copy {
                    table: name,
                    source_table: source_name,
                    columns: (0..n)
                        .map(|_| self.copy_column(&table, &source))
                        .collect::<Gen<_>>()?,
                    conditions: self.conditions(&source)?,
                    conflict: self.conflict(&table)?,
                    bump,
                }
            }
        })
    }

    // Well-formed generation: only what the documented rules allow.

    fn primary_key(&mut self, table: &Table) -> Gen<Vec<String>> {
        let mut key = table.primary_key.clone();
        if self.pct(50)? {
            key.retain(|c| c != TENANT);
        }
        if key.len() > 1 && self.pct(30)? {
            key.reverse();
        }
        Ok(key)
    }

    /// Some distinct writable columns of `table`, maybe the tenant.
    fn writable(&mut self, table: &Table, tenant: bool) -> Gen<Vec<String>> {
        let mut out = Vec::new();
        for column in &table.columns {
            let allowed = column.generated.is_none() && (tenant || column.name != TENANT);
            if allowed && self.pct(40)? {
                out.push(column.name.clone());
            }
        }
        Ok(out)
    }

    fn good_value(&mut self, table: &Table, column: &str) -> Gen<Value> {
        if column == TENANT {
            return Ok(Value::Text(self.tenant.clone()));
        }
        let found = table.find_column(column).unwrap();
        if found.nullable && self.pct(15)? {
            return Ok(Value::Null);
        }
        self.typed(found.kind, true)
    }

    fn good_cells(&mut self, table: &Table) -> Gen<Vec<Cell>> {
        let columns = self.writable(table, true)?;
        columns
            .into_iter()
            .map(|column| {
                let value = self.good_value(table, &column)?;
                Ok(Cell { column, value })
            })
            .collect()
    }

    fn good_predicate(&mut self, table: &Table) -> Gen<Predicate> {
        let others: Vec<_> = table.columns.iter().filter(|c| c.name != TENANT).collect();
        let column = self.pick(&others)?;
        let name = column.name.clone();
        let value = |g: &mut Self| -> Gen<Value> {
            if g.pct(10)? {
                Ok(Value::Null)
            } else {
                g.typed(column.kind, true)
            }
        };
        Ok(match self.u.int_in_range(0..=5u8)? {
            0 => Predicate::IsNull(name),
            1 => Predicate::IsNotNull(name),
            2 => {
                let n = self.count(3)?;
                let mut values = Vec::new();
                for _ in 0..n {
                    values.push(value(self)?);
                }
                Predicate::OneOf {
                    column: name,
                    values,
                }
            }
            _ if column.kind.is_array() && self.pct(50)? => Predicate::Compare {
                op: CompareOp::ArrayContains,
                value: self.element_for(table, &name, true)?,
                column: name,
            },
            _ => Predicate::Compare {
                op: self.pick(&[CompareOp::Eq, CompareOp::NotEq, CompareOp::Lt])?,
                value: value(self)?,
                column: name,
            },
        })
    }

    fn good_conditions(&mut self, table: &Table) -> Gen<Vec<Condition>> {
        let n = 1 + self.count(2)?;
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(match self.u.int_in_range(0..=9u8)? {
                0 => Condition::eq(TENANT, self.tenant.clone()),
                1 | 2 => {
                    let k = self.count(3)?;
                    let ps = (0..k)
                        .map(|_| self.good_predicate(table))
                        .collect::<Gen<_>>()?;
                    Condition::AnyOf(ps)
                }
                3 => {
                    let k = self.count(3)?;
                    let ps = (0..k)
                        .map(|_| self.good_predicate(table))
                        .collect::<Gen<_>>()?;
                    Condition::NoneOf(ps)
                }
                _ => Condition::All(self.good_predicate(table)?),
            });
        }
        Ok(out)
    }

    fn good_op(&mut self, table: &Table, column: &str) -> Gen<ColumnOp> {
        use ColumnType as T;
        let kind = table.find_column(column).unwrap().kind;
        let same_kind: Vec<String> = table
            .columns
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| c.name.clone())
            .collect();
        Ok(match self.u.int_in_range(0..=5u8)? {
            0 => ColumnOp::CopyFrom(self.pick(&same_kind)?),
            1 if kind.is_array() => ColumnOp::ArrayAppend(self.element_for(table, column, true)?),
            2 if kind.is_array() => ColumnOp::ArrayRemove(self.element_for(table, column, true)?),
            3 if kind == T::TextArray => {
                let n = self.count(3)?;
                ColumnOp::ArrayIntersect((0..n).map(|_| self.text(true)).collect::<Gen<_>>()?)
            }
            4 if matches!(kind, T::Int | T::SmallInt) => ColumnOp::Increment(self.int(false)?),
            _ => ColumnOp::Set(self.good_value(table, column)?),
        })
    }

    fn well_formed(&mut self) -> Gen<Mutation> {
        let table = self.table()?.clone();
        let name = table.name.clone();
        let bump = self.pct(70)?;
        Ok(match self.u.int_in_range(0..=4u8)? {
            0 => Mutation::Insert {
                table: name,
                values: self.good_cells(&table)?,
                bump,
            },
            1 => {
                let values = self.good_cells(&table)?;
                let conflict = self.primary_key(&table)?;
                let mut update_when = Vec::new();
                for cell in &values {
                    if !table.primary_key.contains(&cell.column) && self.pct(30)? {
                        let n = self.count(2)?;
                        let mut when = Vec::new();
                        for _ in 0..n {
                            let side = self.pick(&[RowSide::Existing, RowSide::Incoming])?;
                            when.push((side, self.good_predicate(&table)?));
                        }
                        update_when.push(UpdateWhen {
                            column: cell.column.clone(),
                            when,
                        });
                    }
                }
                let keep: Vec<String> = table
                    .columns
                    .iter()
                    .map(|c| c.name.clone())
                    .filter(|_| self.pct(20).unwrap_or(false))
                    .collect();
                Mutation::Upsert {
                    table: name,
                    values,
                    conflict,
                    keep_on_conflict: keep,
                    update_when,
                    bump,
                }
            }
            2 => {
                let mut columns = self.writable(&table, false)?;
                if columns.is_empty() {
                    columns.push(
                        table
                            .columns
                            .iter()
                            .find(|c| c.name != TENANT && c.generated.is_none())
                            .unwrap()
                            .name
                            .clone(),
                    );
                }
                let set = columns
                    .into_iter()
                    .map(|column| {
                        let op = self.good_op(&table, &column)?;
                        Ok(Assignment { column, op })
                    })
                    .collect::<Gen<_>>()?;
                Mutation::Update {
                    table: name,
                    set,
                    conditions: self.good_conditions(&table)?,
                    bump,
                }
            }
            3 => Mutation::Delete {
                table: name,
                conditions: self.good_conditions(&table)?,
            },
            _ => {
                let source = self.table()?.clone();
                let mut columns = Vec::new();
                for target in self.writable(&table, true)? {
                    let kind = table.find_column(&target).unwrap().kind;
                    let from: Vec<String> = source
                        .columns
                        .iter()
                        .filter(|c| c.kind == kind && (target != TENANT || c.name == TENANT))
                        .map(|c| c.name.clone())
                        .collect();
                    let copy_source = if !from.is_empty() && self.pct(70)? {
                        CopySource::Column(self.pick(&from)?)
                    } else {
                        CopySource::Value(self.good_value(&table, &target)?)
                    };
                    columns.push(CopyColumn {
                        column: target,
                        source: copy_source,
                    });
                }
                Mutation::Copy {
                    table: name,
                    source_table: source.name.clone(),
                    columns,
                    conditions: self.good_conditions(&source)?,
                    conflict: self.primary_key(&table)?,
                    bump,
                }
            }
        })
    }

    /// One change to a mutation: a name, a value, an extra entry, a flag.
    fn corrupt(&mut self, m: &mut Mutation) -> Gen<()> {
        let table = self.table_or_any(m.table())?;
        if self.pct(10)? {
            let name = self.table_name()?;
            set_table(m, name);
            return Ok(());
        }
        fn put<T>(g: &mut Gn<'_, '_>, list: &mut Vec<T>, item: T) -> Gen<()> {
            if !list.is_empty() && g.pct(50)? {
                let i = g.u.choose_index(list.len())?;
                list[i] = item;
            } else {
                let i = g.u.int_in_range(0..=list.len())?;
                list.insert(i, item);
            }
            Ok(())
        }
        match m {
            Mutation::Insert { values, bump, .. } => {
                if self.pct(10)? {
                    *bump = !*bump;
                } else {
                    let cell = self.cell(&table)?;
                    put(self, values, cell)?;
                }
            }
            Mutation::Upsert {
                values,
                conflict,
                keep_on_conflict,
                update_when,
                ..
            } => match self.u.int_in_range(0..=3u8)? {
                0 => {
                    let cell = self.cell(&table)?;
                    put(self, values, cell)?;
                }
                1 => {
                    let c = self.column(&table)?;
                    put(self, conflict, c)?;
                }
                2 => {
                    let c = self.column(&table)?;
                    put(self, keep_on_conflict, c)?;
                }
                _ => {
                    let rule = self.update_when(&table)?;
                    put(self, update_when, rule)?;
                }
            },
            Mutation::Update {
                set, conditions, ..
            } => {
                if self.pct(50)? {
                    let a = self.assignment(&table)?;
                    put(self, set, a)?;
                } else {
                    let c = self.condition(&table)?;
                    put(self, conditions, c)?;
                }
            }
            Mutation::Delete { conditions, .. } => {
                if self.pct(10)? {
                    conditions.clear();
                } else {
                    let c = self.condition(&table)?;
                    put(self, conditions, c)?;
                }
            }
            Mutation::Copy {
                source_table,
                columns,
                conditions,
                conflict,
                ..
            } => {
                let source = self.table_or_any(source_table)?;
                match self.u.int_in_range(0..=3u8)? {
                    0 => *source_table = self.table_name()?,
                    1 => {
                        let c = self.copy_column(&table, &source)?;
                        put(self, columns, c)?;
                    }
                    2 => {
                        let c = self.condition(&source)?;
                        put(self, conditions, c)?;
                    }
                    _ => {
                        let c = self.column(&table)?;
                        put(self, conflict, c)?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn set_table(m: &mut Mutation, name: String) {
    match m {
        Mutation::Insert { table, .. }
        | Mutation::Upsert { table, .. }
        | Mutation::Update { table, .. }
        | Mutation::Delete { table, .. }
        | Mutation::Copy { table, .. } => *table = name,
    }
}

fn event(u: &mut Unstructured<'_>) -> Gen<Event> {
    let instance_id = match u.int_in_range(0..=9u8)? {
        0..=6 => "tenant-a".to_owned(),
        7 | 8 => u.choose(TENANTS)?.to_string(),
        _ => u.arbitrary()?,
    };
    Ok(Event {
        position: "1.5".into(),
        in_tx_order: 1,
        instance_id,
        aggregate_type: "org".into(),
        aggregate_id: "org-1".into(),
        event_type: "org.added".into(),
        sequence: u.arbitrary()?,
        revision: 1,
        created_at: u.int_in_range(MIN_TIME..=MAX_TIME)?,
        payload: None,
        creator: "u".into(),
        owner: "o".into(),
    })
}

pub(crate) fn scope_input(u: &mut Unstructured<'_>, d: &Description) -> Gen<ScopeInput> {
    let event = event(u)?;
    let mode = u.int_in_range(0..=9u8)?;
    let mut g = Gn {
        u,
        d,
        tenant: event.instance_id.clone(),
    };
    let (mutation, well_formed) = match mode {
        0..=3 => (g.well_formed()?, true),
        4..=6 => {
            let mut m = g.well_formed()?;
            for _ in 0..1 + g.count(2)? {
                g.corrupt(&mut m)?;
            }
            (m, false)
        }
        _ => (g.free()?, false),
    };
    // A tenant with a NUL character is not storable: naming it may be
    // refused. The system tenant '' writes only system-scoped tables, and
    // this family has none.
    let well_formed = well_formed
        && !event.instance_id.contains('\0')
        && event.instance_id != projection_sdk::validate::SYSTEM_TENANT;
    Ok(ScopeInput {
        event,
        mutation,
        well_formed,
    })
}

// The properties of an accepted mutation, stated on the output alone (and on
// what the plugin asked for), never by re-running the checks of `scope`.

/// Whether a value has the SQL type of a column (NULL fits every type).
fn fits(kind: ColumnType, value: &Value) -> bool {
    use ColumnType as T;
    match value {
        Value::Null => true,
        Value::Text(_) => kind == T::Text,
        Value::Int(_) => matches!(kind, T::SmallInt | T::Int),
        Value::Boolean(_) => kind == T::Boolean,
        Value::Timestamp(_) => kind == T::Timestamp,
        Value::Interval(_) => kind == T::Interval,
        Value::Bytes(_) => kind == T::Bytes,
        Value::Json(_) => kind == T::Json,
        Value::TextArray(_) => kind == T::TextArray,
        Value::IntArray(_) => matches!(kind, T::SmallIntArray | T::IntArray),
    }
}

/// Whether a value is an element of an array column.
fn element_fits(kind: ColumnType, value: &Value) -> bool {
    use ColumnType as T;
    matches!(
        (kind, value),
        (T::TextArray, Value::Text(_)) | (T::SmallIntArray | T::IntArray, Value::Int(_))
    )
}

/// Whether both stores hold the value alike: no NUL in text, JSON that
/// parses, times in the years 1 to 9999, SMALLINTs in range.
fn storable(kind: ColumnType, value: &Value) -> bool {
    let small = matches!(kind, ColumnType::SmallInt | ColumnType::SmallIntArray);
    let int_ok = |i: &i64| !small || (-32_768..=32_767).contains(i);
    match value {
        Value::Text(t) => !t.contains('\0'),
        Value::TextArray(items) => items.iter().all(|t| !t.contains('\0')),
        Value::Json(text) => serde_json::from_str(text).is_ok_and(|json| !json_has_nul(&json)),
        Value::Timestamp(t) => (MIN_TIME..=MAX_TIME).contains(t),
        Value::Int(i) => int_ok(i),
        Value::IntArray(items) => items.iter().all(int_ok),
        _ => true,
    }
}

fn json_has_nul(json: &serde_json::Value) -> bool {
    match json {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(json_has_nul),
        serde_json::Value::Object(fields) => fields
            .iter()
            .any(|(k, v)| k.contains('\0') || json_has_nul(v)),
        _ => false,
    }
}

pub(crate) struct Expect<'a> {
    pub(crate) d: &'a Description,
    pub(crate) event: &'a Event,
}

impl Expect<'_> {
    pub(crate) fn tenant(&self) -> Value {
        Value::Text(self.event.instance_id.clone())
    }

    fn table<'t>(&'t self, name: &str) -> Result<&'t Table, String> {
        self.d
            .find_table(name)
            .ok_or_else(|| format!("accepted a mutation of undeclared table {name:?}"))
    }

    /// A value written into `column`: declared, not generated, typed,
    /// storable, not NULL when NOT NULL, the event's tenant in the tenant
    /// column.
    fn written(&self, table: &Table, column: &str, value: &Value) -> Result<(), String> {
        let t = &table.name;
        let c = table
            .find_column(column)
            .ok_or_else(|| format!("accepted a write of undeclared column {t}.{column:?}"))?;
        ensure!(
            c.generated.is_none(),
            "accepted a write of generated column {t}.{column}"
        );
        ensure!(
            fits(c.kind, value),
            "accepted {value:?} for {t}.{column} of type {:?}",
            c.kind
        );
        // The tenant is the event's, which a store already holds.
        ensure!(
            column == TENANT || storable(c.kind, value),
            "accepted unstorable {value:?} for {t}.{column}"
        );
        ensure!(
            c.nullable || *value != Value::Null,
            "accepted NULL for NOT NULL column {t}.{column}"
        );
        if column == TENANT {
            ensure!(
                *value == self.tenant(),
                "accepted tenant {value:?} in {t}, the event's tenant is {:?}",
                self.event.instance_id
            );
        }
        Ok(())
    }

    /// A predicate reads a declared column with values of its type; on the
    /// tenant column, only the event's tenant.
    fn predicate(&self, table: &Table, p: &Predicate) -> Result<(), String> {
        let t = &table.name;
        let column = p.column();
        let c = table
            .find_column(column)
            .ok_or_else(|| format!("accepted a predicate on undeclared {t}.{column:?}"))?;
        let values: Vec<&Value> = match p {
            Predicate::Compare {
                op: CompareOp::ArrayContains,
                value,
                ..
            } => {
                ensure!(
                    element_fits(c.kind, value),
                    "accepted contains {value:?} on {t}.{column} of type {:?}",
                    c.kind
                );
                vec![value]
            }
            Predicate::Compare { value, .. } => {
                ensure!(
                    fits(c.kind, value),
                    "accepted a comparison of {t}.{column} of type {:?} with {value:?}",
                    c.kind
                );
                vec![value]
            }
            Predicate::OneOf { values, .. } => {
                for v in values {
                    ensure!(
                        fits(c.kind, v),
                        "accepted {v:?} in one-of on {t}.{column} of type {:?}",
                        c.kind
                    );
                }
                values.iter().collect()
            }
            Predicate::IsNull(_) | Predicate::IsNotNull(_) => Vec::new(),
        };
        for v in values {
            let kind = match (c.kind, v) {
                (ColumnType::SmallIntArray, Value::Int(_)) => ColumnType::SmallInt,
                (kind, _) => kind,
            };
            ensure!(
                column == TENANT || storable(kind, v),
                "accepted unstorable {v:?} in a predicate on {t}.{column}"
            );
            if column == TENANT {
                ensure!(
                    *v == self.tenant(),
                    "accepted a predicate naming tenant {v:?}, the event's is {:?}",
                    self.event.instance_id
                );
            }
        }
        Ok(())
    }

    /// Conditions keep every condition the plugin gave, add at most the
    /// tenant, contain `instance_id = <event tenant>`, and compare the
    /// tenant only for equality at the top level (never inside an OR or a
    /// NOT group, never with another operator). Updates and deletes carry
    /// a condition of their own.
    fn conditions(
        &self,
        table: &Table,
        given: &[Condition],
        out: &[Condition],
        own_required: bool,
    ) -> Result<(), String> {
        let tenant_eq = Condition::eq(TENANT, self.tenant());
        ensure!(
            !own_required || !given.is_empty(),
            "accepted an update or delete without a condition of its own"
        );
        for c in given {
            ensure!(out.contains(c), "dropped the plugin's condition {c:?}");
        }
        ensure!(
            out.len() <= given.len() + 1
                && out.iter().all(|c| given.contains(c) || *c == tenant_eq),
            "conditions changed beyond the tenant scope: {out:?}"
        );
        ensure!(
            out.contains(&tenant_eq),
            "not scoped to the event's tenant: {out:?}"
        );
        for c in out {
            for p in c.predicates() {
                self.predicate(table, p)?;
                if p.column() == TENANT {
                    let top_eq = matches!(
                        c,
                        Condition::All(Predicate::Compare {
                            op: CompareOp::Eq,
                            ..
                        })
                    );
                    ensure!(top_eq, "accepted the tenant column in {c:?}");
                }
            }
        }
        Ok(())
    }

    /// Conflict columns are exactly the primary key: each key column once.
    fn conflict(&self, table: &Table, conflict: &[String]) -> Result<(), String> {
        let mut have: Vec<&String> = conflict.iter().collect();
        let mut want: Vec<&String> = table.primary_key.iter().collect();
        have.sort();
        want.sort();
        ensure!(
            have == want,
            "accepted conflict columns {conflict:?}, the primary key of {} is {:?}",
            table.name,
            table.primary_key
        );
        Ok(())
    }

    fn no_repeats<'c>(&self, columns: impl Iterator<Item = &'c str>) -> Result<(), String> {
        let mut seen = Vec::new();
        for c in columns {
            ensure!(!seen.contains(&c), "column {c:?} written twice");
            seen.push(c);
        }
        Ok(())
    }

    /// The event's stamps, for a table that declares the column.
    fn stamp(&self, table: &Table, column: &str) -> Option<Value> {
        table.find_column(column)?;
        match column {
            CHANGE_DATE => Some(Value::Timestamp(self.event.created_at)),
            SEQUENCE => Some(Value::Int(self.event.sequence)),
            _ => None,
        }
    }

    /// An inserted row (insert or upsert): written values, the tenant once,
    /// the plugin's values kept, stamps from the event unless opted out.
    fn row(&self, table: &Table, given: &[Cell], out: &[Cell], bump: bool) -> Result<(), String> {
        self.no_repeats(out.iter().map(|c| c.column.as_str()))?;
        for cell in out {
            self.written(table, &cell.column, &cell.value)?;
        }
        let tenants = out.iter().filter(|c| c.column == TENANT).count();
        ensure!(tenants == 1, "the row carries the tenant {tenants} times");
        let stamped = |c: &str| bump && self.stamp(table, c).is_some();
        for cell in given {
            if !stamped(&cell.column) {
                ensure!(
                    out.contains(cell),
                    "dropped or changed the plugin's {cell:?}"
                );
            }
        }
        let get = |c: &str| out.iter().find(|x| x.column == c).map(|x| &x.value);
        for column in [CHANGE_DATE, SEQUENCE] {
            if let (true, Some(stamp)) = (bump, self.stamp(table, column)) {
                ensure!(
                    get(column) == Some(&stamp),
                    "{column} is {:?}, the event says {stamp:?}",
                    get(column)
                );
            }
        }
        if bump && table.find_column(CREATION_DATE).is_some() {
            ensure!(
                get(CREATION_DATE).is_some(),
                "a bumped row without creation_date"
            );
        }
        for cell in out {
            let expected = given.iter().any(|g| g.column == cell.column)
                || cell.column == TENANT
                || (bump
                    && (cell.column == CREATION_DATE || self.stamp(table, &cell.column).is_some()));
            ensure!(expected, "added {cell:?}, which is no stamp of the event");
        }
        Ok(())
    }

    fn assignment(&self, table: &Table, a: &Assignment) -> Result<(), String> {
        use ColumnType as T;
        let t = &table.name;
        let column = a.column.as_str();
        ensure!(column != TENANT, "accepted an update of the tenant column");
        let c = table
            .find_column(column)
            .ok_or_else(|| format!("accepted an update of undeclared {t}.{column:?}"))?;
        ensure!(
            c.generated.is_none(),
            "accepted an update of generated {t}.{column}"
        );
        match &a.op {
            ColumnOp::Set(v) => self.written(table, column, v)?,
            ColumnOp::ArrayAppend(v) | ColumnOp::ArrayRemove(v) => {
                ensure!(
                    element_fits(c.kind, v),
                    "accepted element {v:?} for {t}.{column} of type {:?}",
                    c.kind
                );
                let element = if c.kind == T::SmallIntArray {
                    T::SmallInt
                } else {
                    T::Text
                };
                ensure!(storable(element, v), "accepted unstorable element {v:?}");
            }
            ColumnOp::ArrayIntersect(keep) => {
                ensure!(
                    c.kind == T::TextArray,
                    "accepted array-intersect on {t}.{column} of type {:?}",
                    c.kind
                );
                ensure!(
                    storable(T::TextArray, &Value::TextArray(keep.clone())),
                    "accepted unstorable {keep:?}"
                );
            }
            ColumnOp::Increment(_) => ensure!(
                matches!(c.kind, T::Int | T::SmallInt),
                "accepted increment of {t}.{column} of type {:?}",
                c.kind
            ),
            ColumnOp::CopyFrom(from) => {
                let source = table
                    .find_column(from)
                    .ok_or_else(|| format!("accepted a copy from undeclared {t}.{from:?}"))?;
                ensure!(
                    source.kind == c.kind,
                    "accepted a copy from {from} ({:?}) into {column} ({:?})",
                    source.kind,
                    c.kind
                );
            }
        }
        Ok(())
    }

    pub(crate) fn accepted(&self, given: &Mutation, out: &Mutation) -> Result<(), String> {
        ensure!(
            given.table() == out.table(),
            "the table changed from {:?} to {:?}",
            given.table(),
            out.table()
        );
        let table = self.table(out.table())?;
        match (given, out) {
            (
                Mutation::Insert {
                    values: given,
                    bump: b0,
                    ..
                },
                Mutation::Insert { values, bump, .. },
            ) => {
                ensure!(b0 == bump, "bump changed");
                self.row(table, given, values, *bump)
            }
            (
                Mutation::Upsert {
                    values: given,
                    keep_on_conflict: keep0,
                    update_when: when0,
                    bump: b0,
                    ..
                },
                Mutation::Upsert {
                    values,
                    conflict,
                    keep_on_conflict,
                    update_when,
                    bump,
                    ..
                },
            ) => {
                ensure!(b0 == bump, "bump changed");
                self.row(table, given, values, *bump)?;
                self.conflict(table, conflict)?;
                for k in keep0 {
                    ensure!(keep_on_conflict.contains(k), "dropped kept column {k:?}");
                }
                for k in keep_on_conflict {
                    ensure!(
                        table.find_column(k).is_some(),
                        "accepted keeping undeclared {k:?}"
                    );
                }
                if *bump && table.find_column(CREATION_DATE).is_some() {
                    ensure!(
                        keep_on_conflict.iter().any(|k| k == CREATION_DATE),
                        "a bumped upsert overwrites creation_date on conflict"
                    );
                }
                ensure!(update_when == when0, "conditional updates changed");
                for rule in update_when {
                    ensure!(
                        values.iter().any(|c| c.column == rule.column),
                        "a conditional update of {:?}, which is not written",
                        rule.column
                    );
                    ensure!(
                        !conflict.contains(&rule.column),
                        "a conditional update of conflict column {:?}",
                        rule.column
                    );
                    for (_, p) in &rule.when {
                        self.predicate(table, p)?;
                    }
                }
                Ok(())
            }
            (
                Mutation::Update {
                    set: given,
                    conditions: c0,
                    bump: b0,
                    ..
                },
                Mutation::Update {
                    set,
                    conditions,
                    bump,
                    ..
                },
            ) => {
                ensure!(b0 == bump, "bump changed");
                ensure!(!set.is_empty(), "accepted an update that sets nothing");
                self.no_repeats(set.iter().map(|a| a.column.as_str()))?;
                for a in set {
                    self.assignment(table, a)?;
                }
                for a in given {
                    if !(*bump && self.stamp(table, &a.column).is_some()) {
                        ensure!(set.contains(a), "dropped or changed the plugin's {a:?}");
                    }
                }
                for column in [CHANGE_DATE, SEQUENCE] {
                    if let (true, Some(stamp)) = (*bump, self.stamp(table, column)) {
                        let want = Assignment {
                            column: column.to_owned(),
                            op: ColumnOp::Set(stamp),
                        };
                        ensure!(set.contains(&want), "not stamped: {want:?}");
                    }
                }
                if !*bump {
                    ensure!(set == given, "an unbumped update's changes were altered");
                }
                self.conditions(table, c0, conditions, true)
            }
            (Mutation::Delete { conditions: c0, .. }, Mutation::Delete { conditions, .. }) => {
                self.conditions(table, c0, conditions, true)
            }
            (
                Mutation::Copy {
                    source_table: s0,
                    columns: given,
                    conditions: c0,
                    bump: b0,
                    ..
                },
                Mutation::Copy {
                    source_table,
                    columns,
                    conditions,
                    conflict,
                    bump,
                    ..
                },
            ) => {
                ensure!(b0 == bump, "bump changed");
                ensure!(s0 == source_table, "the source table changed");
                let source = self.table(source_table)?;
                self.conditions(source, c0, conditions, false)?;
                self.conflict(table, conflict)?;
                self.no_repeats(columns.iter().map(|c| c.column.as_str()))?;
                for copy in columns {
                    match &copy.source {
                        CopySource::Value(v) => self.written(table, &copy.column, v)?,
                        CopySource::Column(from) => {
                            let t = &table.name;
                            let target = table.find_column(&copy.column).ok_or_else(|| {
                                format!("accepted a copy into undeclared {t}.{:?}", copy.column)
                            })?;
                            ensure!(
                                target.generated.is_none(),
                                "accepted a copy into generated {t}.{}",
                                copy.column
                            );
                            let from_column = source.find_column(from).ok_or_else(|| {
                                format!("accepted a copy from undeclared {}.{from:?}", source.name)
                            })?;
                            ensure!(
                                from_column.kind == target.kind,
                                "accepted a copy from {from} ({:?}) into {} ({:?})",
                                from_column.kind,
                                copy.column,
                                target.kind
                            );
                            ensure!(
                                copy.column != TENANT || from == TENANT,
                                "accepted the tenant copied from {from:?}"
                            );
                        }
                    }
                }
                let tenants = columns.iter().filter(|c| c.column == TENANT).count();
                ensure!(tenants == 1, "the copy writes the tenant {tenants} times");
                for copy in given {
                    if !(*bump && self.stamp(table, &copy.column).is_some()) {
                        ensure!(columns.contains(copy), "dropped or changed {copy:?}");
                    }
                }
                for column in [CHANGE_DATE, SEQUENCE] {
                    if let (true, Some(stamp)) = (*bump, self.stamp(table, column)) {
                        let want = CopyColumn {
                            column: column.to_owned(),
                            source: CopySource::Value(stamp),
                        };
                        ensure!(columns.contains(&want), "not stamped: {want:?}");
                    }
                }
                Ok(())
            }
            _ => Err("the kind of mutation changed".to_owned()),
        }
    }
}

/// Whether the plugin's own mutation names a tenant other than the event's
/// in a tenant position (a value, a comparison, a copied constant).
pub(crate) fn names_other_tenant(m: &Mutation, tenant: &Value) -> bool {
    let other = |v: &Value| v != tenant;
    let in_predicate = |p: &Predicate| match p {
        Predicate::Compare { column, value, .. } => column == TENANT && other(value),
        Predicate::OneOf { column, values } => column == TENANT && values.iter().any(other),
        _ => false,
    };
    let in_conditions =
        |cs: &[Condition]| cs.iter().any(|c| c.predicates().iter().any(in_predicate));
    let in_cells = |cs: &[Cell]| cs.iter().any(|c| c.column == TENANT && other(&c.value));
    match m {
        Mutation::Insert { values, .. } => in_cells(values),
        Mutation::Upsert {
            values,
            update_when,
            ..
        } => {
            in_cells(values)
                || update_when
                    .iter()
                    .any(|r| r.when.iter().any(|(_, p)| in_predicate(p)))
        }
        Mutation::Update {
            set, conditions, ..
        } => {
            set.iter()
                .any(|a| a.column == TENANT && matches!(&a.op, ColumnOp::Set(v) if other(v)))
                || in_conditions(conditions)
        }
        Mutation::Delete { conditions, .. } => in_conditions(conditions),
        Mutation::Copy {
            columns,
            conditions,
            ..
        } => {
            columns.iter().any(|c| {
                c.column == TENANT && matches!(&c.source, CopySource::Value(v) if other(v))
            }) || in_conditions(conditions)
        }
    }
}
