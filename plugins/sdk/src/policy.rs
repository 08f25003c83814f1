//! Policy tables: one row of settings per owner, the instance's default or
//! an org's own.
//!
//! The reference's policy tables (reference §6) share one pattern. A row
//! belongs to an owner: the instance (its default policy, `is_default`
//! true, written from `instance.policy.<stem>.*` events) or an org
//! (`org.policy.<stem>.*`). An added event inserts the row with every
//! payload field (Go's zero value for a field it leaves out); a changed
//! event carries only what changed and updates those columns (one without
//! any setting still bumps `change_date` and `sequence`, as the reference
//! does); an org's
//! policy is removed by `org.policy.<stem>.removed` and by `org.removed`;
//! `instance.removed` takes the tenant's rows. The tables differ in their
//! settings (payload fields and their columns) and in a few shared columns.
//! A policy table states those differences as a [`PolicyTable`]; [`table`]
//! and [`handlers`] ([`added`], [`changed`], [`removed`], [`org_removed`],
//! `instance_removed`) make the rest:
//!
//! ```
//! use projection_sdk::policy::{self, Field, Kind, Literal, PolicyTable, field};
//! use projection_sdk::TableModule;
//!
//! const TABLE: &str = "greeting_policies_projection";
//!
//! /// How an owner greets.
//! struct Greeting;
//!
//! impl PolicyTable for Greeting {
//!     const NAME: &'static str = TABLE;
//!     const EVENTS: policy::Events = projection_sdk::policy_events!("greeting");
//!     const FIELDS: &'static [Field] = &[
//!         field("text", "text", Kind::Text),
//!         field("loud", "loud", Kind::Bool).defaults_to(Literal::Bool(false)),
//!     ];
//! }
//!
//! const MODULE: TableModule =
//!     TableModule::new(TABLE, policy::table::<Greeting>, &policy::handlers::<Greeting>());
//!
//! let described = MODULE.subscribe(projection_sdk::Description::new("greetings", "0.1.0"));
//! assert!(described.wants("org", "org.policy.greeting.removed"));
//! assert!(described.wants("instance", "instance.policy.greeting.changed"));
//! assert_eq!(MODULE.table().primary_key, ["instance_id", "id"]);
//! ```
//!
//! A table's own events (the login policy's factor lists, the label
//! policy's activation and assets) are handled by the module as usual;
//! [`row`] is the update of the event's owner's row, and
//! [`policy_event_types!`](crate::policy_event_types) names an event at
//! both levels.

use projection_model::validate::TENANT_COLUMN;
use projection_model::{
    ColumnType, Event, Mutation, Payload, ProjectionError, Table, UpdateBuilder, Value, delete,
    insert, update,
};

use crate::{Context, Handler, on};

/// `state`: the policy is active.
pub const STATE_ACTIVE: i64 = 1;

/// `state`: the row is the owner's preview, not yet activated.
pub const STATE_PREVIEW: i64 = 3;

/// The event types of one policy ([`policy_events!`](crate::policy_events)
/// makes them from the policy's stem).
#[derive(Debug, Clone, Copy)]
pub struct Events {
    /// `<level>.policy.<stem>.added`.
    pub added: ByLevel,
    /// `<level>.policy.<stem>.changed`.
    pub changed: ByLevel,
    /// `org.policy.<stem>.removed`: only an org's policy is removed.
    pub removed: &'static [&'static str],
}

/// Event types of an org's policy and of the instance's default policy
/// ([`policy_event_types!`](crate::policy_event_types)).
#[derive(Debug, Clone, Copy)]
pub struct ByLevel {
    /// The `org.policy.*` event types (aggregate `org`).
    pub org: &'static [&'static str],
    /// The `instance.policy.*` event types (aggregate `instance`).
    pub instance: &'static [&'static str],
}

