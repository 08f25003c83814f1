//! The policies table family.
//!
//! Projects the instance's default policies and the orgs' own
//! (`instance.policy.*` and `org.policy.*` events, plus `org.removed` and
//! `instance.removed`) into eight tables, one module each:
//!
//! | table | module |
//! |---|---|
//! | `password_complexity_policies_projection` | `password_complexity.rs` |
//! | `password_age_policies_projection` | `password_age.rs` |
//! | `login_policies_projection` | `login.rs` |
//! | `lockout_policies_projection` | `lockout.rs` |
//! | `privacy_policies_projection` | `privacy.rs` |
//! | `label_policies_projection` | `label.rs` |
//! | `notification_policies_projection` | `notification.rs` |
//! | `domain_policies_projection` | `domain.rs` |
//!
//! Every table is a policy table of the SDK
//! ([`projection_sdk::policy`]): one row per owner, its settings from the
//! added event and the changed ones. A module states the policy's event-type
//! stem, its settings and how its shared columns differ; the login policy
//! adds its factor lists, the label policy its activation and assets.
//! [`Policies`] runs the tables in order, so `org.removed` and
//! `instance.removed` yield one delete per table, table by table.
//!
//! The host scopes every mutation to the event's tenant and stamps
//! `change_date`/`sequence` (and `creation_date` on inserts), so the reducers
//! never write those columns themselves.

mod domain;
mod label;
mod lockout;
mod login;
mod notification;
mod password_age;
mod password_complexity;
mod privacy;

projection_sdk::family! {
    /// The policies table family.
    Policies,
    name: "policies",
    version: "0.1.0",
    tables: [
        password_complexity,
        password_age,
        login,
        lockout,
        privacy,
        label,
        notification,
        domain,
    ],
}

#[cfg(test)]
projection_conformance::passes!(
    Policies,
    "password_complexity_policy",
    "password_age_policy",
    "login_policy",
    "lockout_policy",
    "privacy_policy",
    "label_policy",
    "notification_policy",
    "domain_policy",
);

#[cfg(test)]
mod tests {
    use projection_sdk::testing::{
        assert_describes, assert_every_subscription_scopes, assert_instance_removed_clears,
        assert_rejects_unknown, assert_subscribes, event, no_errors,
    };
    use projection_sdk::{Context, Family, NoEvents, delete, update};

    use super::Policies;

    const TABLES: [&str; 8] = [
        "password_complexity_policies_projection",
        "password_age_policies_projection",
        "login_policies_projection",
        "lockout_policies_projection",
        "privacy_policies_projection",
        "label_policies_projection",
        "notification_policies_projection",
        "domain_policies_projection",
    ];

    #[test]
    fn describes_eight_tenant_scoped_tables() {
        assert_describes::<Policies>("policies", "0.1.0", &TABLES);
        assert_subscribes::<Policies>(
            &[
                ("org", "org.policy.label.logo.dark.removed"),
                ("instance", "instance.policy.login.multifactor.added"),
            ],
            &[("instance", "instance.policy.lockout.removed")],
        );
    }

    #[test]
    fn org_removed_deletes_the_orgs_policies_table_by_table() {
        let e = event("org", "org.removed", None);
        let expected = TABLES.map(|table| {
            let owner = if table == "login_policies_projection" {
                "aggregate_id"
            } else {
                "resource_owner"
            };
            delete(table).eq(owner, "agg-id").build()
        });
        assert_eq!(
            Policies::handle(&e, &Context::new(&NoEvents)),
            Ok(expected.to_vec())
        );
    }

    #[test]
    fn instance_removed_clears_every_table() {
        assert_instance_removed_clears::<Policies>();
    }

    #[test]
    fn every_event_type_yields_mutations_the_host_accepts() {
        let full = r##"{"minLength":8,"allowRegister":true,"passwordCheckLifetime":10,
            "mfaType":2,"storeKey":"key","primaryColor":"#000","themeMode":2,
            "disableWatermark":true,"passwordChange":true,"docsLink":"d",
            "maxOTPAttempts":3,"validateOrgDomains":true,"expireWarnDays":1}"##;
        let payloads = [None, Some("{}"), Some(full)];
        for (e, mutations) in assert_every_subscription_scopes::<Policies>(&payloads, no_errors) {
            assert!(!mutations.is_empty(), "{} {:?}", e.event_type, e.payload);
        }
    }

    #[test]
    fn changed_without_settings_still_bumps_the_row() {
        let e = event("org", "org.policy.privacy.changed", Some("{}"));
        let expected = update("privacy_policies_projection")
            .set("change_date", e.created_at_value())
            .set("sequence", e.sequence)
            .eq("id", "agg-id")
            .build();
        assert_eq!(
            Policies::handle(&e, &Context::new(&NoEvents)),
            Ok(vec![expected])
        );
    }

    #[test]
    fn rejects_unknown_and_empty_events() {
        assert_rejects_unknown::<Policies>(&[("instance", "instance.policy.lockout.removed")]);
    }
}
