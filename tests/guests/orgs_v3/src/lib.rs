//! Version 0.3.0 of the orgs family: `orgs_projection` gains a column,
//! `name_upper` (the name in capitals), written wherever the name is, for
//! blue/green deploy tests.

use orgs::Orgs;
use projection_sdk::{
    Assignment, Cell, ColumnOp, ColumnType, Context, Description, Event, Family, Mutation,
    ProjectionError, Value,
};

/// Orgs, version 0.3.0.
pub struct OrgsV3;

const TABLE: &str = "orgs_projection";

fn upper(value: &Value) -> Value {
    match value {
        Value::Text(name) => Value::Text(name.to_uppercase()),
        other => other.clone(),
    }
}

impl Family for OrgsV3 {
    fn describe() -> Description {
        let mut description = Orgs::describe();
        description.version = "0.3.0".to_owned();
        for table in description.tables.iter_mut().filter(|t| t.name == TABLE) {
            *table = table.clone().nullable("name_upper", ColumnType::Text);
        }
        description
    }

    fn handle(event: &Event, ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
        let mut mutations = Orgs::handle(event, ctx)?;
        for mutation in &mut mutations {
            match mutation {
                Mutation::Insert { table, values, .. } | Mutation::Upsert { table, values, .. }
                    if table == TABLE =>
                {
                    let name = values
                        .iter()
                        .find(|c| c.column == "name")
                        .map(|c| upper(&c.value));
                    if let Some(value) = name {
                        values.push(Cell {
                            column: "name_upper".to_owned(),
                            value,
                        });
                    }
                }
                Mutation::Update { table, set, .. } if table == TABLE => {
                    let name = set.iter().find_map(|a| match (&a.column[..], &a.op) {
                        ("name", ColumnOp::Set(value)) => Some(upper(value)),
                        _ => None,
                    });
                    if let Some(value) = name {
                        set.push(Assignment {
                            column: "name_upper".to_owned(),
                            op: ColumnOp::Set(value),
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(mutations)
    }
}

projection_sdk::export!(OrgsV3);
