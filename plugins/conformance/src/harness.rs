//! Run cases against a family natively: no WASM, no database.

use std::fmt;

use crate::case::Case;
use crate::compare::compare;
use crate::tables::handler_tables;
use projection_sdk::validate::{Scoped, scope};
use projection_sdk::{Context, EventList, Family};
use projection_sdk::{Description, Mutation, ProjectionError};

/// The result of running cases.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Names of the cases that passed.
    pub passed: Vec<String>,
    /// Names of the cases that failed, each with its diff as text.
    pub failed: Vec<(String, String)>,
}

impl Report {
    /// `N passed, N failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.passed.len(), self.failed.len())
    }

    /// Whether no case failed.
    pub fn all_passed(&self) -> bool {
        self.failed.is_empty()
    }
}

/// Every failure's diff, then the summary.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (_, diff) in &self.failed {
            writeln!(f, "{diff}")?;
        }
        write!(f, "{}", self.summary())
    }
}

/// Run the cases whose family prefix means tables of `F` (see
/// [`handler_tables`]); other cases are skipped and not counted.
///
/// Each case's event goes to `F::handle` with the case's prior events as
/// the look-up; every mutation is then scoped and stamped as the host does
/// ([`scope`]), a refused mutation turning the outcome into an error, and the
/// outcome is compared with the case ([`compare`]).
pub fn run_native<F: Family>(cases: &[Case]) -> Report {
    let descriptions = [F::describe()];
    let mut report = Report::default();
    for case in cases {
        let Some((_, tables)) = handler_tables(case.family_prefix(), &descriptions) else {
            continue;
        };
        let outcome = outcome::<F>(&descriptions[0], case);
        match compare(case, &outcome, &tables) {
            Ok(()) => report.passed.push(case.name.clone()),
            Err(diff) => report.failed.push((case.name.clone(), diff.to_string())),
        }
    }
    report
}

/// What the host would write for the case's event: the handler's mutations,
/// scoped and stamped, or the handler's (or the scope's) error.
fn outcome<F: Family>(
    description: &Description,
    case: &Case,
) -> Result<Vec<Mutation>, ProjectionError> {
    let lookup = EventList(case.prior_events.clone());
    let ctx = Context::new(&lookup);
    F::handle(&case.event, &ctx)?
        .into_iter()
        .map(|m| {
            scope(description, &case.event, m)
                .map(Scoped::into_mutation)
                .map_err(|rejection| {
                    ProjectionError::Failed(format!("mutation refused: {rejection}"))
                })
        })
        .collect()
}
