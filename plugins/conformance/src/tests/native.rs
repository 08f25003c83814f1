//! The native harness with a small family.

use crate::{Report, parse_cases, run_native};
use projection_sdk::{ColumnType, Description, EventFilter, Mutation, ProjectionError, Table};
use projection_sdk::{Context, Event, Family, insert, update};

struct Things;

impl Family for Things {
    fn describe() -> Description {
        Description::new("things", "0.1.0")
            .table(
                Table::new("things_projection")
                    .column("instance_id", ColumnType::Text)
                    .column("id", ColumnType::Text)
                    .column("name", ColumnType::Text)
                    .column("creation_date", ColumnType::Timestamp)
                    .column("change_date", ColumnType::Timestamp)
                    .column("sequence", ColumnType::Int)
                    .primary_key(&["instance_id", "id"]),
            )
            .table(
                Table::new("thing_parts")
                    .column("instance_id", ColumnType::Text)
                    .column("thing_id", ColumnType::Text)
                    .column("thing_name", ColumnType::Text)
                    .primary_key(&["instance_id", "thing_id"])
                    .parent("things_projection"),
            )
            .subscribe(
                "thing",
                &["thing.added", "thing.renamed", "thing.part.added"],
            )
    }

    fn handle(event: &Event, ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
        let payload = event.payload()?;
        match event.event_type.as_str() {
            "thing.added" => Ok(vec![
                insert("things_projection")
                    .value("id", &event.aggregate_id)
                    .value("name", payload.text_or_empty("name")?)
                    .build(),
            ]),
            "thing.renamed" => Ok(vec![
                update("things_projection")
                    .set("name", payload.text_or_empty("name")?)
                    .eq("id", &event.aggregate_id)
                    .build(),
            ]),
            "thing.part.added" => {
                let added = ctx.find_events(&EventFilter {
                    aggregate_type: "thing".to_owned(),
                    aggregate_ids: vec![event.aggregate_id.clone()],
                    event_types: vec!["thing.added".to_owned()],
                });
                let first = added
                    .last()
                    .ok_or_else(|| ProjectionError::NotFound(event.aggregate_id.clone()))?;
                Ok(vec![
                    insert("thing_parts")
                        .value("thing_id", &event.aggregate_id)
                        .value("thing_name", first.payload()?.text_or_empty("name")?)
                        .no_bump()
                        .build(),
                ])
            }
            "thing.broken" => Ok(vec![
                insert("things_projection").value("colour", "red").build(),
            ]),
            _ => Err(event.unhandled()),
        }
    }
}

fn line(name: &str, event_type: &str, payload: &str, effects: &str, prior: &str) -> String {
    format!(
        r#"{{"case":"{name}","zitadel_test":"t","event":{{"instance_id":"instance-id","aggregate_type":"thing","aggregate_id":"agg-id","event_type":"{event_type}","sequence":15,"created_at":null,"resource_owner":"ro-id","creator":"editor-user","payload":{payload}}},"effects":{effects},"notes":"","prior_events":[{prior}]}}"#
    )
}

fn run(lines: &[String]) -> Report {
    let cases = parse_cases(&lines.join("\n"), "things.jsonl").expect("valid cases");
    run_native::<Things>(&cases)
}

const ADDED_PRIOR: &str = r#"{"instance_id":"instance-id","aggregate_type":"thing","aggregate_id":"agg-id","event_type":"thing.added","sequence":1,"created_at":"2026-01-01T00:00:00Z","resource_owner":"ro-id","creator":"editor-user","payload":{"name":"old"}}"#;

#[test]
fn runs_the_cases_of_the_family() {
    let report = run(&[
        line(
            "thing/added",
            "thing.added",
            r#"{"name":"n"}"#,
            r#"[{"op":"insert","table":"things_projection","values":{"instance_id":"instance-id","id":"agg-id","name":"n","creation_date":{"any":true},"change_date":{"event_created_at":true},"sequence":15}}]"#,
            "",
        ),
        line(
            "thing/renamed",
            "thing.renamed",
            r#"{"name":"m"}"#,
            r#"[{"op":"update","table":"things_projection","values":{"name":"m","change_date":{"any":true},"sequence":15},"where":{"id":"agg-id","instance_id":"instance-id"}}]"#,
            "",
        ),
        line(
            "thing/part_added",
            "thing.part.added",
            "null",
            r#"[{"op":"insert","table":"thing_parts","values":{"instance_id":"instance-id","thing_id":"agg-id","thing_name":"old"}}]"#,
            ADDED_PRIOR,
        ),
        line(
            "thing/part_added_not_found",
            "thing.part.added",
            "null",
            r#"[{"op":"error"}]"#,
            "",
        ),
        line(
            "thing/wrong_event_type",
            "",
            "null",
            r#"[{"op":"error"}]"#,
            "",
        ),
        line(
            "other/not_ours",
            "thing.added",
            "null",
            r#"[{"op":"noop"}]"#,
            "",
        ),
    ]);
    assert_eq!(report.summary(), "5 passed, 0 failed", "{report}");
    assert!(report.all_passed());
    assert!(!report.passed.iter().any(|n| n == "other/not_ours"));
}

#[test]
fn reports_differences_and_refused_mutations() {
    let report = run(&[
        line(
            "thing/renamed",
            "thing.renamed",
            r#"{"name":"m"}"#,
            r#"[{"op":"update","table":"things_projection","values":{"name":"expected","change_date":{"any":true},"sequence":15},"where":{"id":"agg-id","instance_id":"instance-id"}}]"#,
            "",
        ),
        line(
            "thing/broken",
            "thing.broken",
            "null",
            r#"[{"op":"insert","table":"things_projection","values":{"colour":"red"}}]"#,
            "",
        ),
        line(
            "thing/part_added_not_found",
            "thing.part.added",
            "null",
            r#"[{"op":"error"}]"#,
            "",
        ),
    ]);
    assert_eq!(report.summary(), "1 passed, 2 failed", "{report}");
    let (name, diff) = &report.failed[0];
    assert_eq!(name, "thing/renamed");
    assert!(
        diff.contains("column name: expected \"expected\", got \"m\""),
        "{diff}"
    );
    let (_, refused) = &report.failed[1];
    assert!(refused.contains("mutation refused"), "{refused}");
    assert!(report.to_string().ends_with("1 passed, 2 failed"));
}