impl ByLevel {
    /// The event types of `level`.
    pub const fn at(&self, level: Level) -> &'static [&'static str] {
        match level {
            Level::Org => self.org,
            Level::Instance => self.instance,
        }
    }
}

/// The event types of the policy whose event types read
/// `<level>.policy.<stem>.<added|changed|removed>`, as [`Events`].
///
/// ```
/// let events = projection_sdk::policy_events!("password.age");
/// assert_eq!(events.added.instance, ["instance.policy.password.age.added"]);
/// assert_eq!(events.removed, ["org.policy.password.age.removed"]);
/// ```
#[macro_export]
macro_rules! policy_events {
    ($stem:literal) => {
        $crate::policy::Events {
            added: $crate::policy_event_types!($stem, ["added"]),
            changed: $crate::policy_event_types!($stem, ["changed"]),
            removed: &[concat!("org.policy.", $stem, ".removed")],
        }
    };
}

/// The event types `<level>.policy.<stem>.<suffix>` of both levels, as a
/// [`ByLevel`](crate::policy::ByLevel).
///
/// ```
/// let factors = projection_sdk::policy_event_types!("login", ["secondfactor.added"]);
/// assert_eq!(factors.org, ["org.policy.login.secondfactor.added"]);
/// assert_eq!(factors.instance, ["instance.policy.login.secondfactor.added"]);
/// ```
#[macro_export]
macro_rules! policy_event_types {
    ($stem:literal, [$($suffix:literal),+ $(,)?]) => {
        $crate::policy::ByLevel {
            org: &[$(concat!("org.policy.", $stem, ".", $suffix)),+],
            instance: &[$(concat!("instance.policy.", $stem, ".", $suffix)),+],
        }
    };
}

/// Whose policy an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// An org's own policy (`org.policy.*`, aggregate `org`).
    Org,
    /// The instance's default policy (`instance.policy.*`, aggregate
    /// `instance`): `is_default` true.
    Instance,
}

impl Level {
    /// The aggregate type of the level's events.
    pub const fn aggregate_type(self) -> &'static str {
        match self {
            Level::Org => "org",
            Level::Instance => "instance",
        }
    }
}

/// The `state` column of a policy table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No state column (the login policy).
    Absent,
    /// Added rows are active ([`STATE_ACTIVE`]).
    Active,
    /// Each owner has a preview row and an active row, `state` is part of
    /// the primary key: added and changed events write the preview
    /// ([`STATE_PREVIEW`]), which the table's activation copies to the
    /// active row (the label policy).
    Preview,
}

/// The legacy `owner_removed` column (NOT NULL DEFAULT false, never
/// written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerRemoved {
    /// The column, with an index of its own (`owner_removed`).
    Indexed,
    /// The column, without an index.
    Unindexed,
    /// No such column.
    Absent,
}

/// How a payload field reads and the SQL type of its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An unsigned integer (BIGINT); zero 0.
    Int,
    /// An enum (SMALLINT); zero 0.
    Enum,
    /// A boolean; zero false.
    Bool,
    /// Text; zero the empty string.
    Text,
    /// A `time.Duration` (integer nanoseconds), stored as an interval; zero
    /// 0.
    Duration,
}

impl Kind {
    /// The column type.
    pub const fn column_type(self) -> ColumnType {
        match self {
            Kind::Int => ColumnType::Int,
            Kind::Enum => ColumnType::SmallInt,
            Kind::Bool => ColumnType::Boolean,
            Kind::Text => ColumnType::Text,
            Kind::Duration => ColumnType::Interval,
        }
    }

    /// The value of field `key`, if the payload has it (and it is not null).
    pub fn read(self, payload: &Payload, key: &str) -> Result<Option<Value>, ProjectionError> {
        Ok(match self {
            Kind::Int | Kind::Enum => payload.int(key)?.map(Value::Int),
            Kind::Bool => payload.boolean(key)?.map(Value::Boolean),
            Kind::Text => payload.text(key)?.map(Value::Text),
            Kind::Duration => payload.int(key)?.map(Value::Interval),
        })
    }

