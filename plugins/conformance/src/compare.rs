//! A case's expected effects against what the host would write.

use std::fmt;

use crate::case::Case;
use crate::effect::EffectCheck;
use crate::expect::{Effect, Op};
use crate::render;
use projection_sdk::{Mutation, ProjectionError};

/// Why an outcome does not conform to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// The case's name.
    pub case: String,
    /// What differs; the first effect that differs names its problems.
    pub problems: Vec<String>,
    /// The expected effects, one text block each.
    pub expected: Vec<String>,
    /// The compared mutations (or the error), one text block each.
    pub actual: Vec<String>,
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "case {}", self.case)?;
        for problem in &self.problems {
            writeln!(f, "  ! {problem}")?;
        }
        write_blocks(f, "expected", &self.expected)?;
        write_blocks(f, "actual", &self.actual)
    }
}

fn write_blocks(f: &mut fmt::Formatter<'_>, label: &str, blocks: &[String]) -> fmt::Result {
    if blocks.is_empty() {
        return writeln!(f, "  {label}: nothing");
    }
    writeln!(f, "  {label}:")?;
    for (idx, block) in blocks.iter().enumerate() {
        for (line_idx, line) in block.lines().enumerate() {
            if line_idx == 0 {
                writeln!(f, "    {}. {line}", idx + 1)?;
            } else {
                writeln!(f, "    {line}")?;
            }
        }
    }
    Ok(())
}

/// Compare `actual`, the mutations of the case's event after the host
/// scoped and stamped them (or the handler's error), with the case's
/// expected effects.
///
/// Only mutations of `tables`, the tables of the handler under test, are
/// compared. Besides the expected columns, a mutation may carry only the
/// host's additions: `instance_id` (the event's tenant) and the
/// `change_date`, `sequence`, `creation_date` stamps from the event; besides
/// the expected conditions only `instance_id = <tenant>`. For instance and
/// feature events an expected `instance_id` equal to the aggregate id also
/// accepts the event's tenant.
pub fn compare(
    case: &Case,
    actual: &Result<Vec<Mutation>, ProjectionError>,
    tables: &[String],
) -> Result<(), Diff> {
    let wants_error = case.effects.iter().any(|e| e.op == Op::Error);
    let expected: Vec<&Effect> = case
        .effects
        .iter()
        .filter(|e| !matches!(e.op, Op::Noop | Op::Error))
        .collect();
    let diff = |problems: Vec<String>, actual: Vec<String>| Diff {
        case: case.name.clone(),
        problems,
        expected: case.effects.iter().map(render::effect).collect(),
        actual,
    };
    let mutations = match actual {
        Err(_) if wants_error => return Ok(()),
        Err(error) => {
            let want = if expected.is_empty() {
                "no mutation".to_owned()
            } else {
                format!("{} mutation(s)", expected.len())
            };
            return Err(diff(
                vec![format!("expected {want}, got an error")],
                vec![format!("error: {error}")],
            ));
        }
        Ok(mutations) => mutations,
    };
    let compared: Vec<&Mutation> = mutations
        .iter()
        .filter(|m| tables.iter().any(|t| t == m.table()))
        .collect();
    let mut shown: Vec<String> = compared.iter().map(|m| render::mutation(m)).collect();
    let skipped = mutations.len() - compared.len();
    if skipped > 0 {
        shown.push(format!(
            "({skipped} mutation(s) of other tables, not compared)"
        ));
    }
    let problems = problems(case, wants_error, &expected, &compared, tables);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(diff(problems, shown))
    }
}

fn problems(
    case: &Case,
    wants_error: bool,
    expected: &[&Effect],
    compared: &[&Mutation],
    tables: &[String],
) -> Vec<String> {
    if wants_error {
        return vec![format!(
            "expected an error, got {} mutation(s)",
            compared.len()
        )];
    }
    let mut problems: Vec<String> = expected
        .iter()
        .filter_map(|e| e.table.as_deref())
        .filter(|t| !tables.iter().any(|own| own == t))
        .map(|t| format!("table {t} is not one of the handler's tables {tables:?}"))
        .collect();
    if compared.len() != expected.len() {
        problems.push(format!(
            "expected {} mutation(s), got {}",
            expected.len(),
            compared.len()
        ));
        return problems;
    }
    for (idx, (exp, act)) in expected.iter().zip(compared).enumerate() {
        let found = EffectCheck::run(&case.event, &case.stamped_tables, exp, act);
        if !found.is_empty() {
            let at = format!(
                "effect {} ({} {})",
                idx + 1,
                exp.op,
                exp.table.as_deref().unwrap_or_default()
            );
            problems.extend(found.into_iter().map(|p| format!("{at}: {p}")));
            break;
        }
    }
    problems
}
