//! One expected effect against one actual (scoped and stamped) mutation.

use std::collections::BTreeMap;

use crate::expect::{Effect, Expected, Op};
use crate::matching::{Actual, matches};
use crate::render;
use projection_sdk::Event;
use projection_sdk::{Mutation, Value};

mod conditions;

const TENANT: &str = "instance_id";
const CREATION_DATE: &str = "creation_date";

/// Aggregate types whose cases write the aggregate id as the tenant.
const TENANT_ALIAS_AGGREGATES: [&str; 2] = ["instance", "feature"];

/// The kind of an actual mutation, in the case format's words.
pub(crate) fn op_of(mutation: &Mutation) -> Op {
    match mutation {
        Mutation::Insert { .. } => Op::Insert,
        Mutation::Upsert { .. } => Op::Upsert,
        Mutation::Update { .. } => Op::Update,
        Mutation::Delete { .. } => Op::Delete,
        Mutation::Copy { .. } => Op::Copy,
    }
}

/// Compares effects of one case's event.
pub(crate) struct EffectCheck<'a> {
    event: &'a Event,
    stamped_tables: &'a std::collections::BTreeSet<String>,
    table: String,
    problems: Vec<String>,
}

impl<'a> EffectCheck<'a> {
    /// Everything that differs between `expected` and `actual`; empty when
    /// they match.
    pub(crate) fn run(
        event: &'a Event,
        stamped_tables: &'a std::collections::BTreeSet<String>,
        expected: &Effect,
        actual: &Mutation,
    ) -> Vec<String> {
        let mut check = EffectCheck {
            event,
            stamped_tables,
            table: actual.table().to_owned(),
            problems: Vec::new(),
        };
        check.effect(expected, actual);
        check.problems
    }

    fn effect(&mut self, exp: &Effect, actual: &Mutation) {
        if exp.op != op_of(actual) {
            self.problems
                .push(format!("expected {}, got {}", exp.op, op_of(actual)));
            return;
        }
        if exp.table.as_deref() != Some(actual.table()) {
            self.problems.push(format!(
                "expected table {}, got {}",
                exp.table.as_deref().unwrap_or("<none>"),
                actual.table()
            ));
            return;
        }
        match actual {
            Mutation::Insert { values, .. } => {
                self.columns(
                    &exp.values,
                    values.iter().map(|c| (&c.column, Actual::Value(&c.value))),
                );
                self.no_conditions(exp);
            }
            Mutation::Upsert {
                values,
                conflict,
                keep_on_conflict,
                ..
            } => {
                self.columns(
                    &exp.values,
                    values.iter().map(|c| (&c.column, Actual::Value(&c.value))),
                );
                self.no_conditions(exp);
                self.conflict(exp.conflict.as_deref(), conflict);
                self.keep(
                    exp.keep_on_conflict.as_deref().unwrap_or_default(),
                    keep_on_conflict,
                );
            }
            Mutation::Update {
                set, conditions, ..
            } => {
                self.columns(
                    &exp.values,
                    set.iter().map(|a| (&a.column, Actual::Op(&a.op))),
                );
                self.conditions(exp, conditions);
            }
            Mutation::Delete { conditions, .. } => {
                if !exp.values.is_empty() {
                    self.problems
                        .push("expected values, but a delete writes none".to_owned());
                }
                self.conditions(exp, conditions);
            }
            Mutation::Copy {
                table,
                source_table,
                columns,
                conditions,
                conflict,
                ..
            } => {
                if source_table != table {
                    self.problems.push(format!(
                        "expected a copy from {table}, got one from {source_table}"
                    ));
                }
                self.columns(
                    &exp.values,
                    columns
                        .iter()
                        .map(|c| (&c.column, Actual::Source(&c.source))),
                );
                self.conditions(exp, conditions);
                self.conflict(exp.conflict.as_deref(), conflict);
            }
        }
    }