    /// What an added event writes for a field it leaves out (Go's zero
    /// value).
    pub fn zero(self) -> Value {
        match self {
            Kind::Int | Kind::Enum => Value::Int(0),
            Kind::Bool => Value::Boolean(false),
            Kind::Text => Value::Text(String::new()),
            Kind::Duration => Value::Interval(0),
        }
    }
}

/// A column default of a policy setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Literal {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// Text.
    Text(&'static str),
}

impl Literal {
    /// The literal as a value.
    fn value(self) -> Value {
        match self {
            Literal::Bool(b) => Value::Boolean(b),
            Literal::Int(i) => Value::Int(i),
            Literal::Text(t) => Value::from(t),
        }
    }
}

/// How a setting's column is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Declared {
    /// NOT NULL.
    Required,
    /// NOT NULL with a default.
    Default(Literal),
    /// NULL allowed.
    Nullable,
}

/// A setting: the payload key of the added and changed events and the
/// column it sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    key: &'static str,
    changed_key: &'static str,
    column: &'static str,
    kind: Kind,
    declared: Declared,
}

/// Payload key `key` sets `column` (NOT NULL), read as `kind`.
pub const fn field(key: &'static str, column: &'static str, kind: Kind) -> Field {
    Field {
        key,
        changed_key: key,
        column,
        kind,
        declared: Declared::Required,
    }
}

impl Field {
    /// The column allows NULL.
    pub const fn nullable(mut self) -> Field {
        self.declared = Declared::Nullable;
        self
    }

    /// The column is NOT NULL with a default.
    pub const fn defaults_to(mut self, default: Literal) -> Field {
        self.declared = Declared::Default(default);
        self
    }

    /// The changed event names the field `key` (the added event another).
    pub const fn changed_as(mut self, key: &'static str) -> Field {
        self.changed_key = key;
        self
    }

    /// Declare the column on `table`.
    fn declare(&self, table: Table) -> Table {
        let kind = self.kind.column_type();
        match self.declared {
            Declared::Required => table.column(self.column, kind),
            Declared::Default(literal) => table.column_default(self.column, kind, literal.value()),
            Declared::Nullable => table.nullable(self.column, kind),
        }
    }
}

/// What one policy table states: its name, its events, its settings and
/// how its shared columns differ from the usual ones.
///
/// The table has the owner's key column ([`KEY`](PolicyTable::KEY)), the
/// dates and sequence, `state`, `is_default`, `resource_owner`,
/// `instance_id`, then the settings ([`FIELDS`](PolicyTable::FIELDS)), the
/// [`OTHER_COLUMNS`](PolicyTable::OTHER_COLUMNS) and `owner_removed`. Its
/// primary key is `instance_id`, the key column and, for a
/// [`State::Preview`] table, `state`.
pub trait PolicyTable {
    /// The table's name.
    const NAME: &'static str;
    /// The event types ([`policy_events!`](crate::policy_events)).
    const EVENTS: Events;
    /// The settings of the added and changed events, in column order.
    const FIELDS: &'static [Field];
    /// Nullable columns no added or changed event sets (the table's own
    /// events write them).
    const OTHER_COLUMNS: &'static [(&'static str, ColumnType)] = &[];
    /// The column holding the owner's id (the event's aggregate id).
    const KEY: &'static str = "id";
    /// The state column.
    const STATE: State = State::Active;
    /// Whether the table has `resource_owner` (the event's owner); without
    /// it, `org.removed` matches the key column.
    const RESOURCE_OWNER: bool = true;
    /// The default of `is_default` (`None`: NOT NULL without a default).
    const IS_DEFAULT_DEFAULT: Option<bool> = Some(false);
    /// The legacy `owner_removed` column.
    const OWNER_REMOVED: OwnerRemoved = OwnerRemoved::Indexed;
}

