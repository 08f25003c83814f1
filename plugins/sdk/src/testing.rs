//! Helpers for testing families natively: events with the conformance
//! cases' defaults, and the assertions every family's tests share.
//!
//! The assertions are generic over a [`Family`] and panic with a message
//! that names the family, the event and what went wrong. The events they
//! make are [`event`]s, or [`system_event`]s for a family whose tables are
//! all system-scoped ([`Table::is_system_scoped`](crate::Table::is_system_scoped)):
//! only the system tenant writes those tables.
//!
//! ```
//! # mod greeting {
//! #     use projection_sdk::{ColumnType, Table, TableModule, aggregate_removed, instance_removed};
//! #     pub(crate) const MODULE: TableModule = TableModule::new("greetings_projection", table, &[
//! #         aggregate_removed("greeting", &["greeting.withdrawn"], &["id"]),
//! #         instance_removed(),
//! #     ]);
//! #     fn table() -> Table {
//! #         Table::new("greetings_projection")
//! #             .column("instance_id", ColumnType::Text)
//! #             .column("id", ColumnType::Text)
//! #             .column("change_date", ColumnType::Timestamp)
//! #             .column("sequence", ColumnType::Int)
//! #             .primary_key(&["instance_id", "id"])
//! #     }
//! # }
//! # projection_sdk::family! { Greetings, name: "greetings", version: "0.1.0", tables: [greeting] }
//! use projection_sdk::testing::*;
//!
//! assert_describes::<Greetings>("greetings", "0.1.0", &["greetings_projection"]);
//! assert_subscribes::<Greetings>(&[("greeting", "greeting.withdrawn")], &[]);
//! assert_rejects_unknown::<Greetings>(&[("greeting", "greeting.said")]);
//! assert_instance_removed_clears::<Greetings>();
//! assert_every_subscription_scopes::<Greetings>(&[None, Some("{}")], no_errors);
//! ```

use crate::validate::{SYSTEM_TENANT, TENANT_COLUMN, scope};
use crate::{Context, Description, Event, Family, Mutation, NoEvents, ProjectionError, delete};

/// The creation time of [`event`]s (2026-01-01T00:00:00Z).
pub const CREATED_AT: i64 = 1_767_225_600_000_000;

/// An event with the conformance cases' defaults: tenant `instance-id`,
/// aggregate `agg-id`, sequence 15, owner `ro-id`, creator `editor-user`.
pub fn event(aggregate_type: &str, event_type: &str, payload: Option<&str>) -> Event {
    Event {
        position: "1".to_owned(),
        in_tx_order: 0,
        instance_id: "instance-id".to_owned(),
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: "agg-id".to_owned(),
        event_type: event_type.to_owned(),
        sequence: 15,
        revision: 1,
        created_at: CREATED_AT,
        payload: payload.map(str::to_owned),
        creator: "editor-user".to_owned(),
        owner: "ro-id".to_owned(),
    }
}

/// An [`event`] of the system tenant ([`SYSTEM_TENANT`]), with aggregate id
/// and owner `SYSTEM`, as the system API writes them.
pub fn system_event(aggregate_type: &str, event_type: &str, payload: Option<&str>) -> Event {
    let mut e = event(aggregate_type, event_type, payload);
    e.instance_id = SYSTEM_TENANT.to_owned();
    e.aggregate_id = "SYSTEM".to_owned();
    e.owner = "SYSTEM".to_owned();
    e
}

/// Assert what the host requires of every table: `instance_id` (text) first
/// in the primary key, `change_date` and `sequence` stamps, and a primary key
/// made of declared columns.
pub fn assert_tenant_scoped(description: &crate::Description) {
    use crate::ColumnType;
    for table in &description.tables {
        assert_eq!(
            table.primary_key.first().map(String::as_str),
            Some("instance_id"),
            "{} must lead its primary key with instance_id",
            table.name
        );
        for (column, kind) in [
            ("instance_id", ColumnType::Text),
            ("change_date", ColumnType::Timestamp),
            ("sequence", ColumnType::Int),
        ] {
            let found = table.find_column(column);
            assert_eq!(found.map(|c| c.kind), Some(kind), "{}.{column}", table.name);
        }
        for key in &table.primary_key {
            assert!(table.find_column(key).is_some(), "{}.{key}", table.name);
        }
    }
}

