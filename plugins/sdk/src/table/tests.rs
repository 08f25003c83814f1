//! Table modules: derived subscriptions, dispatch and declared removals.

use super::*;
use crate::testing::event;
use crate::{ColumnType, NoEvents, ProjectionError, insert, update};

const TABLE: &str = "things_projection";

fn table() -> Table {
    Table::new(TABLE)
        .column("instance_id", ColumnType::Text)
        .column("id", ColumnType::Text)
        .column("owner", ColumnType::Text)
        .column("maker", ColumnType::Text)
        .column("state", ColumnType::SmallInt)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "id"])
}

fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![insert(TABLE).value("id", &event.aggregate_id).build()])
}

const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("thing", &["thing.added", "thing.created"], added),
        on("thing", &["thing.touched"], |_, _| Ok(Vec::new())),
        aggregate_removed("org", &["org.removed"], &["owner", "maker"]),
        on("thing", &["thing.v1.flagged"], |event, _| {
            Ok(vec![
                update(TABLE)
                    .set("state", 2)
                    .eq("id", &event.aggregate_id)
                    .build(),
            ])
        })
        .or_matching(|t| t.starts_with("thing.") && t.ends_with(".flagged")),
        on("thing", &[], |_, _| Ok(Vec::new())),
        instance_removed(),
        on("thing", &["thing.added"], |_, _| {
            Err(ProjectionError::Failed("unreachable".into()))
        }),
    ],
);

fn reduce(event_type: &str) -> Reduced {
    MODULE.reduce(&event("other", event_type, None), &Context::new(&NoEvents))
}

#[test]
fn subscriptions_follow_the_handlers_in_order() {
    let d = MODULE.subscribe(Description::new("things", "0.1.0"));
    let subs: Vec<(&str, Vec<&str>)> = d
        .subscriptions
        .iter()
        .map(|s| {
            let types = s.event_types.iter().map(String::as_str).collect();
            (s.aggregate_type.as_str(), types)
        })
        .collect();
    assert_eq!(
        subs,
        [
            (
                "thing",
                vec![
                    "thing.added",
                    "thing.created",
                    "thing.touched",
                    "thing.v1.flagged"
                ]
            ),
            ("org", vec!["org.removed"]),
            ("instance", vec!["instance.removed"]),
        ]
    );
}

#[test]
fn dispatch_is_by_event_type_and_the_first_handler_wins() {
    let expected = insert(TABLE).value("id", "agg-id").build();
    assert_eq!(reduce("thing.created"), Ok(Some(vec![expected.clone()])));
    assert_eq!(reduce("thing.added"), Ok(Some(vec![expected])));
    assert_eq!(reduce("thing.touched"), Ok(Some(vec![])));
    assert_eq!(reduce("thing.unknown"), Ok(None));
}

#[test]
fn a_matcher_takes_event_types_it_does_not_subscribe_to() {
    let flagged = update(TABLE).set("state", 2).eq("id", "agg-id").build();
    assert_eq!(reduce("thing.v2.flagged"), Ok(Some(vec![flagged])));
}

#[test]
fn declared_removals_delete_by_aggregate_and_by_tenant() {
    let by = |column: &str| delete(TABLE).eq(column, "agg-id").build();
    assert_eq!(
        reduce("org.removed"),
        Ok(Some(vec![by("owner"), by("maker")]))
    );
    let tenant = delete(TABLE).eq("instance_id", "instance-id").build();
    assert_eq!(reduce("instance.removed"), Ok(Some(vec![tenant])));
}

#[test]
fn a_family_joins_its_tables_and_refuses_what_none_takes() {
    let d = describe_tables("things", "0.1.0", &[MODULE]);
    assert_eq!(d.tables, [table()]);
    assert!(d.wants("org", "org.removed"));
    let ctx = Context::new(&NoEvents);
    let removed = event("instance", "instance.removed", None);
    let both = handle_tables(&[MODULE, MODULE], &removed, &ctx);
    assert_eq!(both.map(|m| m.len()), Ok(2));
    let other = event("thing", "thing.unknown", None);
    assert!(matches!(
        handle_tables(&[MODULE], &other, &ctx),
        Err(ProjectionError::UnhandledEvent(_))
    ));
}
