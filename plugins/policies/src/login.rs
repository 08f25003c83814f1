//! `login_policies_projection`: how users log in (reference §6.3).
//!
//! A policy table of the SDK ([`policy`]) keyed by `aggregate_id`, without
//! `state` and `resource_owner`: `org.removed` matches `aggregate_id`.
//! `allowExternalIdp` sets `allow_external_idps`; the lifetimes are
//! durations in nanoseconds, stored as intervals. The second-factor and
//! multi-factor lists (SMALLINT arrays, NULL until a factor is added)
//! change by events of their own, each appending or removing its `mfaType`
//! (0 when absent). The policy's IdP links live in the idps family.

use projection_sdk::policy::{
    self, ByLevel, Events, Field, Kind, Level, Literal, PolicyTable, State, field,
};
use projection_sdk::{
    ColumnOp, ColumnType, Context, Event, Mutation, ProjectionError, TableModule, Value,
    instance_removed, on,
};

/// The table name.
pub(crate) const TABLE: &str = "login_policies_projection";

/// The login policy's settings and shared columns.
pub(crate) struct Login;

impl PolicyTable for Login {
    const NAME: &'static str = TABLE;
    const EVENTS: Events = projection_sdk::policy_events!("login");
    const FIELDS: &'static [Field] = &[
        field("allowRegister", "allow_register", Kind::Bool),
        field(
            "allowUsernamePassword",
            "allow_username_password",
            Kind::Bool,
        ),
        field("allowExternalIdp", "allow_external_idps", Kind::Bool),
        field("forceMFA", "force_mfa", Kind::Bool),
        field("forceMFALocalOnly", "force_mfa_local_only", Kind::Bool)
            .defaults_to(Literal::Bool(false)),
        field("passwordlessType", "passwordless_type", Kind::Enum),
        field("hidePasswordReset", "hide_password_reset", Kind::Bool),
        field(
            "ignoreUnknownUsernames",
            "ignore_unknown_usernames",
            Kind::Bool,
        ),
        field("allowDomainDiscovery", "allow_domain_discovery", Kind::Bool),
        field(
            "disableLoginWithEmail",
            "disable_login_with_email",
            Kind::Bool,
        ),
        field(
            "disableLoginWithPhone",
            "disable_login_with_phone",
            Kind::Bool,
        ),
        field("defaultRedirectURI", "default_redirect_uri", Kind::Text).nullable(),
        field(
            "passwordCheckLifetime",
            "password_check_lifetime",
            Kind::Duration,
        ),
        field(
            "externalLoginCheckLifetime",
            "external_login_check_lifetime",
            Kind::Duration,
        ),
        field(
            "mfaInitSkipLifetime",
            "mfa_init_skip_lifetime",
            Kind::Duration,
        ),
        field(
            "secondFactorCheckLifetime",
            "second_factor_check_lifetime",
            Kind::Duration,
        ),
        field(
            "multiFactorCheckLifetime",
            "multi_factor_check_lifetime",
            Kind::Duration,
        ),
    ];
    const OTHER_COLUMNS: &'static [(&'static str, ColumnType)] = &[
        ("second_factors", ColumnType::SmallIntArray),
        ("multi_factors", ColumnType::SmallIntArray),
    ];
    const KEY: &'static str = "aggregate_id";
    const STATE: State = State::Absent;
    const RESOURCE_OWNER: bool = false;
}

/// The events that add a factor to a list or remove one.
const FACTOR_EVENTS: ByLevel = projection_sdk::policy_event_types!(
    "login",
    [
        "secondfactor.added",
        "secondfactor.removed",
        "multifactor.added",
        "multifactor.removed",
    ]
);

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    policy::table::<Login>,
    &[
        policy::added::<Login>(Level::Org),
        policy::added::<Login>(Level::Instance),
        policy::changed::<Login>(Level::Org),
        policy::changed::<Login>(Level::Instance),
        on("org", FACTOR_EVENTS.org, factor),
        on("instance", FACTOR_EVENTS.instance, factor),
        policy::removed::<Login>(),
        policy::org_removed::<Login>(),
        instance_removed(),
    ],
);

/// A factor event: append the payload's `mfaType` to its list, or remove
/// it.
fn factor(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let (column, added) = factor_change(&event.event_type).ok_or_else(|| event.unhandled())?;
    let mfa_type = Value::Int(event.payload()?.int("mfaType")?.unwrap_or(0));
    let op = if added {
        ColumnOp::ArrayAppend(mfa_type)
    } else {
        ColumnOp::ArrayRemove(mfa_type)
    };
    Ok(vec![policy::row::<Login>(event).op(column, op).build()])
}

/// The list a factor event type changes and whether it adds:
/// `<level>.policy.login.<secondfactor|multifactor>.<added|removed>`.
fn factor_change(event_type: &str) -> Option<(&'static str, bool)> {
    let (_, change) = event_type.split_once(".policy.login.")?;
    let column = match change.split_once('.')? {
        ("secondfactor", _) => "second_factors",
        ("multifactor", _) => "multi_factors",
        _ => return None,
    };
    match change.rsplit_once('.')? {
        (_, "added") => Some((column, true)),
        (_, "removed") => Some((column, false)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{ColumnOp, Context, Mutation, NoEvents, ProjectionError, Value, update};

    use super::{FACTOR_EVENTS, MODULE, TABLE, factor_change};

    #[test]
    fn every_factor_event_names_a_list() {
        for event_type in FACTOR_EVENTS.org.iter().chain(FACTOR_EVENTS.instance) {
            assert!(factor_change(event_type).is_some(), "{event_type}");
        }
        assert_eq!(factor_change("org.policy.login.otherfactor.added"), None);
        assert_eq!(factor_change("org.policy.login.secondfactor.set"), None);
    }

    #[test]
    fn a_factor_without_mfa_type_is_zero() {
        let e = event("org", "org.policy.login.secondfactor.added", Some("{}"));
        let expected = update(TABLE)
            .eq("aggregate_id", "agg-id")
            .op("second_factors", ColumnOp::ArrayAppend(Value::Int(0)))
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
        let wrong = event(
            "org",
            "org.policy.login.multifactor.removed",
            Some(r#"{"mfaType":"u2f"}"#),
        );
        assert!(matches!(
            MODULE.reduce(&wrong, &Context::new(&NoEvents)),
            Err(ProjectionError::InvalidPayload(_))
        ));
    }

    #[test]
    fn added_without_settings_writes_zero_values_and_no_factor_lists() {
        let e = event("instance", "instance.policy.login.added", None);
        let Ok(Some(mutations)) = MODULE.reduce(&e, &Context::new(&NoEvents)) else {
            panic!("the policy is added");
        };
        let [Mutation::Insert { values, .. }] = mutations.as_slice() else {
            panic!("one insert: {mutations:?}");
        };
        let value = |column: &str| values.iter().find(|c| c.column == column).map(|c| &c.value);
        assert_eq!(values.len(), 19);
        assert_eq!(value("aggregate_id"), Some(&Value::from("agg-id")));
        assert_eq!(value("is_default"), Some(&Value::Boolean(true)));
        assert_eq!(value("force_mfa_local_only"), Some(&Value::Boolean(false)));
        assert_eq!(value("passwordless_type"), Some(&Value::Int(0)));
        assert_eq!(value("default_redirect_uri"), Some(&Value::from("")));
        assert_eq!(value("mfa_init_skip_lifetime"), Some(&Value::Interval(0)));
        assert_eq!(value("second_factors"), None);
    }
}
