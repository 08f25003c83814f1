//! Tests of the conformance module: parsing, value encodings, comparison
//! rules and the native harness.

mod encodings;
mod native;
mod parse;
mod rules;

use super::{Case, Diff, compare, parse_cases};
use projection_sdk::{Cell, Mutation, Value};

/// The one case of a one-line text.
fn one_case(line: &str) -> Case {
    let mut cases = parse_cases(line, "test.jsonl").expect("a valid case line");
    assert_eq!(cases.len(), 1);
    cases.remove(0)
}

/// A case `thing/x` with the README's default event of `aggregate_type` and
/// the given `effects` JSON.
fn case_with(aggregate_type: &str, effects: &str) -> Case {
    one_case(&format!(
        r#"{{"case":"thing/x","zitadel_test":"thing_test.go:T/x","event":{{"instance_id":"instance-id","aggregate_type":"{aggregate_type}","aggregate_id":"agg-id","event_type":"thing.added","sequence":15,"created_at":null,"resource_owner":"ro-id","creator":"editor-user","payload":null}},"effects":{effects},"notes":""}}"#
    ))
}

/// The handler tables the rule tests compare.
fn tables() -> Vec<String> {
    vec![
        "things_projection".to_owned(),
        "things_parts_projection".to_owned(),
    ]
}

/// Compare scoped mutations with a case over [`tables`].
fn check(case: &Case, mutations: Vec<Mutation>) -> Result<(), Diff> {
    compare(case, &Ok(mutations), &tables())
}

fn cell(column: &str, value: impl Into<Value>) -> Cell {
    Cell {
        column: column.to_owned(),
        value: value.into(),
    }
}
