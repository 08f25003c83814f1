//! Expected `where` and `conditions` against an actual mutation's conditions.

use super::{EffectCheck, TENANT};
use crate::expect::{ConditionOp, Effect, Expected};
use crate::matching::Actual;
use crate::render;
use projection_sdk::{CompareOp, Condition, Predicate, Value};

impl EffectCheck<'_> {
    /// Match the expected `where` and `conditions` one to one with the actual
    /// conditions; the host's tenant scope may be extra.
    pub(super) fn conditions(&mut self, exp: &Effect, actual: &[Condition]) {
        let mut wanted: Vec<(&str, ConditionOp, &Expected, bool)> = exp
            .where_
            .iter()
            .map(|(c, v)| (c.as_str(), ConditionOp::Eq, v, false))
            .chain(
                exp.conditions
                    .iter()
                    .map(|c| (c.column.as_str(), c.op, &c.value, false)),
            )
            .collect();
        for condition in actual {
            let found = wanted.iter_mut().find(|(column, op, value, used)| {
                !*used && self.condition_matches(column, *op, value, condition)
            });
            match found {
                Some(w) => w.3 = true,
                None if self.is_tenant_scope(condition) => {}
                None => self.problems.push(format!(
                    "unexpected condition {}",
                    render::condition(condition)
                )),
            }
        }
        for (column, op, value, _) in wanted.into_iter().filter(|w| !w.3) {
            let on_column: Vec<String> = actual
                .iter()
                .filter(|c| c.predicates().iter().any(|p| p.column() == column))
                .map(render::condition)
                .collect();
            let got = if on_column.is_empty() {
                "no condition on the column".to_owned()
            } else {
                on_column.join(", ")
            };
            self.problems
                .push(format!("condition {column} {op} {value}: got {got}"));
        }
    }

    fn condition_matches(
        &self,
        column: &str,
        op: ConditionOp,
        value: &Expected,
        actual: &Condition,
    ) -> bool {
        let Condition::All(predicate) = actual else {
            return false;
        };
        match (op, predicate) {
            (ConditionOp::IsNull, Predicate::IsNull(c))
            | (ConditionOp::IsNotNull, Predicate::IsNotNull(c)) => c == column,
            (ConditionOp::Eq, Predicate::IsNull(c)) => c == column && *value == Expected::Null,
            (
                _,
                Predicate::Compare {
                    column: c,
                    op: actual_op,
                    value: v,
                },
            ) => {
                c == column
                    && same_op(op, *actual_op)
                    && self.column_matches(c, value, Actual::Value(v))
            }
            _ => false,
        }
    }

    /// The host's `instance_id = <tenant>` scope.
    fn is_tenant_scope(&self, condition: &Condition) -> bool {
        matches!(condition, Condition::All(Predicate::Compare { column, op: CompareOp::Eq, value: Value::Text(t) })
            if column == TENANT && *t == self.event.instance_id)
    }
}

fn same_op(expected: ConditionOp, actual: CompareOp) -> bool {
    matches!(
        (expected, actual),
        (ConditionOp::Eq, CompareOp::Eq)
            | (ConditionOp::NotEq, CompareOp::NotEq)
            | (ConditionOp::Lt, CompareOp::Lt)
            | (ConditionOp::ArrayContains, CompareOp::ArrayContains)
    )
}
