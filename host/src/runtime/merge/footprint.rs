//! What a mutation touches, as far as the order of a batch's statements is
//! concerned: the rows of one table it may create, change or remove, by the
//! primary-key values it names.

use projection_sdk::{
    Cell, ColumnOp, CompareOp, Condition, Description, Mutation, Predicate, Table, Value,
};

/// How a mutation affects the rows it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Act {
    /// Inserts or upserts a row (it may come into being).
    Create,
    /// Changes columns other than the primary key of existing rows.
    Change,
    /// Removes rows (and, by cascade, their children).
    Remove,
}

impl Act {
    pub(super) const ALL: [Act; 3] = [Act::Create, Act::Change, Act::Remove];

    pub(super) fn index(self) -> usize {
        match self {
            Act::Create => 0,
            Act::Change => 1,
            Act::Remove => 2,
        }
    }
}

/// The rows a mutation may touch: one value per primary-key column of its
/// table, `None` where the mutation does not pin the column (any value).
#[derive(Debug, Clone)]
pub(super) struct Footprint<'m> {
    /// Index of the table in the family's description.
    pub(super) table: usize,
    pub(super) act: Act,
    pub(super) key: Vec<Option<&'m Value>>,
}

/// The footprint of a mutation on `table` (at `index` in the description),
/// or `None` for a mutation whose reach the primary key cannot bound: a
/// copy (it reads another table's rows) or an update that sets a column of
/// the primary key (the row moves).
pub(super) fn of<'m>(index: usize, table: &Table, mutation: &'m Mutation) -> Option<Footprint<'m>> {
    let (act, key) = match mutation {
        Mutation::Insert { values, .. } | Mutation::Upsert { values, .. } => {
            (Act::Create, by_values(table, values))
        }
        Mutation::Update {
            set, conditions, ..
        } => {
            if set.iter().any(|a| table.primary_key.contains(&a.column)) {
                return None;
            }
            (Act::Change, by_conditions(table, conditions))
        }
        Mutation::Delete { conditions, .. } => (Act::Remove, by_conditions(table, conditions)),
        Mutation::Copy { .. } => return None,
    };
    Some(Footprint {
        table: index,
        act,
        key,
    })
}

/// An update that moves rows (it sets a primary-key column), as two
/// footprints: the rows it changes where they are (`Change` of the keys its
/// conditions pin) and where they go (`Create` of those keys with the
/// columns it sets replaced by their new values; a column set by anything
/// but a value may go anywhere). `None` for any other mutation.
pub(super) fn moved<'m>(
    index: usize,
    table: &Table,
    mutation: &'m Mutation,
) -> Option<[Footprint<'m>; 2]> {
    let Mutation::Update {
        set, conditions, ..
    } = mutation
    else {
        return None;
    };
    if !set.iter().any(|a| table.primary_key.contains(&a.column)) {
        return None;
    }
    let from = by_conditions(table, conditions);
    let to = table
        .primary_key
        .iter()
        .zip(&from)
        .map(
            |(column, was)| match set.iter().find(|a| &a.column == column) {
                Some(assignment) => match &assignment.op {
                    ColumnOp::Set(value) if *value != Value::Null => Some(value),
                    _ => None,
                },
                None => *was,
            },
        )
        .collect();
    Some([
        Footprint {
            table: index,
            act: Act::Change,
            key: from,
        },
        Footprint {
            table: index,
            act: Act::Create,
            key: to,
        },
    ])
}

fn by_values<'m>(table: &Table, values: &'m [Cell]) -> Vec<Option<&'m Value>> {
    table
        .primary_key
        .iter()
        .map(|column| {
            values
                .iter()
                .find(|cell| &cell.column == column)
                .map(|cell| &cell.value)
                .filter(|value| **value != Value::Null)
        })
        .collect()
}

/// The key columns a conjunction of conditions pins by equality. Any other
/// condition only narrows the rows further, so leaving it out can only make
/// the footprint wider.
fn by_conditions<'m>(table: &Table, conditions: &'m [Condition]) -> Vec<Option<&'m Value>> {
    table
        .primary_key
        .iter()
        .map(|column| {
            conditions.iter().find_map(|condition| match condition {
                Condition::All(Predicate::Compare {
                    column: c,
                    op: CompareOp::Eq,
                    value,
                }) if c == column && *value != Value::Null => Some(value),
                _ => None,
            })
        })
        .collect()
}

/// Whether two footprints can touch a common row on their first `n` key
/// columns: no column where both name a value and the values differ.
pub(super) fn overlap(a: &[Option<&Value>], b: &[Option<&Value>], n: usize) -> bool {
    a.iter().zip(b).take(n).all(|pair| match pair {
        (Some(x), Some(y)) => x == y,
        _ => true,
    })
}

/// The tables of a family by index, with what ordering needs of each: its
/// key length, its ancestors and its descendants (deletes cascade down, a
/// child row needs its parent's).
pub(super) struct Tables<'d> {
    pub(super) tables: Vec<&'d Table>,
    /// Per table: its ancestors' indexes.
    pub(super) ancestors: Vec<Vec<usize>>,
    /// Per table: its descendants' indexes.
    pub(super) descendants: Vec<Vec<usize>>,
}

impl<'d> Tables<'d> {
    pub(super) fn new(description: &'d Description) -> Tables<'d> {
        let tables: Vec<&Table> = description.tables.iter().collect();
        let index = |name: &str| tables.iter().position(|t| t.name == name);
        let mut ancestors = vec![Vec::new(); tables.len()];
        for (i, table) in tables.iter().enumerate() {
            let mut current = table.parent.as_deref().and_then(index);
            while let Some(parent) = current {
                if parent == i || ancestors[i].contains(&parent) {
                    break;
                }
                ancestors[i].push(parent);
                current = tables[parent].parent.as_deref().and_then(index);
            }
        }
        let mut descendants = vec![Vec::new(); tables.len()];
        for (i, above) in ancestors.iter().enumerate() {
            for &a in above {
                descendants[a].push(i);
            }
        }
        Tables {
            tables,
            ancestors,
            descendants,
        }
    }

    pub(super) fn index(&self, name: &str) -> Option<usize> {
        self.tables.iter().position(|t| t.name == name)
    }

    pub(super) fn key_len(&self, table: usize) -> usize {
        self.tables[table].primary_key.len()
    }
}