    fn columns<'m>(
        &mut self,
        expected: &BTreeMap<String, Expected>,
        actual: impl Iterator<Item = (&'m String, Actual<'m>)>,
    ) {
        let actual: Vec<(&String, Actual<'_>)> = actual.collect();
        for (column, exp) in expected {
            match actual.iter().find(|(c, _)| *c == column) {
                None => self.problems.push(format!(
                    "column {column}: expected {exp}, but it is not written"
                )),
                Some((_, a)) if !self.column_matches(column, exp, *a) => self.problems.push(
                    format!("column {column}: expected {exp}, got {}", a.render()),
                ),
                Some(_) => {}
            }
        }
        for (column, a) in actual {
            if !expected.contains_key(column) {
                self.extra_column(column, a);
            }
        }
    }

    /// A column the case does not name: only the host's scope and stamps.
    fn extra_column(&mut self, column: &str, actual: Actual<'_>) {
        if matches!(column, "change_date" | "sequence") && self.stamped_tables.contains(&self.table)
        {
            self.problems.push(format!(
                "column {column}: the reference does not bump this row here, got {}",
                actual.render()
            ));
            return;
        }
        let stamp = match column {
            TENANT => Value::Text(self.event.instance_id.clone()),
            "change_date" | CREATION_DATE => Value::Timestamp(self.event.created_at),
            "sequence" => Value::Int(self.event.sequence),
            _ => {
                self.problems.push(format!(
                    "column {column}: not expected, got {}",
                    actual.render()
                ));
                return;
            }
        };
        if actual.plain() != Some(&stamp) {
            self.problems.push(format!(
                "column {column}: not expected (only the host's stamp {} may be added), got {}",
                render::value(&stamp),
                actual.render()
            ));
        }
    }

    fn column_matches(&self, column: &str, exp: &Expected, actual: Actual<'_>) -> bool {
        matches(exp, actual, self.event.created_at)
            || (column == TENANT && self.tenant_alias(exp, actual))
    }

    /// The reference writes the aggregate id as the tenant for instance and
    /// feature events, and a copy may take the tenant as a value instead of
    /// copying it: both mean the event's tenant.
    fn tenant_alias(&self, exp: &Expected, actual: Actual<'_>) -> bool {
        let is_tenant = actual.plain() == Some(&Value::Text(self.event.instance_id.clone()));
        match exp {
            Expected::Text(id) => {
                is_tenant
                    && *id == self.event.aggregate_id
                    && TENANT_ALIAS_AGGREGATES.contains(&self.event.aggregate_type.as_str())
            }
            Expected::CopyFromColumn(from) => {
                is_tenant && from == TENANT && matches!(actual, Actual::Source(_))
            }
            _ => false,
        }
    }

    fn no_conditions(&mut self, exp: &Effect) {
        if !exp.where_.is_empty() || !exp.conditions.is_empty() {
            self.problems
                .push(format!("expected conditions, but an {} has none", exp.op));
        }
    }

    fn conflict(&mut self, expected: Option<&[String]>, actual: &[String]) {
        let Some(expected) = expected else { return };
        if as_set(expected) != as_set(actual) {
            self.problems
                .push(format!("conflict: expected {expected:?}, got {actual:?}"));
        }
    }

    fn keep(&mut self, expected: &[String], actual: &[String]) {
        let missing: Vec<&String> = expected.iter().filter(|c| !actual.contains(c)).collect();
        let extra: Vec<&String> = actual
            .iter()
            .filter(|c| !expected.contains(c) && *c != CREATION_DATE)
            .collect();
        if !missing.is_empty() || !extra.is_empty() {
            self.problems.push(format!(
                "keep_on_conflict: expected {expected:?}, got {actual:?}"
            ));
        }
    }
}

fn as_set(columns: &[String]) -> Vec<&str> {
    let mut set: Vec<&str> = columns.iter().map(String::as_str).collect();
    set.sort_unstable();
    set.dedup();
    set
}
