//! The checks the host runs on a declared view before rendering it, and the
//! type of every output column.

use std::collections::HashSet;

use crate::{ColumnType, Description, Table, Value};

use super::{ExprRef, View, ViewExpr};

/// Why a view is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("view {view:?}: {detail}")]
pub struct ViewError {
    /// The view.
    pub view: String,
    /// What is wrong.
    pub detail: String,
}

/// Whether a name is a plain identifier (what the host quotes).
fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn numeric(kind: ColumnType) -> bool {
    matches!(kind, ColumnType::SmallInt | ColumnType::Int)
}

/// The common type of two operands: equal, or both integers.
fn unify(a: Option<ColumnType>, b: Option<ColumnType>) -> Result<Option<ColumnType>, String> {
    match (a, b) {
        (None, x) | (x, None) => Ok(x),
        (Some(a), Some(b)) if a == b => Ok(Some(a)),
        (Some(a), Some(b)) if numeric(a) && numeric(b) => Ok(Some(ColumnType::Int)),
        (Some(a), Some(b)) => Err(format!("mixes {a:?} and {b:?}")),
    }
}

struct Checker<'a> {
    view: &'a View,
    /// Alias to table, in declaration order (base first).
    aliases: Vec<(&'a str, &'a Table)>,
    /// Type of every expression checked so far (`None`: the NULL literal).
    types: Vec<Option<ColumnType>>,
}

impl<'a> Checker<'a> {
    fn fail(&self, detail: impl Into<String>) -> ViewError {
        ViewError {
            view: self.view.name.clone(),
            detail: detail.into(),
        }
    }

    fn operand(&self, at: usize, operand: ExprRef) -> Result<Option<ColumnType>, ViewError> {
        let index = operand.0 as usize;
        if index >= at {
            return Err(self.fail(format!(
                "expression {at} reads expression {index}, which does not come before it"
            )));
        }
        Ok(self.types[index])
    }

    fn expect(
        &self,
        at: usize,
        operand: ExprRef,
        kind: ColumnType,
    ) -> Result<Option<ColumnType>, ViewError> {
        let found = self.operand(at, operand)?;
        match found {
            Some(k) if k != kind => Err(self.fail(format!(
                "expression {at} needs {kind:?}, expression {} is {k:?}",
                operand.0
            ))),
            _ => Ok(Some(kind)),
        }
    }

    fn type_of(&self, at: usize, expr: &ViewExpr) -> Result<Option<ColumnType>, ViewError> {
        Ok(match expr {
            ViewExpr::Column { alias, column } => {
                let (_, table) = self
                    .aliases
                    .iter()
                    .find(|(a, _)| a == alias)
                    .ok_or_else(|| self.fail(format!("unknown alias {alias:?}")))?;
                let column = table.find_column(column).ok_or_else(|| {
                    self.fail(format!("table {:?} has no column {column:?}", table.name))
                })?;
                Some(column.kind)
            }
            ViewExpr::Literal(value) => match value {
                Value::Null => None,
                Value::Text(text) if text.contains('\0') => {
                    return Err(self.fail("a text literal contains a NUL character"));
                }
                Value::Text(_) => Some(ColumnType::Text),
                Value::Int(_) => Some(ColumnType::Int),
                Value::Boolean(_) => Some(ColumnType::Boolean),
                other => {
                    return Err(self.fail(format!(
                        "literals are null, text, int or boolean, not {}",
                        other.kind_name()
                    )));
                }
            },
            ViewExpr::Lower(text) => self.expect(at, *text, ColumnType::Text)?,
            ViewExpr::Concat(parts) => {
                if parts.is_empty() {
                    return Err(self.fail(format!("expression {at} concatenates nothing")));
                }
                for part in parts {
                    self.expect(at, *part, ColumnType::Text)?;
                }
                Some(ColumnType::Text)
            }
            ViewExpr::Coalesce(parts) => {
                if parts.is_empty() {
                    return Err(self.fail(format!("expression {at} coalesces nothing")));
                }
                let mut kind = None;
                for part in parts {
                    kind = unify(kind, self.operand(at, *part)?)
                        .map_err(|e| self.fail(format!("expression {at} {e}")))?;
                }
                kind
            }
            ViewExpr::Equals(left, right) => {
                let kind = unify(self.operand(at, *left)?, self.operand(at, *right)?)
                    .map_err(|e| self.fail(format!("expression {at} {e}")))?;
                if kind.is_some_and(|k| k.is_array() || k == ColumnType::Json) {
                    return Err(self.fail(format!("expression {at} compares {kind:?} values")));
                }
                Some(ColumnType::Boolean)
            }
            ViewExpr::Not(value) => self.expect(at, *value, ColumnType::Boolean)?,
            ViewExpr::All(parts) => {
                if parts.is_empty() {
                    return Err(self.fail(format!("expression {at} has no operands")));
                }
                for part in parts {
                    self.expect(at, *part, ColumnType::Boolean)?;
                }
                Some(ColumnType::Boolean)
            }
            ViewExpr::IsNull(value) => {
                self.operand(at, *value)?;
                Some(ColumnType::Boolean)
            }
            ViewExpr::When {
                condition,
                then,
                otherwise,
            } => {
                self.expect(at, *condition, ColumnType::Boolean)?;
                unify(self.operand(at, *then)?, self.operand(at, *otherwise)?)
                    .map_err(|e| self.fail(format!("expression {at} {e}")))?
            }
        })
    }