/// The table declaration: the shared columns, the settings, the other
/// columns, the primary key and the `owner_removed` index.
pub fn table<P: PolicyTable>() -> Table {
    let mut table = Table::new(P::NAME)
        .column(P::KEY, ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int);
    if P::STATE != State::Absent {
        table = table.column("state", ColumnType::SmallInt);
    }
    table = match P::IS_DEFAULT_DEFAULT {
        Some(default) => table.column_default("is_default", ColumnType::Boolean, default),
        None => table.column("is_default", ColumnType::Boolean),
    };
    if P::RESOURCE_OWNER {
        table = table.column("resource_owner", ColumnType::Text);
    }
    table = table.column(TENANT_COLUMN, ColumnType::Text);
    table = P::FIELDS.iter().fold(table, |t, f| f.declare(t));
    table = P::OTHER_COLUMNS
        .iter()
        .fold(table, |t, (column, kind)| t.nullable(column, *kind));
    if P::OWNER_REMOVED != OwnerRemoved::Absent {
        table = table.column_default("owner_removed", ColumnType::Boolean, false);
    }
    let mut key = vec![TENANT_COLUMN, P::KEY];
    if P::STATE == State::Preview {
        key.push("state");
    }
    table = table.primary_key(&key);
    if P::OWNER_REMOVED == OwnerRemoved::Indexed {
        table = table.index("owner_removed", &["owner_removed"], &[]);
    }
    table
}

/// The usual handlers in order: [`added`] and [`changed`] at both levels,
/// [`removed`], [`org_removed`] and [`instance_removed`](crate::instance_removed).
/// A table with events of its own lists these and its own.
pub const fn handlers<P: PolicyTable>() -> [Handler; 7] {
    [
        added::<P>(Level::Org),
        added::<P>(Level::Instance),
        changed::<P>(Level::Org),
        changed::<P>(Level::Instance),
        removed::<P>(),
        org_removed::<P>(),
        crate::instance_removed(),
    ]
}

/// `<level>.policy.<stem>.added`: insert the owner's row (the preview row
/// of a [`State::Preview`] table) with every setting.
pub const fn added<P: PolicyTable>(level: Level) -> Handler {
    let reduce = match level {
        Level::Org => reduce_added::<P, false>,
        Level::Instance => reduce_added::<P, true>,
    };
    on(level.aggregate_type(), P::EVENTS.added.at(level), reduce)
}

/// `<level>.policy.<stem>.changed`: update the settings the event has, and
/// the row's change stamps even when it has none.
pub const fn changed<P: PolicyTable>(level: Level) -> Handler {
    on(
        level.aggregate_type(),
        P::EVENTS.changed.at(level),
        reduce_changed::<P>,
    )
}

/// `org.policy.<stem>.removed`: delete the org's rows.
pub const fn removed<P: PolicyTable>() -> Handler {
    on("org", P::EVENTS.removed, reduce_removed::<P>)
}

/// `org.removed`: delete the rows the org owns (`resource_owner`, or the
/// key column of a table without it).
pub const fn org_removed<P: PolicyTable>() -> Handler {
    on("org", &["org.removed"], reduce_org_removed::<P>)
}

/// An update of the event's owner's row: the preview row of a
/// [`State::Preview`] table.
pub fn row<P: PolicyTable>(event: &Event) -> UpdateBuilder {
    let row = update(P::NAME).eq(P::KEY, &event.aggregate_id);
    match P::STATE {
        State::Preview => row.eq("state", STATE_PREVIEW),
        State::Absent | State::Active => row,
    }
}

/// The settings a changed payload has, as `(column, value)` in
/// [`FIELDS`](PolicyTable::FIELDS) order.
fn changes<P: PolicyTable>(
    payload: &Payload,
) -> Result<Vec<(&'static str, Value)>, ProjectionError> {
    let mut changes = Vec::new();
    for field in P::FIELDS {
        if let Some(value) = field.kind.read(payload, field.changed_key)? {
            changes.push((field.column, value));
        }
    }
    Ok(changes)
}

