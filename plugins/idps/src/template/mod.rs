//! `idp_templates_projection`: the IdPs of the instance and the orgs, one
//! row per IdP whatever its provider (reference §6.11).
//!
//! Each provider kind (OAuth, OIDC, JWT, Azure AD, GitHub, ...) keeps its
//! settings in a sub-table of its own, declared as a [`Provider`]
//! (`provider.rs`, one module per provider); the provider's added, changed
//! and migrated events write this table's row too ([`inserted`],
//! [`changed`], [`migrated`]). This module handles what is not a
//! provider's: the legacy IdP configs (`*.idp.config.*`, which become
//! templates of type unspecified until their OIDC or JWT config arrives)
//! and removals. Removing a row (the IdP, the legacy config, its org, the
//! instance) removes its provider row with it.
//!
//! [`Provider`]: provider::Provider

pub(crate) mod apple;
pub(crate) mod azure;
pub(crate) mod github;
pub(crate) mod github_enterprise;
pub(crate) mod gitlab;
pub(crate) mod gitlab_self_hosted;
pub(crate) mod google;
pub(crate) mod jwt;
pub(crate) mod ldap;
pub(crate) mod oauth;
pub(crate) mod oidc;
pub(crate) mod provider;
pub(crate) mod saml;
pub(crate) mod zitadel;

use projection_sdk::{
    ColumnType, Context, Event, Mutation, Payload, ProjectionError, Table, TableModule,
    aggregate_removed, instance_removed, on,
};

use crate::config::{LEGACY_ID, touch};
use crate::field::{self, Field, Kind, field};
use crate::row;

/// The table name.
pub(crate) const TABLE: &str = "idp_templates_projection";

/// The payload key of the new-style events' IdP.
pub(crate) const ID: &str = "id";

/// An IdP's provider kind, the template's `type` (IDPType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdpType {
    /// A legacy IdP config without its OIDC or JWT config yet.
    Unspecified = 0,
    /// OpenID Connect.
    Oidc = 1,
    /// JWT.
    Jwt = 2,
    /// OAuth 2.
    OAuth = 3,
    /// LDAP.
    Ldap = 4,
    /// Azure AD.
    AzureAd = 5,
    /// GitHub.
    GitHub = 6,
    /// GitHub Enterprise.
    GitHubEnterprise = 7,
    /// GitLab.
    GitLab = 8,
    /// GitLab self-hosted.
    GitLabSelfHosted = 9,
    /// Google.
    Google = 10,
    /// Apple.
    Apple = 11,
    /// SAML.
    Saml = 12,
    /// Zitadel.
    Zitadel = 13,
}

impl IdpType {
    /// The stored value.
    pub(crate) const fn value(self) -> i64 {
        self as i64
    }
}

/// The fields of the template row every new-style event carries: the name
/// and the options block.
const NAME_AND_OPTIONS: &[Field] = &[
    field("name", "name", Kind::Text),
    field("isCreationAllowed", "is_creation_allowed", Kind::Bool),
    field("isLinkingAllowed", "is_linking_allowed", Kind::Bool),
    field("isAutoCreation", "is_auto_creation", Kind::Bool),
    field("isAutoUpdate", "is_auto_update", Kind::Bool),
    field("autoLinkingOption", "auto_linking", Kind::Enum),
];

