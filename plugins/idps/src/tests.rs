//! Family-wide tests: the description, and events that reach several tables.

use projection_sdk::testing::{
    assert_describes, assert_every_subscription_scopes, assert_instance_removed_clears,
    assert_rejects_unknown, assert_subscribes, event, no_errors,
};
use projection_sdk::{Context, Family, Mutation, NoEvents, ProjectionError, TableModule, delete};

use crate::Idps;

/// The tables, in declaration order.
const TABLES: [&str; 19] = [
    "idps_projection",
    "idps_oidc_config_projection",
    "idps_jwt_config_projection",
    "idp_templates_projection",
    "idp_templates_oauth2_projection",
    "idp_templates_oidc_projection",
    "idp_templates_jwt_projection",
    "idp_templates_azure_projection",
    "idp_templates_github_projection",
    "idp_templates_github_enterprise_projection",
    "idp_templates_gitlab_projection",
    "idp_templates_gitlab_self_hosted_projection",
    "idp_templates_google_projection",
    "idp_templates_ldap2_projection",
    "idp_templates_apple_projection",
    "idp_templates_saml_projection",
    "idp_templates_zitadel_projection",
    "idp_login_policy_links_projection",
    "idp_user_links_projection",
];

/// A payload with a value of the right shape for every key the family
/// reads.
const FULL_PAYLOAD: &str = r#"{
    "id": "idp", "idpConfigId": "idp", "name": "n", "stylingType": 1, "autoRegister": true,
    "isCreationAllowed": true, "autoLinkingOption": 2, "issuer": "i", "clientId": "c",
    "client_id": "c", "clientSecret": {"KeyID": "k"}, "client_secret": {"KeyID": "k"},
    "scopes": ["s"], "usePKCE": true, "idTokenMapping": true, "tenant": "t",
    "servers": ["ldap://x"], "startTLS": true, "bindPassword": {"KeyID": "k"},
    "timeout": 1000, "rootCA": "AA==", "emailVerifiedAttribute": "ev",
    "privateKey": {"KeyID": "k"}, "teamId": "t", "keyId": "k", "metadata": "AA==",
    "key": {"KeyID": "k"}, "certificate": "AA==", "nameIDFormat": 2,
    "withSignedRequest": true, "instanceRolesInfo": [{"organizationId": "o"}],
    "idpDisplayNameMapping": 1, "usernameMapping": 2, "jwtEndpoint": "j",
    "userId": "ext", "displayName": "d", "previousId": "p", "newId": "n", "username": "u"
}"#;

/// What one table's `module` makes of an event, without earlier events.
pub(crate) fn reduce(
    module: &TableModule,
    aggregate_type: &str,
    event_type: &str,
    payload: &str,
) -> Option<Vec<Mutation>> {
    let e = event(aggregate_type, event_type, Some(payload));
    module.reduce(&e, &Context::new(&NoEvents)).unwrap()
}

fn handle(aggregate_type: &str, event_type: &str, payload: Option<&str>) -> Vec<Mutation> {
    let e = event(aggregate_type, event_type, payload);
    Idps::handle(&e, &Context::new(&NoEvents)).unwrap()
}

#[test]
fn describes_the_idp_tables_with_their_sub_tables_under_their_idp_table() {
    let description = assert_describes::<Idps>("idps", "0.1.0", &TABLES);
    for table in &description.tables {
        let parent = match table.name.as_str() {
            "idps_oidc_config_projection" | "idps_jwt_config_projection" => Some("idps_projection"),
            name if name.starts_with("idp_templates_") && name != "idp_templates_projection" => {
                Some("idp_templates_projection")
            }
            _ => None,
        };
        assert_eq!(table.parent.as_deref(), parent, "{}", table.name);
        if parent.is_some() {
            assert_eq!(
                table.primary_key,
                ["instance_id", "idp_id"],
                "{}",
                table.name
            );
        }
    }
}