/// Insert the owner's row: the key, the state, `is_default`, the owner and
/// every setting.
fn reduce_added<P: PolicyTable, const IS_DEFAULT: bool>(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let mut row = insert(P::NAME).value(P::KEY, &event.aggregate_id);
    match P::STATE {
        State::Absent => {}
        State::Active => row = row.value("state", STATE_ACTIVE),
        State::Preview => row = row.value("state", STATE_PREVIEW),
    }
    row = row.value("is_default", IS_DEFAULT);
    if P::RESOURCE_OWNER {
        row = row.value("resource_owner", &event.owner);
    }
    for field in P::FIELDS {
        let value = field.kind.read(&payload, field.key)?;
        row = row.value(field.column, value.unwrap_or_else(|| field.kind.zero()));
    }
    Ok(vec![row.build()])
}

/// Update the owner's row with the settings present; with none, only its
/// change stamps.
fn reduce_changed<P: PolicyTable>(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    // The reference bumps the row even when the event changes no setting.
    let stamped = row::<P>(event)
        .set("change_date", event.created_at_value())
        .set("sequence", event.sequence);
    let set = changes::<P>(&event.payload()?)?
        .into_iter()
        .fold(stamped, |u, (column, value)| u.set(column, value));
    Ok(vec![set.build()])
}

/// Delete the owner's rows.
fn reduce_removed<P: PolicyTable>(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        delete(P::NAME).eq(P::KEY, &event.aggregate_id).build(),
    ])
}

