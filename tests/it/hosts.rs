//! Hosts sharing one PostgreSQL by leases (`store::lease`): three `projector
//! run` processes follow a stream appended continuously; one is killed with
//! SIGKILL and its units are taken over, a fourth joins and gets its share,
//! one is paused (SIGSTOP) past its lease and finds it lost when it wakes.
//! The tables then equal a clean replay and every checkpoint has consumed
//! exactly its tenant's events. The fencing check itself: an apply under a
//! lease that expired and was taken is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use host::store::lease::{self, Leaser, PARTS, Share};
use host::store::{Db, StoreError};
use serde_json::Value as Json;

use crate::live::behind;
use crate::support::{self, Store};

const FAMILIES: &[&str] = &["instances", "orgs", "users", "projects"];
const LEASE_SECS: u64 = 2;

/// A realistic stream over many tenants (so every part has some), without
/// positions.
fn stream() -> Vec<Json> {
    support::unpositioned_stream(23, 40, 4000)
}

/// `projector` with `args` in a child process (the test binary's
/// `zitadel::child_cli`), its output and log in `log`.
fn spawn(args: &[String], log: &std::path::Path) -> Child {
    let log = std::fs::File::create(log).unwrap();
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "zitadel::child_cli", "--ignored", "--nocapture"])
        .env("PROJECTOR_ZITADEL_CHILD", args.join("\n"))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name}");
}

/// Per live host, the units it holds unexpired; free or expired ones under
/// `""`.
async fn holders(db: &Db) -> BTreeMap<String, usize> {
    let mut by_host = BTreeMap::new();
    for unit in lease::holders(db).await.unwrap() {
        let host = match (unit.owner, unit.expired) {
            (Some(owner), false) => owner,
            _ => String::new(),
        };
        *by_host.entry(host).or_default() += 1;
    }
    by_host
}

