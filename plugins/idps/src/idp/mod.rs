//! `idps_projection`: the legacy IdP configs (reference §6.10).
//!
//! One row per IdP config of the instance (`iam.idp.config.*`, owner type
//! system) or of an org (`org.idp.config.*`, owner type org), named by the
//! payload's `idpConfigId`. Its OIDC or JWT configuration lives in a
//! sub-table ([`oidc_config`], [`jwt_config`]), which also sets the row's
//! `type`; removing the row (the config, its org, the instance) removes
//! the sub-table's row with it.

pub(crate) mod jwt_config;
pub(crate) mod oidc_config;

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, aggregate_removed,
    instance_removed, on, update,
};

use crate::config::LEGACY_ID;
use crate::field::{self, Field, Kind, field};
use crate::row::{self, STATE_ACTIVE};

/// The table name.
pub(crate) const TABLE: &str = "idps_projection";

/// `state`: inactive.
const STATE_INACTIVE: i64 = 2;

/// The payload fields of the added and changed events, besides the id.
const FIELDS: &[Field] = &[
    field("name", "name", Kind::Text),
    field("stylingType", "styling_type", Kind::Enum),
    field("autoRegister", "auto_register", Kind::Bool),
];

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("instance", &["iam.idp.config.added"], added),
        on("org", &["org.idp.config.added"], added),
        on("instance", &["iam.idp.config.changed"], changed),
        on("org", &["org.idp.config.changed"], changed),
        on("instance", &["iam.idp.config.deactivated"], |e, _| {
            state(e, STATE_INACTIVE)
        }),
        on("org", &["org.idp.config.deactivated"], |e, _| {
            state(e, STATE_INACTIVE)
        }),
        on("instance", &["iam.idp.config.reactivated"], |e, _| {
            state(e, STATE_ACTIVE)
        }),
        on("org", &["org.idp.config.reactivated"], |e, _| {
            state(e, STATE_ACTIVE)
        }),
        on("instance", &["iam.idp.config.removed"], |e, _| {
            row::removed(TABLE, e, LEGACY_ID)
        }),
        on("org", &["org.idp.config.removed"], |e, _| {
            row::removed(TABLE, e, LEGACY_ID)
        }),
        aggregate_removed("org", &["org.removed"], &["resource_owner"]),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("state", ColumnType::SmallInt)
        .column("name", ColumnType::Text)
        .column("styling_type", ColumnType::SmallInt)
        .column("owner_type", ColumnType::SmallInt)
        .column_default("auto_register", ColumnType::Boolean, false)
        .nullable("type", ColumnType::SmallInt)
        .column_default("owner_removed", ColumnType::Boolean, false)
        .primary_key(&["instance_id", "id"])
        .index("resource_owner", &["resource_owner"], &[])
        .index("owner_removed", &["owner_removed"], &[])
}

/// `*.idp.config.added`: an active IdP config of the event's level.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let row = row::added(TABLE, event, &payload.text_or_empty(LEGACY_ID)?, None);
    Ok(vec![
        field::values(row, field::inserted(&payload, FIELDS)?).build(),
    ])
}

/// `*.idp.config.changed`: the fields present; nothing when none is.
fn changed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let changes = field::present(&payload, FIELDS)?;
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let row = update(TABLE).eq("id", payload.text_or_empty(LEGACY_ID)?);
    Ok(vec![field::sets(row, changes).build()])
}

/// Set the IdP config's state.
fn state(event: &Event, state: i64) -> Result<Vec<Mutation>, ProjectionError> {
    let id = event.payload()?.text_or_empty(LEGACY_ID)?;
    Ok(vec![update(TABLE).set("state", state).eq("id", id).build()])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{insert, update};

    use super::{MODULE, TABLE};
    use crate::tests::reduce;

    #[test]
    fn added_without_fields_writes_go_zero_values() {
        let expected = insert(TABLE)
            .value("id", "idp")
            .value("state", 1)
            .value("owner_type", 1)
            .value("resource_owner", "ro-id")
            .value("name", "")
            .value("styling_type", 0)
            .value("auto_register", false)
            .build();
        assert_eq!(
            reduce(
                &MODULE,
                "org",
                "org.idp.config.added",
                r#"{"idpConfigId":"idp"}"#
            ),
            Some(vec![expected])
        );
    }

    #[test]
    fn changed_sets_the_fields_present_and_nothing_without_any() {
        let expected = update(TABLE).eq("id", "idp").set("styling_type", 1).build();
        assert_eq!(
            reduce(
                &MODULE,
                "instance",
                "iam.idp.config.changed",
                r#"{"idpConfigId":"idp","stylingType":1}"#
            ),
            Some(vec![expected])
        );
        assert_eq!(
            reduce(
                &MODULE,
                "instance",
                "iam.idp.config.changed",
                r#"{"idpConfigId":"idp"}"#
            ),
            Some(vec![])
        );
    }

    #[test]
    fn deactivated_and_reactivated_set_the_state() {
        for (event_type, state) in [
            ("org.idp.config.deactivated", 2),
            ("org.idp.config.reactivated", 1),
        ] {
            let expected = update(TABLE).set("state", state).eq("id", "idp").build();
            assert_eq!(
                reduce(&MODULE, "org", event_type, r#"{"idpConfigId":"idp"}"#),
                Some(vec![expected])
            );
        }
    }
}
