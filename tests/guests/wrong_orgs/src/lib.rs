//! The orgs family with one deliberate mistake: `org.deactivated` writes
//! state 3 instead of 2. `projector check` must report it.

use orgs::Orgs;
use projection_sdk::{
    ColumnOp, Context, Description, Event, Family, Mutation, ProjectionError, Value,
};

/// Orgs, slightly wrong.
pub struct WrongOrgs;

impl Family for WrongOrgs {
    fn describe() -> Description {
        Orgs::describe()
    }

    fn handle(event: &Event, ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
        let mut mutations = Orgs::handle(event, ctx)?;
        if event.event_type == "org.deactivated" {
            for mutation in &mut mutations {
                if let Mutation::Update { set, .. } = mutation {
                    for assignment in set.iter_mut().filter(|a| a.column == "org_state") {
                        assignment.op = ColumnOp::Set(Value::Int(3));
                    }
                }
            }
        }
        Ok(mutations)
    }
}

projection_sdk::export!(WrongOrgs);