/// Delete the rows the removed org owns.
fn reduce_org_removed<P: PolicyTable>(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    let owner = if P::RESOURCE_OWNER {
        "resource_owner"
    } else {
        P::KEY
    };
    Ok(vec![delete(P::NAME).eq(owner, &event.aggregate_id).build()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::event;
    use crate::validate::scope;
    use crate::{Description, NoEvents, Reduced, TableModule};

    /// A usual policy: one setting of every kind.
    struct Greeting;

    impl PolicyTable for Greeting {
        const NAME: &'static str = "greeting_policies_projection";
        const EVENTS: Events = crate::policy_events!("greeting");
        const FIELDS: &'static [Field] = &[
            field("text", "text", Kind::Text),
            field("repeat", "repeat", Kind::Int).defaults_to(Literal::Int(0)),
            field("loud", "loud", Kind::Bool).defaults_to(Literal::Bool(false)),
            field("tone", "tone", Kind::Enum),
            field("pause", "pause", Kind::Duration),
            field("footer", "footer", Kind::Text).defaults_to(Literal::Text("bye")),
        ];
    }

    /// A policy keyed by `aggregate_id`, without state, owner, defaults
    /// or `owner_removed`, with a column of its own.
    struct Gate;

    impl PolicyTable for Gate {
        const NAME: &'static str = "gate_policies_projection";
        const EVENTS: Events = crate::policy_events!("gate");
        const FIELDS: &'static [Field] = &[field("open", "open", Kind::Bool)];
        const OTHER_COLUMNS: &'static [(&'static str, ColumnType)] =
            &[("keys", ColumnType::SmallIntArray)];
        const KEY: &'static str = "aggregate_id";
        const STATE: State = State::Absent;
        const RESOURCE_OWNER: bool = false;
        const IS_DEFAULT_DEFAULT: Option<bool> = None;
        const OWNER_REMOVED: OwnerRemoved = OwnerRemoved::Absent;
    }

    /// A policy with a preview row, whose changed event names a setting
    /// differently.
    struct Banner;

    impl PolicyTable for Banner {
        const NAME: &'static str = "banner_policies_projection";
        const EVENTS: Events = crate::policy_events!("banner");
        const FIELDS: &'static [Field] = &[
            field("color", "color", Kind::Text).nullable(),
            field("hideMsg", "hidden", Kind::Bool).changed_as("hideBanner"),
        ];
        const STATE: State = State::Preview;
        const OWNER_REMOVED: OwnerRemoved = OwnerRemoved::Unindexed;
    }

    const GREETING: TableModule =
        TableModule::new(Greeting::NAME, table::<Greeting>, &handlers::<Greeting>());
    const GATE: TableModule = TableModule::new(Gate::NAME, table::<Gate>, &handlers::<Gate>());
    const BANNER: TableModule =
        TableModule::new(Banner::NAME, table::<Banner>, &handlers::<Banner>());

    fn reduce(module: &TableModule, event_type: &str, payload: Option<&str>) -> Reduced {
        let aggregate_type = event_type.split('.').next().unwrap_or_default();
        let e = event(aggregate_type, event_type, payload);
        module.reduce(&e, &Context::new(&NoEvents))
    }

    /// Name, type, nullability and default of every column.
    fn columns(table: &Table) -> Vec<(&str, ColumnType, bool, Option<Value>)> {
        table
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.kind, c.nullable, c.default.clone()))
            .collect()
    }

    #[test]
    fn declares_the_shared_columns_then_the_settings() {
        let table = table::<Greeting>();
        let no = Value::Boolean(false);
        assert_eq!(
            columns(&table),
            [
                ("id", ColumnType::Text, false, None),
                ("creation_date", ColumnType::Timestamp, false, None),
                ("change_date", ColumnType::Timestamp, false, None),
                ("sequence", ColumnType::Int, false, None),
                ("state", ColumnType::SmallInt, false, None),
                ("is_default", ColumnType::Boolean, false, Some(no.clone())),
                ("resource_owner", ColumnType::Text, false, None),
                ("instance_id", ColumnType::Text, false, None),
                ("text", ColumnType::Text, false, None),
                ("repeat", ColumnType::Int, false, Some(Value::Int(0))),
                ("loud", ColumnType::Boolean, false, Some(no.clone())),
                ("tone", ColumnType::SmallInt, false, None),
                ("pause", ColumnType::Interval, false, None),
                ("footer", ColumnType::Text, false, Some(Value::from("bye"))),
                ("owner_removed", ColumnType::Boolean, false, Some(no)),
            ]
        );
        assert_eq!(table.primary_key, ["instance_id", "id"]);
        let index = Table::new("x").index("owner_removed", &["owner_removed"], &[]);
        assert_eq!(table.indexes, index.indexes);
        crate::testing::assert_tenant_scoped(&Description::new("t", "0").table(table));
    }

    #[test]
    fn declares_what_a_table_states_otherwise() {
        let gate = table::<Gate>();
        assert_eq!(
            columns(&gate),
            [
                ("aggregate_id", ColumnType::Text, false, None),
                ("creation_date", ColumnType::Timestamp, false, None),
                ("change_date", ColumnType::Timestamp, false, None),
                ("sequence", ColumnType::Int, false, None),
                ("is_default", ColumnType::Boolean, false, None),
                ("instance_id", ColumnType::Text, false, None),
                ("open", ColumnType::Boolean, false, None),
                ("keys", ColumnType::SmallIntArray, true, None),
            ]
        );
        assert_eq!(gate.primary_key, ["instance_id", "aggregate_id"]);
        assert!(gate.indexes.is_empty());
        let banner = table::<Banner>();
        assert_eq!(banner.primary_key, ["instance_id", "id", "state"]);
        assert!(banner.find_column("owner_removed").is_some());
        assert!(banner.indexes.is_empty());
        let color = banner.find_column("color").map(|c| c.nullable);
        assert_eq!(color, Some(true));
    }

    #[test]
    fn names_the_event_types_of_both_levels() {
        let events = crate::policy_events!("password.age");
        assert_eq!(events.added.org, ["org.policy.password.age.added"]);
        assert_eq!(
            events.added.instance,
            ["instance.policy.password.age.added"]
        );
        assert_eq!(
            events.changed.at(Level::Org),
            ["org.policy.password.age.changed"]
        );
        assert_eq!(events.removed, ["org.policy.password.age.removed"]);
        let both = crate::policy_event_types!("label", ["logo.added", "font.removed"]);
        assert_eq!(
            both.at(Level::Instance),
            [
                "instance.policy.label.logo.added",
                "instance.policy.label.font.removed"
            ]
        );
    }

    #[test]
    fn subscribes_each_level_under_its_aggregate_type() {
        let described = GREETING.subscribe(Description::new("greetings", "0.1.0"));
        for (aggregate_type, event_type) in [
            ("org", "org.policy.greeting.added"),
            ("org", "org.policy.greeting.changed"),
            ("org", "org.policy.greeting.removed"),
            ("org", "org.removed"),
            ("instance", "instance.policy.greeting.added"),
            ("instance", "instance.policy.greeting.changed"),
            ("instance", "instance.removed"),
        ] {
            assert!(described.wants(aggregate_type, event_type), "{event_type}");
        }
        assert!(!described.wants("instance", "instance.policy.greeting.removed"));
        assert!(!described.wants("org", "instance.policy.greeting.added"));
    }

    #[test]
    fn added_writes_every_setting_with_zero_values_for_absent_ones() {
        let payload = r#"{"TEXT":"hi","repeat":2,"loud":true,"tone":1,"pause":1500}"#;
        let expected = insert(Greeting::NAME)
            .value("id", "agg-id")
            .value("state", 1)
            .value("is_default", false)
            .value("resource_owner", "ro-id")
            .value("text", "hi")
            .value("repeat", 2)
            .value("loud", true)
            .value("tone", 1)
            .value("pause", Value::Interval(1500))
            .value("footer", "")
            .build();
        assert_eq!(
            reduce(&GREETING, "org.policy.greeting.added", Some(payload)),
            Ok(Some(vec![expected]))
        );
        let expected = insert(Greeting::NAME)
            .value("id", "agg-id")
            .value("state", 1)
            .value("is_default", true)
            .value("resource_owner", "ro-id")
            .value("text", "")
            .value("repeat", 0)
            .value("loud", false)
            .value("tone", 0)
            .value("pause", Value::Interval(0))
            .value("footer", "")
            .build();
        for payload in [None, Some("{}"), Some(r#"{"text":null}"#)] {
            assert_eq!(
                reduce(&GREETING, "instance.policy.greeting.added", payload),
                Ok(Some(vec![expected.clone()]))
            );
        }
    }

    #[test]
    fn added_leaves_out_the_columns_a_table_has_not() {
        let expected = insert(Gate::NAME)
            .value("aggregate_id", "agg-id")
            .value("is_default", false)
            .value("open", true)
            .build();
        assert_eq!(
            reduce(&GATE, "org.policy.gate.added", Some(r#"{"open":true}"#)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn changed_sets_only_the_settings_present() {
        let stamped = || {
            let e = event("org", "org.policy.greeting.changed", None);
            update(Greeting::NAME)
                .eq("id", "agg-id")
                .set("change_date", e.created_at_value())
                .set("sequence", e.sequence)
        };
        let expected = stamped()
            .set("text", "")
            .set("pause", Value::Interval(7))
            .build();
        let payload = r#"{"text":"","pause":7,"loud":null}"#;
        for event_type in [
            "org.policy.greeting.changed",
            "instance.policy.greeting.changed",
        ] {
            assert_eq!(
                reduce(&GREETING, event_type, Some(payload)),
                Ok(Some(vec![expected.clone()]))
            );
        }
        // Without a setting the row is still bumped, as the reference does.
        for payload in [None, Some("{}"), Some(r#"{"loud":null,"other":1}"#)] {
            assert_eq!(
                reduce(&GREETING, "org.policy.greeting.changed", payload),
                Ok(Some(vec![stamped().build()]))
            );
        }
    }

    #[test]
    fn a_preview_table_writes_and_changes_the_preview_row() {
        let added = insert(Banner::NAME)
            .value("id", "agg-id")
            .value("state", 3)
            .value("is_default", false)
            .value("resource_owner", "ro-id")
            .value("color", "red")
            .value("hidden", true)
            .build();
        let payload = r#"{"color":"red","hideMsg":true,"hideBanner":false}"#;
        assert_eq!(
            reduce(&BANNER, "org.policy.banner.added", Some(payload)),
            Ok(Some(vec![added]))
        );
        let stamp = event("org", "org.policy.banner.changed", None);
        let changed = update(Banner::NAME)
            .eq("id", "agg-id")
            .eq("state", 3)
            .set("change_date", stamp.created_at_value())
            .set("sequence", stamp.sequence)
            .set("color", "red")
            .set("hidden", false)
            .build();
        assert_eq!(
            reduce(&BANNER, "org.policy.banner.changed", Some(payload)),
            Ok(Some(vec![changed]))
        );
        let removed = delete(Banner::NAME).eq("id", "agg-id").build();
        assert_eq!(
            reduce(&BANNER, "org.policy.banner.removed", None),
            Ok(Some(vec![removed]))
        );
    }

    #[test]
    fn removals_match_the_owner() {
        let removed = delete(Greeting::NAME).eq("id", "agg-id").build();
        assert_eq!(
            reduce(&GREETING, "org.policy.greeting.removed", None),
            Ok(Some(vec![removed]))
        );
        let by_owner = delete(Greeting::NAME)
            .eq("resource_owner", "agg-id")
            .build();
        assert_eq!(
            reduce(&GREETING, "org.removed", None),
            Ok(Some(vec![by_owner]))
        );
        let by_key = delete(Gate::NAME).eq("aggregate_id", "agg-id").build();
        assert_eq!(reduce(&GATE, "org.removed", None), Ok(Some(vec![by_key])));
        let tenant = delete(Gate::NAME).eq("instance_id", "instance-id").build();
        assert_eq!(
            reduce(&GATE, "instance.removed", None),
            Ok(Some(vec![tenant]))
        );
    }

    #[test]
    fn wrong_payloads_are_errors() {
        for (event_type, payload) in [
            ("org.policy.greeting.added", r#"{"repeat":"2"}"#),
            ("org.policy.greeting.added", r#"{"pause":1.5}"#),
            ("instance.policy.greeting.changed", r#"{"loud":"yes"}"#),
            ("org.policy.greeting.changed", r#"{"tone":true}"#),
            ("org.policy.greeting.changed", "[]"),
        ] {
            assert!(
                matches!(
                    reduce(&GREETING, event_type, Some(payload)),
                    Err(ProjectionError::InvalidPayload(_))
                ),
                "{event_type} {payload}"
            );
        }
    }

    #[test]
    fn every_mutation_passes_the_hosts_checks() {
        let description = [GREETING, GATE, BANNER]
            .iter()
            .fold(Description::new("t", "0"), |d, m| d.table(m.table()));
        let payload = r#"{"text":"t","repeat":1,"loud":true,"tone":2,"pause":3,"footer":"f",
            "open":true,"color":"c","hideMsg":true,"hideBanner":true}"#;
        for module in [GREETING, GATE, BANNER] {
            for handler in module.handlers() {
                for event_type in handler.event_types() {
                    let e = event(handler.aggregate_type(), event_type, Some(payload));
                    let Ok(Some(mutations)) = module.reduce(&e, &Context::new(&NoEvents)) else {
                        panic!("{event_type} is reduced");
                    };
                    assert_eq!(mutations.len(), 1, "{event_type}");
                    for mutation in mutations {
                        let checked = scope(&description, &e, mutation);
                        assert!(checked.is_ok(), "{event_type}: {checked:?}");
                    }
                }
            }
        }
    }
}