/// Wait until `done` holds for the holders, up to `within`; how long it took.
async fn wait_for(
    db: &Db,
    within: Duration,
    what: &str,
    done: impl Fn(&BTreeMap<String, usize>) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let now = holders(db).await;
        if done(&now) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "{what}: {now:?} after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_share_the_work_survive_a_kill_and_a_pause_on_postgres() {
    let t = support::test_db(Store::Postgres).await;
    let events = stream();
    let (first, rest) = events.split_at(1000);
    for chunk in first.chunks(50) {
        support::import_json(&t.db, chunk).await;
    }
    let dir = support::plugin_dir(FAMILIES);
    let cache = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let cli = |command: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = vec![
            "--database-url".into(),
            t.url.clone(),
            "--plugins".into(),
            dir.path().display().to_string(),
            "--cache".into(),
            cache.path().display().to_string(),
        ];
        args.extend(command.iter().map(|s| (*s).to_owned()));
        args
    };
    // Compile the plugins into the cache once, before the hosts start.
    let warm = spawn(&cli(&["status"]), &logs.path().join("status.log"));
    assert!(warm.wait_with_output().unwrap().status.success());
    let lease = LEASE_SECS.to_string();
    let host = |name: &str| {
        spawn(
            &cli(&[
                "run",
                "--host-id",
                name,
                "--lease-secs",
                &lease,
                "--batch-size",
                "25",
                "--poll-ms",
                "10",
            ]),
            &logs.path().join(format!("{name}.log")),
        )
    };
    let units = FAMILIES.len() * PARTS as usize;
    let h1 = host("h1");
    let mut h2 = host("h2");
    let h3 = host("h3");
    wait_for(&t.db, Duration::from_secs(60), "three hosts share", |h| {
        ["h1", "h2", "h3"]
            .iter()
            .all(|n| h.get(*n).is_some_and(|k| *k >= units / 3 - 1))
    })
    .await;

    let writer = {
        let (db, rest) = (t.db.clone(), rest.to_vec());
        tokio::spawn(async move {
            for chunk in rest.chunks(25) {
                support::import_json(&db, chunk).await;
                tokio::time::sleep(Duration::from_millis(60)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    h2.kill().unwrap();
    h2.wait().unwrap();
    let failover = wait_for(
        &t.db,
        Duration::from_secs(30),
        "h2's units taken over",
        |h| !h.contains_key("h2") && !h.contains_key("") && h.len() == 2,
    )
    .await;
    let h4 = host("h4");
    let joined = wait_for(&t.db, Duration::from_secs(60), "h4 gets its share", |h| {
        h.get("h4").is_some_and(|k| *k >= units / 3 - 1)
    })
    .await;

    // Paused past its lease: the others take its units; awake, it finds
    // them lost (a batch in flight is refused by the fencing check).
    signal(&h1, "STOP");
    tokio::time::sleep(Duration::from_secs(LEASE_SECS * 2 + 1)).await;
    let taken = holders(&t.db).await;
    assert!(
        !taken.contains_key("h1"),
        "h1's units while paused: {taken:?}"
    );
    signal(&h1, "CONT");
    writer.await.unwrap();

    let following = support::plugins(FAMILIES);
    let started = Instant::now();
    while behind(&t.db, &following).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "still {} events behind",
            behind(&t.db, &following).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Awake again, h1 gets its share back as the others give theirs up.
    wait_for(&t.db, Duration::from_secs(30), "h1, h3, h4 share", |h| {
        !h.contains_key("")
            && ["h1", "h3", "h4"]
                .iter()
                .all(|n| h.get(*n).is_some_and(|k| *k >= units / 3 - 1))
    })
    .await;
    let status = spawn(&cli(&["status"]), &logs.path().join("status2.log"));
    let status = status.wait_with_output().unwrap();
    assert!(status.status.success());
    for mut h in [h1, h3, h4] {
        signal(&h, "TERM");
        assert!(h.wait().unwrap().success(), "a host failed");
    }
    let log = |name: &str| std::fs::read_to_string(logs.path().join(name)).unwrap();
    assert!(
        log("h1.log").contains("lost"),
        "the paused host did not notice it lost its units:\n{}",
        log("h1.log")
    );
    for line in log("h1.log").lines().filter(|l| l.contains("lost")) {
        println!("h1: {line}");
    }
    let status = log("status2.log");
    for name in ["h1", "h3", "h4"] {
        assert!(
            status.contains(&format!("units: host {name}: ")),
            "{status}"
        );
    }
    // After the clean stops every unit is free again.
    assert_eq!(holders(&t.db).await.get(""), Some(&units));

    support::assert_all_applied(&t.db, &following).await;
    support::assert_equals_clean_replay(Store::Postgres, &t.db, FAMILIES, &events, 50).await;
    println!(
        "{} events, {units} units: failover after a SIGKILL in {:.2} s (lease {LEASE_SECS} s), a joining host had its share in {:.2} s",
        events.len(),
        failover.as_secs_f64(),
        joined.as_secs_f64()
    );
    t.finish().await;
}

/// An apply checks its units' leases: refused once the lease expired and
/// another host took the unit, accepted for the new holder; a joining host
/// gets its share as the holder gives back what is over it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_refuses_the_apply_on_postgres() {
    let t = support::test_db(Store::Postgres).await;
    let families = vec!["orgs".to_owned()];
    let ttl = Duration::from_millis(400);
    let a = Leaser::new("a", ttl);
    a.register(&t.db, &families).await.unwrap();
    let held = a.renew(&t.db).await.unwrap();
    let held_a = a.balance(&t.db, held).await.unwrap();
    assert_eq!(held_a.len(), PARTS as usize);
    let share_a = Share::of("a", &held_a).remove("orgs").unwrap();
    let tokens = share_a.tokens_of(["t1", "t2"].into_iter());
    let mut tx = t.db.begin().await.unwrap();
    lease::check(&mut tx, "a", "orgs", &tokens).await.unwrap();
    tx.rollback().await.unwrap();

    // a stalls past its lease; b takes every unit.
    tokio::time::sleep(ttl + Duration::from_millis(200)).await;
    let b = Leaser::new("b", Duration::from_secs(30));
    b.register(&t.db, &families).await.unwrap();
    let held = b.renew(&t.db).await.unwrap();
    let held_b = b.balance(&t.db, held).await.unwrap();
    assert_eq!(held_b.len(), PARTS as usize);
    let mut tx = t.db.begin().await.unwrap();
    match lease::check(&mut tx, "a", "orgs", &tokens).await {
        Err(StoreError::LeaseLost { family, .. }) => assert_eq!(family, "orgs"),
        other => panic!("a stale lease was let through: {other:?}"),
    }
    tx.rollback().await.unwrap();
    let share_b = Share::of("b", &held_b).remove("orgs").unwrap();
    let mut tx = t.db.begin().await.unwrap();
    lease::check(
        &mut tx,
        "b",
        "orgs",
        &share_b.tokens_of(["t1", "t2"].into_iter()),
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    // The tokens grew with the change of owner.
    for lease in &held_b {
        let before = held_a.iter().find(|l| l.part == lease.part).unwrap();
        assert_eq!(lease.token, before.token + 1);
    }

    // a comes back: nothing is renewed; two live hosts share the units.
    let a = Leaser::new("a", Duration::from_secs(30));
    assert_eq!(a.renew(&t.db).await.unwrap(), Vec::new());
    let held_a = a.balance(&t.db, Vec::new()).await.unwrap();
    assert!(
        held_a.is_empty(),
        "every unit is b's, unexpired: {held_a:?}"
    );
    let held_b = b
        .balance(&t.db, b.renew(&t.db).await.unwrap())
        .await
        .unwrap();
    assert_eq!(held_b.len(), PARTS as usize / 2);
    let held_a = a
        .balance(&t.db, a.renew(&t.db).await.unwrap())
        .await
        .unwrap();
    assert_eq!(held_a.len(), PARTS as usize / 2);
    let parts = |held: &[lease::Lease]| held.iter().map(|l| l.part).collect::<BTreeSet<_>>();
    assert!(parts(&held_a).is_disjoint(&parts(&held_b)));
    t.finish().await;
}