/// Assert that `F` describes itself as `name` at `version`, with exactly
/// `tables` in this order, each of them tenant-scoped
/// ([`assert_tenant_scoped`]).
///
/// Returns the description, for the family's own checks.
pub fn assert_describes<F: Family>(name: &str, version: &str, tables: &[&str]) -> Description {
    let description = F::describe();
    assert_eq!(description.name, name, "the family's name");
    assert_eq!(description.version, version, "{name}'s version");
    let names: Vec<&str> = description.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, tables, "{name}'s tables, in order");
    assert_tenant_scoped(&description);
    description
}

/// Assert that `F` subscribes to every `(aggregate type, event type)` of
/// `wanted` and to none of `unwanted`.
pub fn assert_subscribes<F: Family>(wanted: &[(&str, &str)], unwanted: &[(&str, &str)]) {
    let description = F::describe();
    let family = &description.name;
    for (aggregate_type, event_type) in wanted {
        assert!(
            description.wants(aggregate_type, event_type),
            "{family} should subscribe to {event_type} of {aggregate_type}"
        );
    }
    for (aggregate_type, event_type) in unwanted {
        assert!(
            !description.wants(aggregate_type, event_type),
            "{family} should not subscribe to {event_type} of {aggregate_type}"
        );
    }
}

/// Assert that `F` refuses, with [`ProjectionError::UnhandledEvent`], an
/// empty event (no aggregate type, event type, tenant or aggregate id) and
/// the events of `foreign`'s `(aggregate type, event type)`, each without a
/// payload and with `{}`; and that it subscribes to none of `foreign`.
pub fn assert_rejects_unknown<F: Family>(foreign: &[(&str, &str)]) {
    let family = F::describe().name;
    let mut empty = event("", "", None);
    empty.instance_id.clear();
    empty.aggregate_id.clear();
    let outcome = F::handle(&empty, &Context::new(&NoEvents));
    assert!(
        matches!(outcome, Err(ProjectionError::UnhandledEvent(_))),
        "{family} should refuse the empty event as unhandled, got {outcome:?}"
    );
    assert_subscribes::<F>(&[], foreign);
    for (aggregate_type, event_type) in foreign {
        for payload in [None, Some("{}")] {
            let e = event_for::<F>(aggregate_type, event_type, payload);
            let outcome = F::handle(&e, &Context::new(&NoEvents));
            assert!(
                matches!(outcome, Err(ProjectionError::UnhandledEvent(_))),
                "{family} should refuse {event_type} of {aggregate_type} (payload {payload:?}) \
                 as unhandled, got {outcome:?}"
            );
        }
    }
}

/// Assert that `instance.removed` clears the family's tenant: `F`
/// subscribes to it and handles it as one delete by `instance_id` per
/// table, in table order. System-scoped tables are left out (no tenant's
/// event writes them), and so are sub-tables (tables with a `parent`),
/// whose rows go with their parent's.
///
/// A family that removes an instance otherwise (another order, another
/// condition, a table left alone) asserts its own expectation.
pub fn assert_instance_removed_clears<F: Family>() {
    let description = F::describe();
    let family = &description.name;
    assert!(
        description.wants("instance", "instance.removed"),
        "{family} should subscribe to instance.removed"
    );
    let e = event("instance", "instance.removed", None);
    let expected: Vec<Mutation> = description
        .tables
        .iter()
        .filter(|t| !t.is_system_scoped() && t.parent.is_none())
        .map(|t| delete(&t.name).eq(TENANT_COLUMN, &e.instance_id).build())
        .collect();
    assert_eq!(
        F::handle(&e, &Context::new(&NoEvents)),
        Ok(expected),
        "{family} should handle instance.removed as a delete by {TENANT_COLUMN} per table, \
         sub-tables aside, in table order"
    );
}

