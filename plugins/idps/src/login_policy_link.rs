//! `idp_login_policy_links_projection`: which IdPs a login policy offers
//! (reference §6.12).
//!
//! A link belongs to the login policy of the instance or of an org (the
//! event's aggregate, `aggregate_id`) and names an IdP (`idpConfigId`);
//! `provider_type` is the level of the event that added it. Removing the
//! IdP removes its links: an org's IdP only from that org's policy (the
//! event's owner), an instance's from every policy of the instance.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, aggregate_removed,
    delete, insert, instance_removed, on,
};

use crate::config::LEGACY_ID;
use crate::level::owner_type;
use crate::template::ID;

/// The table name.
const TABLE: &str = "idp_login_policy_links_projection";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("org", &["org.policy.login.idpprovider.added"], added),
        on(
            "instance",
            &["instance.policy.login.idpprovider.added"],
            added,
        ),
        on(
            "org",
            &[
                "org.policy.login.idpprovider.removed",
                "org.policy.login.idpprovider.cascade.removed",
            ],
            removed,
        ),
        on(
            "instance",
            &[
                "instance.policy.login.idpprovider.removed",
                "instance.policy.login.idpprovider.cascade.removed",
            ],
            removed,
        ),
        aggregate_removed("org", &["org.policy.login.removed"], &["aggregate_id"]),
        on("org", &["org.idp.config.removed"], |e, _| {
            idp_removed(e, LEGACY_ID, true)
        }),
        on("instance", &["iam.idp.config.removed"], |e, _| {
            idp_removed(e, LEGACY_ID, false)
        }),
        on("org", &["org.idp.removed"], |e, _| idp_removed(e, ID, true)),
        on("instance", &["instance.idp.removed"], |e, _| {
            idp_removed(e, ID, false)
        }),
        aggregate_removed("org", &["org.removed"], &["resource_owner"]),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("idp_id", ColumnType::Text)
        .column("aggregate_id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("provider_type", ColumnType::SmallInt)
        .column_default("owner_removed", ColumnType::Boolean, false)
        .primary_key(&["instance_id", "aggregate_id", "idp_id"])
        .index("resource_owner", &["resource_owner"], &[])
        .index("owner_removed", &["owner_removed"], &[])
}

/// `*.policy.login.idpprovider.added`: the policy offers the IdP
/// (`idpProviderType` is not read: the event's level decides).
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let idp_id = event.payload()?.text_or_empty(LEGACY_ID)?;
    Ok(vec![
        insert(TABLE)
            .value("idp_id", idp_id)
            .value("aggregate_id", &event.aggregate_id)
            .value("provider_type", owner_type(event))
            .value("resource_owner", &event.owner)
            .build(),
    ])
}

/// `*.policy.login.idpprovider.(cascade.)removed`: the policy no longer
/// offers the IdP.
fn removed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let idp_id = event.payload()?.text_or_empty(LEGACY_ID)?;
    Ok(vec![
        delete(TABLE)
            .eq("idp_id", idp_id)
            .eq("aggregate_id", &event.aggregate_id)
            .build(),
    ])
}

/// An IdP removed (named by the payload's `key`): its links, only those
/// owned by the event's owner when `owned` (an org's IdP).
fn idp_removed(event: &Event, key: &str, owned: bool) -> Result<Vec<Mutation>, ProjectionError> {
    let links = delete(TABLE).eq("idp_id", event.payload()?.text_or_empty(key)?);
    let links = if owned {
        links.eq("resource_owner", &event.owner)
    } else {
        links
    };
    Ok(vec![links.build()])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{delete, insert};

    use super::{MODULE, TABLE};
    use crate::tests::reduce;

    #[test]
    fn the_instance_policy_links_a_system_idp() {
        let expected = insert(TABLE)
            .value("idp_id", "idp")
            .value("aggregate_id", "agg-id")
            .value("provider_type", 0)
            .value("resource_owner", "ro-id")
            .build();
        assert_eq!(
            reduce(
                &MODULE,
                "instance",
                "instance.policy.login.idpprovider.added",
                r#"{"idpConfigId":"idp","idpProviderType":1}"#
            ),
            Some(vec![expected])
        );
    }

    #[test]
    fn an_orgs_idp_goes_from_the_orgs_policies_only() {
        let owned = delete(TABLE)
            .eq("idp_id", "idp")
            .eq("resource_owner", "ro-id")
            .build();
        assert_eq!(
            reduce(&MODULE, "org", "org.idp.removed", r#"{"id":"idp"}"#),
            Some(vec![owned])
        );
        let everywhere = delete(TABLE).eq("idp_id", "idp").build();
        assert_eq!(
            reduce(
                &MODULE,
                "instance",
                "instance.idp.removed",
                r#"{"id":"idp"}"#
            ),
            Some(vec![everywhere])
        );
    }
}
