//! Two families read the domain policy events: `policies` keeps
//! `domain_policies_projection`, and `users` keeps the login-name helper
//! `login_names_policies_projection`. On the same streams (instance
//! defaults, org overrides, changes, removals back to the default, removed
//! orgs and instances) both must say the same for every owner: whether a
//! login name must carry the org's domain, and whether the row is the
//! instance's default.

use std::collections::BTreeSet;

use host::runtime::ReplayOptions;
use host::store::state;
use serde_json::Value as Json;

use crate::differential::{all_rows, generated_stream};
use crate::support::{self, Store};

/// (tenant, owner, must be domain, is default) of a table's live rows.
type Policy = (String, String, bool, bool);

fn policies(rows: &[Json], must_be_domain: &str) -> BTreeSet<Policy> {
    rows.iter()
        .filter(|r| r.get("owner_removed").is_none_or(|v| v == false))
        .map(|r| {
            (
                r["instance_id"].as_str().unwrap_or_default().to_owned(),
                r["resource_owner"].as_str().unwrap_or_default().to_owned(),
                r[must_be_domain].as_bool().unwrap_or_default(),
                r["is_default"].as_bool().unwrap_or_default(),
            )
        })
        .collect()
}

async fn domain_policy_and_login_names_agree(store: Store, events: &[Json]) -> usize {
    let t = support::test_db(store).await;
    support::import_json(&t.db, events).await;
    let mut plugins = support::plugins(&["policies", "users"]);
    support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    let failures = state::failures(&t.db).await.unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
    let tables = all_rows(&t.db, &plugins).await;
    let domain = policies(
        &tables["domain_policies_projection"],
        "user_login_must_be_domain",
    );
    let login_names = policies(&tables["login_names_policies_projection"], "must_be_domain");
    assert_eq!(domain, login_names);
    t.finish().await;
    domain.len()
}

fn fixture_events() -> Vec<Json> {
    std::fs::read_to_string(support::fixture("identity.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_policy_and_login_names_agree_on_sqlite() {
    let n = domain_policy_and_login_names_agree(Store::Sqlite, &generated_stream()).await;
    assert!(n > 10, "the stream has only {n} domain policies");
    domain_policy_and_login_names_agree(Store::Sqlite, &fixture_events()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_policy_and_login_names_agree_on_postgres() {
    let n = domain_policy_and_login_names_agree(Store::Postgres, &generated_stream()).await;
    assert!(n > 10, "the stream has only {n} domain policies");
    domain_policy_and_login_names_agree(Store::Postgres, &fixture_events()).await;
}