    /// The aliases an expression reads, through its operands.
    fn aliases_read(&self, root: ExprRef, into: &mut HashSet<&'a str>) {
        let mut stack = vec![root];
        let mut seen = HashSet::new();
        while let Some(next) = stack.pop() {
            if !seen.insert(next) {
                continue;
            }
            let Some(expr) = self.view.expr(next) else {
                continue;
            };
            match expr {
                ViewExpr::Column { alias, .. } => {
                    into.insert(alias.as_str());
                }
                ViewExpr::Literal(_) => {}
                ViewExpr::Lower(a) | ViewExpr::Not(a) | ViewExpr::IsNull(a) => stack.push(*a),
                ViewExpr::Concat(parts) | ViewExpr::Coalesce(parts) | ViewExpr::All(parts) => {
                    stack.extend(parts)
                }
                ViewExpr::Equals(a, b) => stack.extend([*a, *b]),
                ViewExpr::When {
                    condition,
                    then,
                    otherwise,
                } => stack.extend([*condition, *then, *otherwise]),
            }
        }
    }
}

/// Check `view` against the family's description and return its output
/// columns with their types.
///
/// Refused: names that are not plain identifiers, tables the family does not
/// own, unknown or repeated aliases, unknown columns, expressions that read
/// later ones or mix types, join conditions that are not boolean or read a
/// later join, repeated output names, an output whose type is unknown, and a
/// view without the base table's `instance_id` as its `instance_id` column.
pub fn check_view(
    description: &Description,
    view: &View,
) -> Result<Vec<(String, ColumnType)>, ViewError> {
    let fail = |detail: String| ViewError {
        view: view.name.clone(),
        detail,
    };
    for name in [&view.name, &view.alias]
        .into_iter()
        .chain(view.joins.iter().map(|j| &j.alias))
        .chain(view.columns.iter().map(|c| &c.name))
    {
        if !is_identifier(name) {
            return Err(fail(format!("{name:?} is not a plain identifier")));
        }
    }
    if description.find_table(&view.name).is_some() {
        return Err(fail("a table of the family has the same name".into()));
    }
    let owned = |name: &str| {
        description
            .find_table(name)
            .ok_or_else(|| fail(format!("table {name:?} is not owned by the family")))
    };
    let mut aliases = vec![(view.alias.as_str(), owned(&view.table)?)];
    for join in &view.joins {
        if aliases.iter().any(|(a, _)| *a == join.alias) {
            return Err(fail(format!("alias {:?} is used twice", join.alias)));
        }
        aliases.push((join.alias.as_str(), owned(&join.table)?));
    }
    let mut checker = Checker {
        view,
        aliases,
        types: Vec::with_capacity(view.exprs.len()),
    };
    for (at, expr) in view.exprs.iter().enumerate() {
        let kind = checker.type_of(at, expr)?;
        checker.types.push(kind);
    }
    let type_of = |expr: ExprRef| {
        checker
            .types
            .get(expr.0 as usize)
            .copied()
            .ok_or_else(|| fail(format!("there is no expression {}", expr.0)))
    };
    for (k, join) in view.joins.iter().enumerate() {
        for on in &join.on {
            if type_of(*on)? != Some(ColumnType::Boolean) {
                return Err(fail(format!(
                    "join {:?}: condition {} is not boolean",
                    join.alias, on.0
                )));
            }
            let mut read = HashSet::new();
            checker.aliases_read(*on, &mut read);
            // Aliases visible in this join's condition: the base and joins 0..=k.
            let visible = &checker.aliases[..k + 2];
            if let Some(alias) = read.iter().find(|a| !visible.iter().any(|(v, _)| v == *a)) {
                return Err(fail(format!(
                    "join {:?}: condition {} reads {alias:?}, which is joined later",
                    join.alias, on.0
                )));
            }
        }
    }
    let mut columns = Vec::with_capacity(view.columns.len());
    for column in &view.columns {
        if columns.iter().any(|(n, _)| n == &column.name) {
            return Err(fail(format!("column {:?} is declared twice", column.name)));
        }
        let kind = type_of(column.expr)?.ok_or_else(|| {
            fail(format!(
                "column {:?} has no type (it is always NULL)",
                column.name
            ))
        })?;
        columns.push((column.name.clone(), kind));
    }
    let tenant = view.columns.iter().find(|c| c.name == "instance_id");
    let is_base_tenant = tenant.and_then(|c| view.expr(c.expr)).is_some_and(|e| {
        matches!(e, ViewExpr::Column { alias, column }
            if *alias == view.alias && column == "instance_id")
    });
    if !is_base_tenant {
        return Err(fail(format!(
            "it must output {}.instance_id as instance_id",
            view.alias
        )));
    }
    Ok(columns)
}

/// A view's output as a table shape (all columns nullable, keyed by all of
/// them), for reading it back like a table.
pub fn view_shape(description: &Description, view: &View) -> Result<Table, ViewError> {
    let columns = check_view(description, view)?;
    let mut table = Table::new(&view.name);
    for (name, kind) in &columns {
        table = table.nullable(name, *kind);
    }
    table.primary_key = columns.into_iter().map(|(n, _)| n).collect();
    Ok(table)
}

#[cfg(test)]
mod tests;
