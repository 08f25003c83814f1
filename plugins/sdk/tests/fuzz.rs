//! Fuzz targets for what reaches a plugin's checks from outside: its
//! mutations (checked by `validate::scope`) and conformance case files
//! (`projection_conformance::parse_cases`).
//!
//! Each target is an ordinary test driven by random structured input: bytes
//! from a seeded PRNG read through `arbitrary::Unstructured`. A target runs
//! for `PROJECTOR_FUZZ_SECS` seconds (default 1), from the seed
//! `PROJECTOR_FUZZ_SEED` (default: from the clock), and prints
//! `fuzz <target>: <N> iterations in <S> s` (see it with `--nocapture`). A
//! failure prints the input and the seed that replays it first:
//!
//! ```sh
//! PROJECTOR_FUZZ_SECS=60 cargo test --release -p projection-sdk --test fuzz -- --nocapture --test-threads 1
//! ```

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use fuzzing::{ensure, fuzz, real_lines};
use projection_conformance::parse_cases;
use projection_sdk::validate::scope;

#[path = "fuzz/cases.rs"]
mod cases;
#[path = "fuzz/scope.rs"]
mod scope;

/// Below this many iterations a run is too short to expect every outcome.
const ENOUGH: u64 = 1000;

fn total(tally: &BTreeMap<&'static str, u64>) -> u64 {
    tally.values().sum()
}

/// Every mutation kind, condition and column operation, every value
/// variant, against a family with a parent/child pair, generated, array,
/// nullable and NOT NULL columns, from events of several tenants.
///
/// Never panics. An accepted mutation writes a declared table and declared,
/// non-generated columns, values of their types that both stores hold, no
/// NULL in a NOT NULL column; it keeps what the plugin asked for (a stamp
/// aside), carries the tenant once (rows) or is scoped by
/// `instance_id = <event tenant>` (conditions), compares the tenant only for
/// top-level equality, conflicts on exactly the primary key, is stamped from
/// the event unless it opted out, and never names another tenant. A
/// mutation built to the documented rules is accepted.
#[test]
fn fuzz_validate_scope() {
    let d = scope::family();
    let tally = fuzz(
        "validate_scope",
        |u| scope::scope_input(u, &d),
        |input| {
            let result = scope(&d, &input.event, input.mutation.clone());
            let expect = scope::Expect {
                d: &d,
                event: &input.event,
            };
            match result {
                Ok(out) => {
                    ensure!(
                        !scope::names_other_tenant(&input.mutation, &expect.tenant()),
                        "accepted a mutation naming another tenant: {out:?}"
                    );
                    ensure!(
                        input.event.instance_id != projection_sdk::validate::SYSTEM_TENANT,
                        "accepted the system tenant's write to a tenant's table: {out:?}"
                    );
                    expect
                        .accepted(&input.mutation, &out)
                        .map_err(|e| format!("{e}\naccepted as: {out:#?}"))?;
                    Ok("accepted")
                }
                Err(rejection) => {
                    let shown = rejection.to_string();
                    ensure!(
                        !input.well_formed,
                        "refused a well-formed mutation: {shown}"
                    );
                    ensure!(!shown.is_empty(), "a refusal without a message");
                    Ok("refused")
                }
            }
        },
    );
    if total(&tally) >= ENOUGH {
        assert!(
            tally.contains_key("accepted") && tally.contains_key("refused"),
            "the generator must reach both outcomes: {tally:?}"
        );
    }
}

/// The checks of an accepted mutation catch each kind of escape.
#[test]
fn the_scope_checks_catch_escapes() {
    use projection_sdk::{Condition, Value, delete, insert, update};

    let d = scope::family();
    let event = projection_sdk::Event {
        position: "1".into(),
        in_tx_order: 1,
        instance_id: "tenant-a".into(),
        aggregate_type: "org".into(),
        aggregate_id: "org-1".into(),
        event_type: "org.added".into(),
        sequence: 7,
        revision: 1,
        created_at: 1_000_000,
        payload: None,
        creator: "u".into(),
        owner: "o".into(),
    };
    let expect = scope::Expect {
        d: &d,
        event: &event,
    };
    let removed = delete("orgs_projection").eq("id", "org-1").build();
    let fine = scope(&d, &event, removed.clone()).unwrap();
    assert_eq!(expect.accepted(&removed, &fine), Ok(()));
    let row = insert("orgs_projection")
        .value("id", "org-1")
        .value("name", "ACME")
        .build();
    let fine_row = scope(&d, &event, row.clone()).unwrap();
    assert_eq!(expect.accepted(&row, &fine_row), Ok(()));
    let escapes = [
        // No tenant scope.
        (removed.clone(), removed.clone()),
        // Another tenant's scope.
        (
            removed.clone(),
            delete("orgs_projection")
                .eq("instance_id", "tenant-b")
                .eq("id", "org-1")
                .build(),
        ),
        // The tenant inside a NOT group.
        (
            removed.clone(),
            delete("orgs_projection")
                .eq("instance_id", "tenant-a")
                .condition(Condition::NoneOf(vec![projection_sdk::Predicate::IsNull(
                    "instance_id".into(),
                )]))
                .eq("id", "org-1")
                .build(),
        ),
        // Another tenant's row.
        (
            row.clone(),
            insert("orgs_projection")
                .value("id", "org-1")
                .value("name", "ACME")
                .value("instance_id", "Tenant-A")
                .value("creation_date", Value::Timestamp(1_000_000))
                .value("change_date", Value::Timestamp(1_000_000))
                .value("sequence", 7)
                .build(),
        ),
        // A generated column, and no stamps.
        (
            row.clone(),
            insert("orgs_projection")
                .value("id", "org-1")
                .value("name", "ACME")
                .value("name_lower", "acme")
                .value("instance_id", "tenant-a")
                .build(),
        ),
        // The plugin's value changed.
        (
            row,
            insert("orgs_projection")
                .value("id", "org-1")
                .value("name", "acme")
                .value("instance_id", "tenant-a")
                .value("creation_date", Value::Timestamp(1_000_000))
                .value("change_date", Value::Timestamp(1_000_000))
                .value("sequence", 7)
                .build(),
        ),
        // The tenant column updated.
        (
            update("orgs_projection")
                .set("name", "x")
                .eq("id", "org-1")
                .no_bump()
                .build(),
            update("orgs_projection")
                .set("name", "x")
                .set("instance_id", "tenant-a")
                .eq("instance_id", "tenant-a")
                .eq("id", "org-1")
                .no_bump()
                .build(),
        ),
    ];
    for (given, out) in escapes {
        assert!(
            expect.accepted(&given, &out).is_err(),
            "not caught: {out:?}"
        );
    }
}

/// Arbitrary text and mutated lines of a real case file. Never panics; an
/// error is `CaseError::Invalid` naming the source and the first bad,
/// non-blank line as `FILE:LINE: `; on success there is one case per
/// non-blank line, and each has the name, tenant, event type, payload,
/// effects and prior events the line gave.
#[test]
fn fuzz_case_parser() {
    let real = real_lines(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/conformance/user_grant.jsonl"),
    );
    let parsed = parse_cases(&real.join("\n"), "user_grant.jsonl").unwrap();
    assert_eq!(parsed.len(), real.len());
    let tally = fuzz(
        "case_parser",
        |u| cases::lines_input(u, &real, cases::CASE_FRAGMENTS),
        |text: &String| cases::check_cases(text),
    );
    if total(&tally) >= ENOUGH {
        assert!(
            tally.contains_key("ok") && tally.contains_key("error"),
            "both outcomes must occur: {tally:?}"
        );
    }
}
