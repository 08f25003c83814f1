//! Member tables: who is a member of an instance, an org, a project or a
//! project grant, with which roles.
//!
//! The reference's member tables share their columns (`user_id`,
//! `user_resource_owner`, `roles`, `resource_owner`, the stamps), their
//! indexes and their handlers: a member is added (`userId`, `roles`), its
//! roles change, it is removed or removed in a cascade. They differ only in
//! what the members belong to (the *scope*: an instance, an org, a project,
//! a project's grant), in their event types and in what a removal of
//! another aggregate takes away. A member table states those differences
//! as a [`MemberTable`]; [`table`], [`added`], [`changed`] and [`removed`]
//! make the rest, and the table module adds its fan-out as usual:
//!
//! ```
//! use projection_sdk::member::{self, MemberTable, Scope};
//! use projection_sdk::{TableModule, aggregate_removed, instance_removed};
//!
//! const TABLE: &str = "team_members_projection";
//!
//! /// The members of a team.
//! struct Members;
//!
//! impl MemberTable for Members {
//!     const NAME: &'static str = TABLE;
//!     const AGGREGATE_TYPE: &'static str = "team";
//!     const SCOPE: &'static [Scope] = &[Scope::aggregate_id("team_id")];
//!     const ADDED: &'static [&'static str] = &["team.member.added"];
//!     const CHANGED: &'static [&'static str] = &["team.member.changed"];
//!     const REMOVED: &'static [&'static str] = &["team.member.removed"];
//!     const TENANT_INDEX: &'static str = "tm_instance";
//! }
//!
//! const MODULE: TableModule = TableModule::new(TABLE, member::table::<Members>, &[
//!     member::added::<Members>(),
//!     member::changed::<Members>(),
//!     member::removed::<Members>(),
//!     aggregate_removed("user", &["user.removed"], &["user_id"]),
//!     instance_removed(),
//! ]);
//!
//! let table = MODULE.table();
//! assert_eq!(table.primary_key, ["instance_id", "team_id", "user_id"]);
//! ```
//!
//! `user_resource_owner`, the org of the member's user, is not in the member
//! event: like the reference, the added handler looks up the user's creation
//! event in the event store ([`user_resource_owner`], reference §9.1).

use projection_model::validate::TENANT_COLUMN;
use projection_model::{
    ColumnType, Event, EventFilter, Mutation, Payload, ProjectionError, Table, Value, delete,
    insert, update,
};

use crate::{Context, Handler, on};

/// The user events that create a user; their owner is the user's org. The
/// legacy `user.added` and `user.selfregistered` are not searched, as in the
/// reference.
pub const USER_CREATED: &[&str] = &[
    "user.human.added",
    "user.human.selfregistered",
    "user.machine.added",
];

/// What one member table states: its name, its scope and its event types.
///
/// The table has the shared member columns, then the scope columns, then
/// the [`LOOKED_UP`](MemberTable::LOOKED_UP) columns; its primary key is
/// `instance_id`, the scope columns and `user_id`.
pub trait MemberTable {
    /// The table's name.
    const NAME: &'static str;
    /// The aggregate type of the member events (`instance`, `org`,
    /// `project`).
    const AGGREGATE_TYPE: &'static str;
    /// What the members belong to, in primary-key order.
    const SCOPE: &'static [Scope];
    /// The event types that add a member.
    const ADDED: &'static [&'static str];
    /// The event types that replace a member's roles.
    const CHANGED: &'static [&'static str];
    /// The event types that remove a member (cascades included).
    const REMOVED: &'static [&'static str];
    /// The short name of the index on `instance_id` that includes the
    /// dates, roles, sequence and resource owner (`om_instance`).
    const TENANT_INDEX: &'static str;
    /// Further columns of an added member found in other events (none by
    /// default).
    const LOOKED_UP: &'static [LookedUp] = &[];
}

/// A scope column: part of what the members belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    column: &'static str,
    source: Source,
}

/// Where a scope column's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The event's aggregate id, which is the tenant's own id.
    Tenant,
    /// The event's aggregate id.
    AggregateId,
    /// A text field of the payload ('' when absent).
    Payload(&'static str),
}

