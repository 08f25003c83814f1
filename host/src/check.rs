//! `projector check`: run conformance case files against the installed
//! plugins, through the real WASM path and the host's own validation.

use std::path::PathBuf;

use projection_conformance::{self as conformance, Case, CaseError};
use projection_sdk::{Mutation, ProjectionError, validate};

use crate::plugin::{LookupSource, Plugin, PluginError};

/// One case's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Case name.
    pub case: String,
    /// `None` when it passed; otherwise a readable diff.
    pub failure: Option<String>,
}

/// Totals over all cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckReport {
    /// Every case, in file order.
    pub verdicts: Vec<Verdict>,
}

impl CheckReport {
    /// Cases that passed.
    pub fn n_passed(&self) -> usize {
        self.verdicts.iter().filter(|v| v.failure.is_none()).count()
    }

    /// Cases that failed.
    pub fn n_failed(&self) -> usize {
        self.verdicts.len() - self.n_passed()
    }

    /// `N passed, N failed`.
    pub fn summary(&self) -> String {
        format!("{} passed, {} failed", self.n_passed(), self.n_failed())
    }
}

/// Load case files or directories of them.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Case>, CaseError> {
    let mut cases = Vec::new();
    for path in paths {
        cases.extend(conformance::load_cases(path)?);
    }
    Ok(cases)
}

/// Run every case against the plugin whose tables it names.
pub fn run(plugins: &mut [Plugin], cases: &[Case]) -> Result<CheckReport, PluginError> {
    let descriptions: Vec<_> = plugins.iter().map(|p| p.description.clone()).collect();
    let mut report = CheckReport::default();
    for case in cases {
        let failure = match conformance::handler_tables(case.family_prefix(), &descriptions) {
            None => Some(format!(
                "no installed plugin declares the tables of {:?}",
                case.family_prefix()
            )),
            Some((index, tables)) => {
                let plugin = &mut plugins[index];
                let actual = outcome(plugin, case)?;
                conformance::compare(case, &actual, &tables)
                    .err()
                    .map(|d| d.to_string())
            }
        };
        report.verdicts.push(Verdict {
            case: case.name.clone(),
            failure,
        });
    }
    Ok(report)
}

/// What the host would write for the case's event.
fn outcome(
    plugin: &mut Plugin,
    case: &Case,
) -> Result<Result<Vec<Mutation>, ProjectionError>, PluginError> {
    let lookup = LookupSource::Events(case.prior_events.clone());
    let outcomes = match plugin.handle(std::slice::from_ref(&case.event), lookup) {
        Ok(outcomes) => outcomes,
        Err(e) if e.is_plugin_fault() => return Ok(Err(ProjectionError::Failed(e.to_string()))),
        Err(e) => return Err(e),
    };
    let Some(outcome) = outcomes.into_iter().next() else {
        return Ok(Err(ProjectionError::Failed("no outcome".into())));
    };
    Ok(outcome.and_then(|mutations| {
        mutations
            .into_iter()
            .map(|m| {
                validate::scope(&plugin.description, &case.event, m)
                    .map(validate::Scoped::into_mutation)
                    .map_err(|r| ProjectionError::Failed(format!("mutation refused: {r}")))
            })
            .collect()
    }))
}
