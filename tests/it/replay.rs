//! Replaying the sample stream: expected rows, idempotence, resuming.

use host::runtime::{self, ReplayOptions};
use host::store::state;
use serde_json::json;

use crate::support::{self, Store};

const FAMILIES: &[&str] = &["instances", "orgs"];

async fn sample_projects_expected_rows(store: Store) {
    let t = support::test_db(store).await;
    let mut plugins = support::plugins(FAMILIES);
    assert_eq!(
        support::import_file(&t.db, &support::repo_root().join("samples/demo.jsonl")).await,
        94
    );
    let reports = support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    assert_eq!(reports.iter().map(|r| r.n_failed).sum::<u64>(), 0);
    let tables = support::dump_all(&t.db, &plugins).await;
    support::assert_golden("demo.expected.json", &json!(tables));
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_stream_projects_expected_rows_on_sqlite() {
    sample_projects_expected_rows(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_stream_projects_expected_rows_on_postgres() {
    sample_projects_expected_rows(Store::Postgres).await;
}

/// Replay one batch at a time (a stop after every batch), then compare with
/// a clean replay; then replay again from the checkpoints and from zero.
async fn resuming_after_every_batch_equals_clean_replay(store: Store) {
    let sample = support::repo_root().join("samples/demo.jsonl");
    let clean = support::test_db(store).await;
    let mut plugins = support::plugins(FAMILIES);
    support::import_file(&clean.db, &sample).await;
    support::replay(&clean.db, &mut plugins, ReplayOptions::default()).await;
    let expected = support::dump_all(&clean.db, &plugins).await;

    let t = support::test_db(store).await;
    support::import_file(&t.db, &sample).await;
    let step = ReplayOptions {
        batch_size: 7,
        ..ReplayOptions::default()
    };
    let one_batch = || runtime::Control {
        max_batches: Some(1),
        ..runtime::Control::default()
    };
    let mut n_steps = 0;
    loop {
        let reports =
            support::replay_controlled(&t.db, &mut plugins, step.clone(), one_batch()).await;
        n_steps += 1;
        if reports.iter().all(|r| r.n_batches == 0) {
            break;
        }
        assert!(n_steps < 100, "replay does not converge");
    }
    assert!(n_steps > 5, "the sample spans several batches");
    assert_eq!(support::dump_all(&t.db, &plugins).await, expected);

    // Nothing left: a further replay applies nothing and changes nothing.
    let reports = support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    assert_eq!(reports.iter().map(|r| r.n_applied).sum::<u64>(), 0);
    assert_eq!(support::dump_all(&t.db, &plugins).await, expected);

    // From zero: the same tables again.
    let rebuild = ReplayOptions {
        from_start: true,
        ..ReplayOptions::default()
    };
    let reports = support::replay(&t.db, &mut plugins, rebuild).await;
    assert_eq!(reports.iter().map(|r| r.n_applied).sum::<u64>(), 84);
    assert_eq!(support::dump_all(&t.db, &plugins).await, expected);
    assert_eq!(
        state::checkpoints(&t.db).await.unwrap(),
        state::checkpoints(&clean.db).await.unwrap()
    );
    clean.finish().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_after_every_batch_equals_clean_replay_on_sqlite() {
    resuming_after_every_batch_equals_clean_replay(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_after_every_batch_equals_clean_replay_on_postgres() {
    resuming_after_every_batch_equals_clean_replay(Store::Postgres).await;
}

/// Rebuilding one tenant leaves the others alone and restores its rows.
async fn rebuilding_one_tenant(store: Store) {
    let t = support::test_db(store).await;
    let mut plugins = support::plugins(FAMILIES);
    support::import_file(&t.db, &support::repo_root().join("samples/demo.jsonl")).await;
    support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    let expected = support::dump_all(&t.db, &plugins).await;
    let only_acme = ReplayOptions {
        family: Some("orgs".into()),
        instance_id: Some("acme".into()),
        from_start: true,
        ..ReplayOptions::default()
    };
    let reports = support::replay(&t.db, &mut plugins, only_acme).await;
    assert_eq!(reports.len(), 1);
    assert!(reports[0].n_applied > 0);
    assert_eq!(support::dump_all(&t.db, &plugins).await, expected);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilding_one_tenant_restores_its_rows_on_sqlite() {
    rebuilding_one_tenant(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilding_one_tenant_restores_its_rows_on_postgres() {
    rebuilding_one_tenant(Store::Postgres).await;
}

/// A realistic stream across the families (instances with a default of
/// every policy kind, orgs with verified domains and policy overrides: a
/// changed one, one removed back to the default, a label policy changed,
/// activated and changed again, login factors added and removed; humans and
/// a machine, verified emails, a changed password, PATs and a key, a project
/// with roles, members, a grant to another org with a grant member, OIDC, API
/// and SAML apps with config changes, a removed project with its app, user
/// grants; milestones reached and pushed, quotas with notifications, limits;
/// sessions with checks, token, metadata and lifetime, one terminated, others
/// ended by their user's lock or removal, a password check cleared by the
/// password change; auth requests pending, succeeded and failed; OIDC,
/// GitHub and Google IdP templates, a legacy OIDC IdP config removed with its
/// login policy and user links; a locked and a removed user, a removed org, a
/// removed instance): every table of every family as the reference's
/// semantics say.
async fn identity_stream_across_families(store: Store) {
    let t = support::test_db(store).await;
    let mut plugins = support::plugins(support::FAMILIES);
    support::import_file(&t.db, &support::fixture("identity.jsonl")).await;
    let reports = support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    let failures = state::failures(&t.db).await.unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(reports.iter().map(|r| r.n_failed).sum::<u64>(), 0);
    let tables = support::dump_all(&t.db, &plugins).await;
    support::assert_golden("identity.expected.json", &json!(tables));
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_stream_across_families_on_sqlite() {
    identity_stream_across_families(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_stream_across_families_on_postgres() {
    identity_stream_across_families(Store::Postgres).await;
}

/// Batches are read two ahead of their apply: a tenant stopped by a failed
/// event applies nothing after it, though the batches behind the failure
/// were read (and one planned) before it was known; the other tenant
/// applies everything.
async fn a_failure_stops_its_tenant_in_the_batches_read_ahead(store: Store) {
    let t = support::test_db(store).await;
    let mut plugins = support::plugins(&["hostile"]);
    let event = |tenant: &str, event_type: &str| {
        json!({"instance_id": tenant, "aggregate_type": "hostile", "aggregate_id": "h",
               "event_type": event_type, "owner": tenant})
    };
    let mut events = vec![event("a", "hostile.ok"), event("a", "hostile.error")];
    for _ in 0..12 {
        events.push(event("a", "hostile.ok"));
        events.push(event("b", "hostile.ok"));
    }
    support::import_json(&t.db, &events).await;
    let one_at_a_time = ReplayOptions {
        batch_size: 1,
        ..ReplayOptions::default()
    };
    let reports = support::replay(&t.db, &mut plugins, one_at_a_time).await;
    assert_eq!((reports[0].n_applied, reports[0].n_failed), (13, 1));
    let failures = state::failures(&t.db).await.unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].instance_id, "a");
    let consumed = support::consumed(&t.db).await;
    assert_eq!(consumed[&("hostile".to_owned(), "a".to_owned())], 1);
    assert_eq!(consumed[&("hostile".to_owned(), "b".to_owned())], 12);
    let rows = &support::dump_all(&t.db, &plugins).await["hostile_projection"];
    let tenant_a: Vec<&str> = rows
        .iter()
        .filter(|r| r["instance_id"] == "a")
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(tenant_a, ["h-1"], "nothing of tenant a after its failure");
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_stops_its_tenant_in_the_batches_read_ahead_on_sqlite() {
    a_failure_stops_its_tenant_in_the_batches_read_ahead(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_stops_its_tenant_in_the_batches_read_ahead_on_postgres() {
    a_failure_stops_its_tenant_in_the_batches_read_ahead(Store::Postgres).await;
}