/// Handle `event` in `ctx` and run each mutation through the host's checks
/// ([`scope`]), as the host does.
///
/// Panics when the family fails the event or the host refuses a mutation.
/// Returns the mutations as the family wrote them.
pub fn assert_scoped<F: Family>(event: &Event, ctx: &Context<'_>) -> Vec<Mutation> {
    let description = F::describe();
    match F::handle(event, ctx) {
        Ok(mutations) => assert_accepted(&description, event, mutations),
        Err(error) => panic!(
            "{} failed {} (payload {:?}): {error:?}",
            description.name, event.event_type, event.payload
        ),
    }
}

/// Assert that every event type `F` subscribes to, with each of `payloads`,
/// ends in mutations the host accepts, or in an error the caller allows.
///
/// Each event is handled without stored events ([`NoEvents`]); its
/// outcome must be
/// - `Ok(mutations)`, each of which passes the host's checks (as in
///   [`assert_scoped`]); or
/// - `Err(error)` where `allowed(&event, &error)` holds, unless it is
///   [`ProjectionError::UnhandledEvent`]: an event type the family
///   subscribes to is never unhandled.
///
/// Pass [`no_errors`] to allow none. Returns the events that were handled
/// without error, with their mutations, for the family's own checks.
pub fn assert_every_subscription_scopes<F: Family>(
    payloads: &[Option<&str>],
    allowed: impl Fn(&Event, &ProjectionError) -> bool,
) -> Vec<(Event, Vec<Mutation>)> {
    assert!(!payloads.is_empty(), "no payloads to send");
    let description = F::describe();
    let family = &description.name;
    let mut handled = Vec::new();
    let mut sent = 0;
    for sub in &description.subscriptions {
        for event_type in &sub.event_types {
            for payload in payloads {
                let e = event_for::<F>(&sub.aggregate_type, event_type, *payload);
                sent += 1;
                match F::handle(&e, &Context::new(&NoEvents)) {
                    Ok(mutations) => {
                        let mutations = assert_accepted(&description, &e, mutations);
                        handled.push((e, mutations));
                    }
                    Err(error @ ProjectionError::UnhandledEvent(_)) => panic!(
                        "{family} subscribes to {event_type} but left it unhandled \
                         (payload {payload:?}): {error}"
                    ),
                    Err(error) => assert!(
                        allowed(&e, &error),
                        "{family} failed {event_type} (payload {payload:?}): {error:?}"
                    ),
                }
            }
        }
    }
    assert!(sent > 0, "{family} subscribes to no event type");
    handled
}

/// For [`assert_every_subscription_scopes`]: no error is allowed.
pub fn no_errors(_event: &Event, _error: &ProjectionError) -> bool {
    false
}

/// Run each of `event`'s `mutations` through the host's checks; return them.
fn assert_accepted(
    description: &Description,
    event: &Event,
    mutations: Vec<Mutation>,
) -> Vec<Mutation> {
    for mutation in &mutations {
        if let Err(rejection) = scope(description, event, mutation.clone()) {
            panic!(
                "the host refuses {}'s mutation for {} (payload {:?}): {rejection}\n{mutation:?}",
                description.name, event.event_type, event.payload
            );
        }
    }
    mutations
}

