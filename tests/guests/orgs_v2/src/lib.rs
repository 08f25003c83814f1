//! Version 0.2.0 of the orgs family: same tables, one visible change
//! (`org.added` stores the name in capitals), for hot-swap tests.

use orgs::Orgs;
use projection_sdk::{Context, Description, Event, Family, Mutation, ProjectionError, Value};

/// Orgs, version 0.2.0.
pub struct OrgsV2;

impl Family for OrgsV2 {
    fn describe() -> Description {
        let mut description = Orgs::describe();
        description.version = "0.2.0".to_owned();
        description
    }

    fn handle(event: &Event, ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
        let mut mutations = Orgs::handle(event, ctx)?;
        if event.event_type == "org.added" {
            for mutation in &mut mutations {
                if let Mutation::Insert { values, .. } = mutation {
                    for cell in values.iter_mut().filter(|c| c.column == "name") {
                        if let Value::Text(name) = &cell.value {
                            cell.value = Value::Text(name.to_uppercase());
                        }
                    }
                }
            }
        }
        Ok(mutations)
    }
}

projection_sdk::export!(OrgsV2);