impl Scope {
    /// `column` holds the member event's aggregate id, which is the tenant
    /// itself (an instance's members): written on insert, but changes and
    /// removals do not match it, the tenant scope already does.
    pub const fn tenant(column: &'static str) -> Scope {
        Scope {
            column,
            source: Source::Tenant,
        }
    }

    /// `column` holds the member event's aggregate id.
    pub const fn aggregate_id(column: &'static str) -> Scope {
        Scope {
            column,
            source: Source::AggregateId,
        }
    }

    /// `column` holds the payload's text field `key` ('' when absent).
    pub const fn payload(column: &'static str, key: &'static str) -> Scope {
        Scope {
            column,
            source: Source::Payload(key),
        }
    }

    /// The column.
    pub fn column(&self) -> &'static str {
        self.column
    }

    /// The column's value for `event`.
    fn value(&self, event: &Event, payload: &Payload) -> Result<String, ProjectionError> {
        match self.source {
            Source::Tenant | Source::AggregateId => Ok(event.aggregate_id.clone()),
            Source::Payload(key) => payload.text_or_empty(key),
        }
    }

    /// Whether changes and removals match the column.
    fn matched(&self) -> bool {
        self.source != Source::Tenant
    }
}

/// A column of an added member whose value another event holds (a text
/// column, NOT NULL).
#[derive(Debug, Clone, Copy)]
pub struct LookedUp {
    /// The column.
    pub column: &'static str,
    /// Find the value for the member event (with its payload); an error
    /// when nothing is found.
    pub find: fn(&Event, &Payload, &Context<'_>) -> Result<String, ProjectionError>,
}

/// The table declaration: the shared member columns, the scope and looked-up
/// columns, the primary key and the two indexes.
pub fn table<M: MemberTable>() -> Table {
    let shared = Table::new(M::NAME)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("user_id", ColumnType::Text)
        .column("user_resource_owner", ColumnType::Text)
        .nullable("roles", ColumnType::TextArray)
        .column("sequence", ColumnType::Int)
        .column("resource_owner", ColumnType::Text)
        .column(TENANT_COLUMN, ColumnType::Text);
    let columns = M::SCOPE
        .iter()
        .map(Scope::column)
        .chain(M::LOOKED_UP.iter().map(|l| l.column))
        .fold(shared, |t, column| t.column(column, ColumnType::Text));
    let key: Vec<&str> = std::iter::once(TENANT_COLUMN)
        .chain(M::SCOPE.iter().map(Scope::column))
        .chain(["user_id"])
        .collect();
    columns
        .primary_key(&key)
        .index("user_id", &["user_id"], &[])
        .index(
            M::TENANT_INDEX,
            &[TENANT_COLUMN],
            &[
                "creation_date",
                "change_date",
                "roles",
                "sequence",
                "resource_owner",
            ],
        )
}

/// [`ADDED`](MemberTable::ADDED): insert the member with its scope, its
/// user's owner ([`user_resource_owner`]), the looked-up columns, its roles
/// and the event's owner.
pub const fn added<M: MemberTable>() -> Handler {
    on(M::AGGREGATE_TYPE, M::ADDED, reduce_added::<M>)
}

/// [`CHANGED`](MemberTable::CHANGED): replace the member's roles.
pub const fn changed<M: MemberTable>() -> Handler {
    on(M::AGGREGATE_TYPE, M::CHANGED, reduce_changed::<M>)
}

/// [`REMOVED`](MemberTable::REMOVED): delete the member.
pub const fn removed<M: MemberTable>() -> Handler {
    on(M::AGGREGATE_TYPE, M::REMOVED, reduce_removed::<M>)
}

/// The org of user `user_id`: the owner of its latest creation event
/// ([`USER_CREATED`]); [`ProjectionError::NotFound`] when it has none.
pub fn user_resource_owner(ctx: &Context<'_>, user_id: &str) -> Result<String, ProjectionError> {
    let filter = EventFilter {
        aggregate_type: "user".to_owned(),
        aggregate_ids: vec![user_id.to_owned()],
        event_types: USER_CREATED.iter().map(|t| (*t).to_owned()).collect(),
    };
    ctx.find_events(&filter)
        .pop()
        .map(|created| created.owner)
        .ok_or_else(|| ProjectionError::NotFound(format!("creation event of user {user_id:?}")))
}

/// The member's roles: NULL when absent.
fn roles(payload: &Payload) -> Result<Value, ProjectionError> {
    Ok(payload.text_array("roles")?.into())
}

/// The member's user.
fn user_id(payload: &Payload) -> Result<String, ProjectionError> {
    payload.text_or_empty("userId")
}

/// The member's row as `(column, value)` conditions: `user_id`, then the
/// matched scope columns.
fn member_key<M: MemberTable>(
    event: &Event,
    payload: &Payload,
) -> Result<Vec<(&'static str, String)>, ProjectionError> {
    let mut key = vec![("user_id", user_id(payload)?)];
    for scope in M::SCOPE.iter().filter(|s| s.matched()) {
        key.push((scope.column, scope.value(event, payload)?));
    }
    Ok(key)
}

fn reduce_added<M: MemberTable>(
    event: &Event,
    ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let user_id = user_id(&payload)?;
    let owner = user_resource_owner(ctx, &user_id)?;
    let mut row = insert(M::NAME);
    for scope in M::SCOPE {
        row = row.value(scope.column, scope.value(event, &payload)?);
    }
    row = row
        .value("user_id", user_id)
        .value("user_resource_owner", owner);
    for looked_up in M::LOOKED_UP {
        row = row.value(looked_up.column, (looked_up.find)(event, &payload, ctx)?);
    }
    Ok(vec![
        row.value("roles", roles(&payload)?)
            .value("resource_owner", &event.owner)
            .build(),
    ])
}

fn reduce_changed<M: MemberTable>(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let set = update(M::NAME).set("roles", roles(&payload)?);
    let keyed = member_key::<M>(event, &payload)?
        .into_iter()
        .fold(set, |u, (column, value)| u.eq(column, value));
    Ok(vec![keyed.build()])
}

fn reduce_removed<M: MemberTable>(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let keyed = member_key::<M>(event, &payload)?
        .into_iter()
        .fold(delete(M::NAME), |d, (column, value)| d.eq(column, value));
    Ok(vec![keyed.build()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::event;
    use crate::{Description, EventList, NoEvents, Reduced, TableModule};

    /// Members of a team's channel: scoped by the team (aggregate id) and
    /// the channel (payload), with the channel's topic looked up.
    struct ChannelMembers;

    impl MemberTable for ChannelMembers {
        const NAME: &'static str = "channel_members_projection";
        const AGGREGATE_TYPE: &'static str = "team";
        const SCOPE: &'static [Scope] = &[
            Scope::aggregate_id("team_id"),
            Scope::payload("channel_id", "channelId"),
        ];
        const ADDED: &'static [&'static str] = &["team.channel.member.added"];
        const CHANGED: &'static [&'static str] = &["team.channel.member.changed"];
        const REMOVED: &'static [&'static str] = &[
            "team.channel.member.cascade.removed",
            "team.channel.member.removed",
        ];
        const TENANT_INDEX: &'static str = "cm_instance";
        const LOOKED_UP: &'static [LookedUp] = &[LookedUp {
            column: "topic",
            find: topic,
        }];
    }

    /// The channel's topic: its payload's `topic`, NotFound when empty.
    fn topic(
        _event: &Event,
        payload: &Payload,
        _ctx: &Context<'_>,
    ) -> Result<String, ProjectionError> {
        match payload.text_or_empty("topic")? {
            topic if topic.is_empty() => Err(ProjectionError::NotFound("topic".to_owned())),
            topic => Ok(topic),
        }
    }

    /// Members of the tenant itself.
    struct TenantMembers;

    impl MemberTable for TenantMembers {
        const NAME: &'static str = "tenant_members_projection";
        const AGGREGATE_TYPE: &'static str = "instance";
        const SCOPE: &'static [Scope] = &[Scope::tenant("id")];
        const ADDED: &'static [&'static str] = &["instance.member.added"];
        const CHANGED: &'static [&'static str] = &["instance.member.changed"];
        const REMOVED: &'static [&'static str] = &["instance.member.removed"];
        const TENANT_INDEX: &'static str = "tm_instance";
    }

    const CHANNELS: TableModule = TableModule::new(
        ChannelMembers::NAME,
        table::<ChannelMembers>,
        &[
            added::<ChannelMembers>(),
            changed::<ChannelMembers>(),
            removed::<ChannelMembers>(),
        ],
    );

    const TENANT: TableModule = TableModule::new(
        TenantMembers::NAME,
        table::<TenantMembers>,
        &[
            added::<TenantMembers>(),
            changed::<TenantMembers>(),
            removed::<TenantMembers>(),
        ],
    );

    fn user_created(event_type: &str, owner: &str, user_id: &str) -> Event {
        let mut user = event("user", event_type, Some("{}"));
        user.aggregate_id = user_id.to_owned();
        user.owner = owner.to_owned();
        user
    }

    fn store() -> EventList {
        EventList(vec![user_created("user.human.added", "org1", "user-id")])
    }

    fn reduce(module: &TableModule, event_type: &str, payload: &str, store: &EventList) -> Reduced {
        let e = event("team", event_type, Some(payload));
        module.reduce(&e, &Context::new(store))
    }

    #[test]
    fn declares_the_shared_columns_then_scope_and_looked_up_ones() {
        let table = table::<ChannelMembers>();
        let columns: Vec<(&str, ColumnType, bool)> = table
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.kind, c.nullable))
            .collect();
        assert_eq!(
            columns,
            [
                ("creation_date", ColumnType::Timestamp, false),
                ("change_date", ColumnType::Timestamp, false),
                ("user_id", ColumnType::Text, false),
                ("user_resource_owner", ColumnType::Text, false),
                ("roles", ColumnType::TextArray, true),
                ("sequence", ColumnType::Int, false),
                ("resource_owner", ColumnType::Text, false),
                ("instance_id", ColumnType::Text, false),
                ("team_id", ColumnType::Text, false),
                ("channel_id", ColumnType::Text, false),
                ("topic", ColumnType::Text, false),
            ]
        );
        assert_eq!(
            table.primary_key,
            ["instance_id", "team_id", "channel_id", "user_id"]
        );
        let expected = Table::new("x").index("user_id", &["user_id"], &[]).index(
            "cm_instance",
            &["instance_id"],
            &[
                "creation_date",
                "change_date",
                "roles",
                "sequence",
                "resource_owner",
            ],
        );
        assert_eq!(table.indexes, expected.indexes);
        crate::testing::assert_tenant_scoped(&Description::new("t", "0").table(table));
    }

    #[test]
    fn subscribes_the_event_types_under_the_aggregate_type() {
        let described = CHANNELS.subscribe(Description::new("teams", "0.1.0"));
        for event_type in [
            "team.channel.member.added",
            "team.channel.member.changed",
            "team.channel.member.cascade.removed",
            "team.channel.member.removed",
        ] {
            assert!(described.wants("team", event_type), "{event_type}");
        }
        assert_eq!(described.subscriptions.len(), 1);
    }

    #[test]
    fn added_writes_scope_owner_looked_up_columns_and_roles() {
        let payload = r#"{"userId":"user-id","channelId":"c1","topic":"news","roles":["r"]}"#;
        let expected = insert(ChannelMembers::NAME)
            .value("team_id", "agg-id")
            .value("channel_id", "c1")
            .value("user_id", "user-id")
            .value("user_resource_owner", "org1")
            .value("topic", "news")
            .value("roles", vec!["r".to_owned()])
            .value("resource_owner", "ro-id")
            .build();
        assert_eq!(
            reduce(&CHANNELS, "team.channel.member.added", payload, &store()),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn added_without_roles_or_payload_scope_writes_null_and_empty() {
        let e = event(
            "instance",
            "instance.member.added",
            Some(r#"{"userid":"user-id"}"#),
        );
        let expected = insert(TenantMembers::NAME)
            .value("id", "agg-id")
            .value("user_id", "user-id")
            .value("user_resource_owner", "org1")
            .value("roles", Value::Null)
            .value("resource_owner", "ro-id")
            .build();
        assert_eq!(
            TENANT.reduce(&e, &Context::new(&store())),
            Ok(Some(vec![expected]))
        );
        let payload = r#"{"userId":"user-id","topic":"news"}"#;
        let Ok(Some(mutations)) = reduce(&CHANNELS, "team.channel.member.added", payload, &store())
        else {
            panic!("the member is added");
        };
        let expected = insert(ChannelMembers::NAME)
            .value("team_id", "agg-id")
            .value("channel_id", "")
            .value("user_id", "user-id")
            .value("user_resource_owner", "org1")
            .value("topic", "news")
            .value("roles", Value::Null)
            .value("resource_owner", "ro-id")
            .build();
        assert_eq!(mutations, [expected]);
    }

    #[test]
    fn a_missing_user_or_looked_up_value_is_not_found() {
        let without_user = reduce(
            &CHANNELS,
            "team.channel.member.added",
            r#"{"userId":"other","topic":"news"}"#,
            &store(),
        );
        assert!(matches!(without_user, Err(ProjectionError::NotFound(_))));
        let without_topic = reduce(
            &CHANNELS,
            "team.channel.member.added",
            r#"{"userId":"user-id"}"#,
            &store(),
        );
        assert_eq!(
            without_topic,
            Err(ProjectionError::NotFound("topic".to_owned()))
        );
    }

    #[test]
    fn changed_and_removed_match_the_user_and_the_scope() {
        let payload = r#"{"userId":"user-id","channelId":"c1","roles":["a","b"]}"#;
        let changed = update(ChannelMembers::NAME)
            .set("roles", vec!["a".to_owned(), "b".to_owned()])
            .eq("user_id", "user-id")
            .eq("team_id", "agg-id")
            .eq("channel_id", "c1")
            .build();
        let none = EventList::default();
        assert_eq!(
            reduce(&CHANNELS, "team.channel.member.changed", payload, &none),
            Ok(Some(vec![changed]))
        );
        let removed = delete(ChannelMembers::NAME)
            .eq("user_id", "user-id")
            .eq("team_id", "agg-id")
            .eq("channel_id", "c1")
            .build();
        for event_type in [
            "team.channel.member.removed",
            "team.channel.member.cascade.removed",
        ] {
            assert_eq!(
                reduce(&CHANNELS, event_type, payload, &none),
                Ok(Some(vec![removed.clone()]))
            );
        }
    }

    #[test]
    fn a_tenant_scope_is_not_matched_again() {
        let ctx = Context::new(&NoEvents);
        let changed = event(
            "instance",
            "instance.member.changed",
            Some(r#"{"userId":"user-id"}"#),
        );
        let expected = update(TenantMembers::NAME)
            .set("roles", Value::Null)
            .eq("user_id", "user-id")
            .build();
        assert_eq!(TENANT.reduce(&changed, &ctx), Ok(Some(vec![expected])));
        let removed = event(
            "instance",
            "instance.member.removed",
            Some(r#"{"userId":"user-id"}"#),
        );
        let expected = delete(TenantMembers::NAME).eq("user_id", "user-id").build();
        assert_eq!(TENANT.reduce(&removed, &ctx), Ok(Some(vec![expected])));
    }

    #[test]
    fn wrong_payloads_are_errors() {
        let none = EventList::default();
        for payload in [r#"{"userId":3}"#, r#"{"userId":"u","roles":"r"}"#, "[]"] {
            assert!(
                matches!(
                    reduce(&CHANNELS, "team.channel.member.changed", payload, &none),
                    Err(ProjectionError::InvalidPayload(_))
                ),
                "{payload}"
            );
        }
    }

    #[test]
    fn user_resource_owner_is_the_owner_of_the_latest_creation_event() {
        let store = EventList(vec![
            user_created("user.human.added", "org1", "u"),
            user_created("user.human.selfregistered", "org2", "u"),
            user_created("user.username.changed", "org3", "u"),
            user_created("user.machine.added", "org4", "other"),
        ]);
        let ctx = Context::new(&store);
        assert_eq!(user_resource_owner(&ctx, "u"), Ok("org2".to_owned()));
        assert_eq!(user_resource_owner(&ctx, "other"), Ok("org4".to_owned()));
        let mut foreign = user_created("user.human.added", "org5", "p");
        foreign.aggregate_type = "project".to_owned();
        let legacy = EventList(vec![
            user_created("user.added", "org1", "u"),
            user_created("user.selfregistered", "org1", "u"),
            foreign,
        ]);
        for user_id in ["u", "p"] {
            assert!(matches!(
                user_resource_owner(&Context::new(&legacy), user_id),
                Err(ProjectionError::NotFound(_))
            ));
        }
    }
}