/// An event for `F`: a [`system_event`] when all of its tables are
/// system-scoped, an [`event`] otherwise.
fn event_for<F: Family>(aggregate_type: &str, event_type: &str, payload: Option<&str>) -> Event {
    let tables = F::describe().tables;
    if !tables.is_empty() && tables.iter().all(|t| t.is_system_scoped()) {
        system_event(aggregate_type, event_type, payload)
    } else {
        event(aggregate_type, event_type, payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        ColumnType, Table, TableModule, aggregate_removed, insert, instance_removed, on, upsert,
    };

    /// A table keyed by `tenant` (if any) and `key`, with the text
    /// `columns` and the change stamps.
    fn declare(name: &str, tenant: Option<&str>, key: &str, columns: &[&str]) -> Table {
        let keys: Vec<&str> = tenant.into_iter().chain([key]).collect();
        let table = keys
            .iter()
            .chain(columns)
            .fold(Table::new(name), |t, c| t.column(c, ColumnType::Text));
        table
            .column("change_date", ColumnType::Timestamp)
            .column("sequence", ColumnType::Int)
            .primary_key(&keys)
    }

    mod note {
        use super::*;

        pub(super) const MODULE: TableModule = TableModule::new(
            "notes",
            table,
            &[
                on("note", &["note.added"], |e, _| {
                    let text = e.payload()?.text_or_empty("text")?;
                    let row = insert("notes")
                        .value("id", &e.aggregate_id)
                        .value("text", text);
                    Ok(vec![row.build()])
                }),
                on("note", &["note.linked"], |e, _| {
                    Err(ProjectionError::NotFound(format!(
                        "the link of {}",
                        e.aggregate_id
                    )))
                }),
                aggregate_removed("note", &["note.removed"], &["id"]),
                instance_removed(),
            ],
        );

        fn table() -> Table {
            declare("notes", Some("instance_id"), "id", &["text"])
        }
    }

    /// A sub-table: its rows go with their note's.
    mod attachment {
        use super::*;

        pub(super) const MODULE: TableModule = TableModule::new(
            "note_attachments",
            table,
            &[on("note", &["note.attached"], |e, _| {
                let row = insert("note_attachments").value("note_id", &e.aggregate_id);
                Ok(vec![row.build()])
            })],
        );

        fn table() -> Table {
            declare("note_attachments", Some("instance_id"), "note_id", &[]).parent("notes")
        }
    }

    mod tag {
        use super::*;

        pub(super) const MODULE: TableModule = TableModule::new(
            "note_tags",
            table,
            &[
                aggregate_removed("note", &["note.removed"], &["note_id"]),
                instance_removed(),
            ],
        );

        fn table() -> Table {
            declare("note_tags", Some("instance_id"), "note_id", &[])
        }
    }

    /// A system-scoped table: the installation's settings.
    mod setting {
        use super::*;

        pub(super) const MODULE: TableModule = TableModule::new(
            "settings",
            table,
            &[on("setting", &["setting.set"], |e, _| {
                let value = e.payload()?.text_or_empty("value")?;
                let row = upsert("settings", &["key"])
                    .value("key", "k")
                    .value("value", value);
                Ok(vec![row.build()])
            })],
        );

        fn table() -> Table {
            declare("settings", None, "key", &["value"])
        }
    }

    /// The families (`family!` declares them public).
    #[allow(unreachable_pub)]
    mod families {
        use super::{attachment, note, setting, tag};

        crate::family! {
            /// Notes, their attachments and their tags.
            Notes, name: "notes", version: "1.0.0", tables: [note, attachment, tag]
        }

        crate::family! {
            /// The installation's settings.
            Settings, name: "settings", version: "1.0.0", tables: [setting]
        }
    }

    use families::{Notes, Settings};

    /// What a flawed family answers instead of [`Notes`], if anything.
    type Flaw = Option<Result<Vec<Mutation>, ProjectionError>>;

    /// [`Notes`] with one flaw: `$flaw` answers the events it returns
    /// `Some` for, [`Notes`] the others.
    macro_rules! flawed {
        ($family:ident, $flaw:path) => {
            struct $family;

            impl Family for $family {
                fn describe() -> Description {
                    Notes::describe()
                }

                fn handle(
                    event: &Event,
                    ctx: &Context<'_>,
                ) -> Result<Vec<Mutation>, ProjectionError> {
                    $flaw(event).unwrap_or_else(|| Notes::handle(event, ctx))
                }
            }
        };
    }

    fn takes_everything(_: &Event) -> Flaw {
        Some(Ok(Vec::new()))
    }

    fn takes_edits(e: &Event) -> Flaw {
        (e.event_type == "note.edited").then(|| Ok(Vec::new()))
    }

    fn clears_the_notes_only(e: &Event) -> Flaw {
        let notes = delete("notes").eq("instance_id", &e.instance_id).build();
        (e.event_type == "instance.removed").then(|| Ok(vec![notes]))
    }

    fn writes_an_undeclared_column(e: &Event) -> Flaw {
        let note = insert("notes").value("title", "t").build();
        (e.event_type == "note.added").then(|| Ok(vec![note]))
    }

    fn leaves_removals_unhandled(e: &Event) -> Flaw {
        (e.event_type == "note.removed").then(|| Err(e.unhandled()))
    }

    flawed!(Greedy, takes_everything);
    flawed!(Lenient, takes_edits);
    flawed!(Forgetful, clears_the_notes_only);
    flawed!(Sloppy, writes_an_undeclared_column);
    flawed!(Forgetting, leaves_removals_unhandled);

    fn link_not_found(e: &Event, error: &ProjectionError) -> bool {
        e.event_type == "note.linked" && matches!(error, ProjectionError::NotFound(_))
    }

    #[test]
    fn a_system_event_comes_from_the_system_tenant() {
        let e = system_event("setting", "setting.set", None);
        assert_eq!(e.instance_id, SYSTEM_TENANT);
        assert_eq!(
            (e.aggregate_id.as_str(), e.owner.as_str()),
            ("SYSTEM", "SYSTEM")
        );
        assert_eq!(e.event_type, "setting.set");
    }

    #[test]
    fn describes_returns_the_checked_description() {
        let tables = ["notes", "note_attachments", "note_tags"];
        let description = assert_describes::<Notes>("notes", "1.0.0", &tables);
        assert_eq!(description, Notes::describe());
    }

    #[test]
    #[should_panic(expected = "notes's tables, in order")]
    fn describes_tables_in_order() {
        assert_describes::<Notes>(
            "notes",
            "1.0.0",
            &["notes", "note_tags", "note_attachments"],
        );
    }

    #[test]
    #[should_panic(expected = "settings must lead its primary key with instance_id")]
    fn describes_tenant_scoped_tables_only() {
        assert_describes::<Settings>("settings", "1.0.0", &["settings"]);
    }

    #[test]
    fn subscribes_to_the_wanted_and_not_the_unwanted() {
        assert_subscribes::<Notes>(
            &[("note", "note.added"), ("instance", "instance.removed")],
            &[("note", "note.edited"), ("tag", "note.added")],
        );
    }

    #[test]
    #[should_panic(expected = "notes should not subscribe to note.added of note")]
    fn subscribes_to_an_unwanted_event_type() {
        assert_subscribes::<Notes>(&[], &[("note", "note.added")]);
    }

    #[test]
    #[should_panic(expected = "notes should subscribe to note.edited of note")]
    fn subscribes_not_to_a_wanted_event_type() {
        assert_subscribes::<Notes>(&[("note", "note.edited")], &[]);
    }

    #[test]
    fn rejects_unknown_events() {
        assert_rejects_unknown::<Notes>(&[("note", "note.edited"), ("org", "org.removed")]);
        assert_rejects_unknown::<Settings>(&[("setting", "setting.reset")]);
    }

    #[test]
    #[should_panic(expected = "notes should refuse the empty event as unhandled")]
    fn rejects_unknown_but_handles_the_empty_event() {
        assert_rejects_unknown::<Greedy>(&[]);
    }

    #[test]
    #[should_panic(expected = "notes should refuse note.edited of note (payload None)")]
    fn rejects_unknown_but_handles_a_foreign_event() {
        assert_rejects_unknown::<Lenient>(&[("note", "note.edited")]);
    }

    #[test]
    #[should_panic(expected = "notes should not subscribe to note.added of note")]
    fn rejects_unknown_but_given_a_subscribed_event() {
        assert_rejects_unknown::<Notes>(&[("note", "note.added")]);
    }

    #[test]
    fn instance_removed_clears_the_tables_but_the_sub_tables() {
        assert_instance_removed_clears::<Notes>();
        let e = event("instance", "instance.removed", None);
        let tables: Vec<String> = Notes::handle(&e, &Context::new(&NoEvents))
            .expect("handled")
            .iter()
            .map(|m| m.table().to_owned())
            .collect();
        assert_eq!(tables, ["notes", "note_tags"]);
    }

    #[test]
    #[should_panic(expected = "notes should handle instance.removed as a delete by instance_id")]
    fn instance_removed_leaves_a_table() {
        assert_instance_removed_clears::<Forgetful>();
    }

    #[test]
    #[should_panic(expected = "settings should subscribe to instance.removed")]
    fn instance_removed_is_not_subscribed() {
        assert_instance_removed_clears::<Settings>();
    }

    #[test]
    fn scoped_returns_the_mutations_as_written() {
        let e = event("note", "note.added", Some(r#"{"text":"hi"}"#));
        let expected = insert("notes")
            .value("id", "agg-id")
            .value("text", "hi")
            .build();
        assert_eq!(
            assert_scoped::<Notes>(&e, &Context::new(&NoEvents)),
            [expected]
        );
    }

    #[test]
    #[should_panic(expected = "the host refuses settings's mutation for setting.set")]
    fn scoped_refuses_a_tenant_writing_a_system_table() {
        let e = event("setting", "setting.set", None);
        assert_scoped::<Settings>(&e, &Context::new(&NoEvents));
    }

    #[test]
    #[should_panic(expected = "notes failed note.added (payload Some(\"[]\"))")]
    fn scoped_fails_with_the_family() {
        let e = event("note", "note.added", Some("[]"));
        assert_scoped::<Notes>(&e, &Context::new(&NoEvents));
    }

    #[test]
    fn every_subscription_scopes_but_the_allowed_errors() {
        let handled =
            assert_every_subscription_scopes::<Notes>(&[None, Some("{}")], link_not_found);
        let handled: Vec<(&str, Option<&str>, usize)> = handled
            .iter()
            .map(|(e, m)| (e.event_type.as_str(), e.payload.as_deref(), m.len()))
            .collect();
        assert_eq!(
            handled,
            [
                ("note.added", None, 1),
                ("note.added", Some("{}"), 1),
                ("note.removed", None, 2),
                ("note.removed", Some("{}"), 2),
                ("note.attached", None, 1),
                ("note.attached", Some("{}"), 1),
                ("instance.removed", None, 2),
                ("instance.removed", Some("{}"), 2),
            ]
        );
    }

    #[test]
    fn every_subscription_of_a_system_family_comes_from_the_system_tenant() {
        let handled =
            assert_every_subscription_scopes::<Settings>(&[Some(r#"{"value":"v"}"#)], no_errors);
        let expected = upsert("settings", &["key"])
            .value("key", "k")
            .value("value", "v");
        assert_eq!(handled.len(), 1);
        assert_eq!(handled[0].0.instance_id, SYSTEM_TENANT);
        assert_eq!(handled[0].1, [expected.build()]);
    }

    #[test]
    #[should_panic(expected = "notes failed note.linked (payload None): NotFound")]
    fn every_subscription_scopes_without_errors() {
        assert_every_subscription_scopes::<Notes>(&[None], no_errors);
    }

    #[test]
    #[should_panic(
        expected = "the host refuses notes's mutation for note.added (payload None): \
                               table \"notes\" has no column \"title\""
    )]
    fn every_subscription_scopes_but_a_refused_mutation() {
        assert_every_subscription_scopes::<Sloppy>(&[None], link_not_found);
    }

    #[test]
    #[should_panic(expected = "notes subscribes to note.removed but left it unhandled")]
    fn every_subscription_scopes_but_an_unhandled_subscription() {
        assert_every_subscription_scopes::<Forgetting>(&[None], |_, _| true);
    }
}