/// The fields a legacy config change sets.
const LEGACY_FIELDS: &[Field] = &[
    field("name", "name", Kind::Text),
    field("autoRegister", "is_auto_creation", Kind::Bool),
];

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("instance", &["iam.idp.config.added"], legacy_added),
        on("org", &["org.idp.config.added"], legacy_added),
        on("instance", &["iam.idp.config.changed"], legacy_changed),
        on("org", &["org.idp.config.changed"], legacy_changed),
        on("instance", &["iam.idp.config.removed"], |e, _| {
            row::removed(TABLE, e, LEGACY_ID)
        }),
        on("org", &["org.idp.config.removed"], |e, _| {
            row::removed(TABLE, e, LEGACY_ID)
        }),
        on("instance", &["instance.idp.removed"], |e, _| {
            row::removed(TABLE, e, ID)
        }),
        on("org", &["org.idp.removed"], |e, _| {
            row::removed(TABLE, e, ID)
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
        .nullable("name", ColumnType::Text)
        .column("owner_type", ColumnType::SmallInt)
        .column("type", ColumnType::SmallInt)
        .column_default("owner_removed", ColumnType::Boolean, false)
        .column_default("is_creation_allowed", ColumnType::Boolean, false)
        .column_default("is_linking_allowed", ColumnType::Boolean, false)
        .column_default("is_auto_creation", ColumnType::Boolean, false)
        .column_default("is_auto_update", ColumnType::Boolean, false)
        .column_default("auto_linking", ColumnType::SmallInt, 0)
        .primary_key(&["instance_id", "id"])
        .index("resource_owner", &["resource_owner"], &[])
        .index("owner_removed", &["owner_removed"], &[])
}

/// The template row of a provider's added event: IdP `id`, active, of
/// `kind`, owned at the event's level, with the name and options.
pub(crate) fn inserted(
    event: &Event,
    payload: &Payload,
    id: &str,
    kind: IdpType,
) -> Result<Mutation, ProjectionError> {
    let row = row::added(TABLE, event, id, Some(kind.value()));
    Ok(field::values(row, field::inserted(payload, NAME_AND_OPTIONS)?).build())
}

/// The template row of a provider's changed event: touched, with the name
/// and options present.
pub(crate) fn changed(
    event: &Event,
    payload: &Payload,
    id: &str,
) -> Result<Mutation, ProjectionError> {
    let changes = field::present(payload, NAME_AND_OPTIONS)?;
    Ok(field::sets(touch(TABLE, id, event), changes).build())
}

/// The template row of a migration to a provider of `kind`: touched, the
/// new type, the name and every option.
pub(crate) fn migrated(
    event: &Event,
    payload: &Payload,
    id: &str,
    kind: IdpType,
) -> Result<Mutation, ProjectionError> {
    let row = touch(TABLE, id, event).set("type", kind.value());
    Ok(field::sets(row, field::inserted(payload, NAME_AND_OPTIONS)?).build())
}

/// `*.idp.config.added`: a legacy IdP config as a template of unspecified
/// type, creation and linking allowed, auto creation as `autoRegister`.
fn legacy_added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let id = payload.text_or_empty(LEGACY_ID)?;
    let row = row::added(TABLE, event, &id, Some(IdpType::Unspecified.value()))
        .value("is_creation_allowed", true)
        .value("is_linking_allowed", true)
        .value("is_auto_update", false)
        .value("auto_linking", 0);
    Ok(vec![
        field::values(row, field::inserted(&payload, LEGACY_FIELDS)?).build(),
    ])
}

/// `*.idp.config.changed`: touched, with the name and auto creation
/// present.
fn legacy_changed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let id = payload.text_or_empty(LEGACY_ID)?;
    let changes = field::present(&payload, LEGACY_FIELDS)?;
    Ok(vec![field::sets(touch(TABLE, &id, event), changes).build()])
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::CREATED_AT;
    use projection_sdk::{Value, delete, insert, update};

    use super::{MODULE, TABLE};
    use crate::tests::reduce;

    #[test]
    fn a_legacy_config_without_fields_is_an_unnamed_template() {
        let expected = insert(TABLE)
            .value("id", "idp")
            .value("state", 1)
            .value("owner_type", 0)
            .value("type", 0)
            .value("resource_owner", "ro-id")
            .value("is_creation_allowed", true)
            .value("is_linking_allowed", true)
            .value("is_auto_update", false)
            .value("auto_linking", 0)
            .value("name", "")
            .value("is_auto_creation", false)
            .build();
        assert_eq!(
            reduce(
                &MODULE,
                "instance",
                "iam.idp.config.added",
                r#"{"idpConfigId":"idp"}"#
            ),
            Some(vec![expected])
        );
    }

    #[test]
    fn a_legacy_change_of_nothing_still_touches_the_template() {
        let expected = update(TABLE)
            .set("change_date", Value::Timestamp(CREATED_AT))
            .set("sequence", 15)
            .eq("id", "idp")
            .build();
        assert_eq!(
            reduce(
                &MODULE,
                "org",
                "org.idp.config.changed",
                r#"{"idpConfigId":"idp"}"#
            ),
            Some(vec![expected])
        );
    }

    #[test]
    fn new_style_and_legacy_removals_name_the_idp_by_their_own_key() {
        let expected = delete(TABLE).eq("id", "idp").build();
        assert_eq!(
            reduce(&MODULE, "org", "org.idp.removed", r#"{"id":"idp"}"#),
            Some(vec![expected.clone()])
        );
        assert_eq!(
            reduce(
                &MODULE,
                "instance",
                "iam.idp.config.removed",
                r#"{"idpConfigId":"idp"}"#
            ),
            Some(vec![expected])
        );
    }
}