#[test]
fn subscribes_each_level_under_its_aggregate_type() {
    assert_subscribes::<Idps>(
        &[
            ("instance", "instance.idp.ldap.v2.added"),
            ("org", "org.idp.ldap.changed"),
            ("instance", "iam.idp.oidc.config.added"),
            ("org", "org.idp.oidc.migrated.google"),
            ("instance", "instance.idp.zitadel.changed"),
            ("org", "org.policy.login.removed"),
            ("user", "user.human.externalidp.id.migrated"),
            ("user", "user.removed"),
            ("org", "org.removed"),
            ("instance", "instance.removed"),
        ],
        &[
            ("instance", "instance.idp.ldap.added"),
            ("org", "org.idp.ldap.v2.added"),
            ("instance", "iam.idp.config.deactivated.x"),
        ],
    );
}

#[test]
fn every_event_with_or_without_its_fields_passes_the_hosts_checks() {
    let payloads = [None, Some("{}"), Some(FULL_PAYLOAD)];
    assert_every_subscription_scopes::<Idps>(&payloads, no_errors);
}

#[test]
fn a_removed_legacy_idp_config_fans_out_table_by_table() {
    let payload = Some(r#"{"idpConfigId":"idp"}"#);
    let expected = vec![
        delete("idps_projection").eq("id", "idp").build(),
        delete("idp_templates_projection").eq("id", "idp").build(),
        delete("idp_login_policy_links_projection")
            .eq("idp_id", "idp")
            .eq("resource_owner", "ro-id")
            .build(),
        delete("idp_user_links_projection")
            .eq("idp_id", "idp")
            .eq("resource_owner", "ro-id")
            .build(),
    ];
    assert_eq!(handle("org", "org.idp.config.removed", payload), expected);
}

#[test]
fn org_and_instance_removals_delete_idp_tables_rows_only() {
    let expected: Vec<Mutation> = [
        "idps_projection",
        "idp_templates_projection",
        "idp_login_policy_links_projection",
        "idp_user_links_projection",
    ]
    .map(|t| delete(t).eq("resource_owner", "agg-id").build())
    .to_vec();
    assert_eq!(handle("org", "org.removed", None), expected);
    assert_instance_removed_clears::<Idps>();
}

#[test]
fn a_removed_user_loses_its_links_only() {
    let expected = vec![
        delete("idp_user_links_projection")
            .eq("user_id", "agg-id")
            .build(),
    ];
    assert_eq!(handle("user", "user.removed", Some("{}")), expected);
}

#[test]
fn a_legacy_oidc_config_reaches_the_legacy_table_and_the_template() {
    let mutations = handle(
        "org",
        "org.idp.oidc.config.added",
        Some(r#"{"idpConfigId":"idp"}"#),
    );
    let tables: Vec<&str> = mutations.iter().map(Mutation::table).collect();
    assert_eq!(
        tables,
        [
            "idps_projection",
            "idps_oidc_config_projection",
            "idp_templates_projection",
            "idp_templates_oidc_projection"
        ]
    );
}

#[test]
fn wrong_payloads_are_errors_not_panics() {
    let ctx = Context::new(&NoEvents);
    for (event_type, payload) in [
        ("instance.idp.github.added", r#"{"clientSecret":"plain"}"#),
        ("org.idp.saml.changed", r#"{"metadata":"%%%"}"#),
        ("instance.idp.ldap.v2.added", r#"{"timeout":"30s"}"#),
        ("org.idp.zitadel.added", r#"{"instanceRolesInfo":"o"}"#),
        ("iam.idp.config.added", r#"{"idpConfigId":7}"#),
        ("user.human.externalidp.added", "[]"),
    ] {
        let e = event("instance", event_type, Some(payload));
        assert!(
            matches!(
                Idps::handle(&e, &ctx),
                Err(ProjectionError::InvalidPayload(_))
            ),
            "{event_type}"
        );
    }
}

#[test]
fn rejects_unknown_and_empty_events() {
    assert_rejects_unknown::<Idps>(&[
        ("instance", "instance.idp.ldap.added"),
        ("org", "org.idp.config.unknown"),
        ("user", "user.human.added"),
    ]);
}
