//! Refusals of the moment (a deadlock, a serialization failure, a lock not
//! granted in time, a busy SQLite file) run the batch again: no event is
//! recorded as failed for them, and the tables end as a clean replay's.

use std::time::Duration;

use host::runtime::{self, Control, ReplayOptions};
use host::store::transient::is_transient;
use host::store::{Db, StoreError, state};
use serde_json::Value as Json;
use sqlx::Connection as _;

use crate::support::{self, Store};

const FAMILIES: &[&str] = &["instances", "orgs"];

fn stream() -> Vec<Json> {
    support::unpositioned_stream(23, 3, 400)
}

fn pool(db: &Db) -> &sqlx::PgPool {
    match db {
        Db::Postgres(pool) => pool,
        Db::Sqlite(_) => unreachable!("these tests run on PostgreSQL"),
    }
}

/// A trigger on `orgs_projection` that refuses the first `refusals`
/// statements writing it, cycling through a deadlock, a serialization
/// failure and a lock timeout (a sequence counts them: it is not rolled
/// back with the refused transaction).
async fn refuse_writes(db: &Db, refusals: i64) {
    for statement in [
        "CREATE SEQUENCE refusals".to_owned(),
        format!(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ \
             DECLARE n BIGINT := nextval('refusals'); BEGIN \
               IF n <= {refusals} THEN \
                 RAISE EXCEPTION 'refused for the moment (%)', n \
                   USING ERRCODE = (ARRAY['40P01', '40001', '55P03'])[1 + n % 3]; \
               END IF; \
               RETURN NULL; \
             END $$"
        ),
        "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE OR DELETE ON orgs_projection \
         FOR EACH STATEMENT EXECUTE FUNCTION refuse()"
            .to_owned(),
    ] {
        sqlx::query(&statement)
            .execute(pool(db))
            .await
            .expect("trigger set up");
    }
}

async fn refusals_so_far(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT last_value FROM refusals")
        .fetch_one(pool(db))
        .await
        .expect("sequence readable")
}

/// A batch refused for the moment runs again, on the fast path (`careful`
/// false) and event by event inside savepoints (`careful` true).
async fn refused_batches_run_again(careful: bool) {
    let t = support::test_db(Store::Postgres).await;
    let mut plugins = support::plugins(FAMILIES);
    // Install the tables, then make the first five writes of one refused.
    support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    refuse_writes(&t.db, 5).await;
    let events = stream();
    for chunk in events.chunks(100) {
        support::import_json(&t.db, chunk).await;
    }
    let control = Control {
        statement_per_event: careful,
        ..Control::default()
    };
    let options = ReplayOptions {
        batch_size: 150,
        ..ReplayOptions::default()
    };
    let reports = support::replay_controlled(&t.db, &mut plugins, options, control).await;
    assert!(
        refusals_so_far(&t.db).await > 5,
        "every refusal was met, and the writes after them went through"
    );
    assert!(reports.iter().all(|r| r.n_failed == 0), "{reports:?}");
    support::assert_all_applied(&t.db, &plugins).await;
    // The trigger refuses nothing any more; the clean replay has none.
    support::assert_equals_clean_replay(Store::Postgres, &t.db, FAMILIES, &events, 100).await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_batches_run_again_on_the_fast_path() {
    refused_batches_run_again(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_events_run_again_inside_their_savepoints() {
    refused_batches_run_again(true).await;
}

/// A refusal that does not clear ends the replay with the database's error
/// after the last try: no event is recorded as failed, nothing is applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_that_lasts_ends_the_replay_and_fails_no_event() {
    let t = support::test_db(Store::Postgres).await;
    let mut plugins = support::plugins(&["orgs"]);
    support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    refuse_writes(&t.db, i64::MAX).await;
    support::import_json(&t.db, &stream()).await;
    let error = runtime::replay(
        &t.db,
        &mut plugins,
        &ReplayOptions::default(),
        &runtime::Quiet,
    )
    .await
    .expect_err("every try is refused");
    let runtime::RuntimeError::Store(error) = error else {
        panic!("a store error, not {error:?}");
    };
    assert!(error.is_transient(), "{error}");
    assert!(
        refusals_so_far(&t.db).await >= 8,
        "it was tried again before it gave up"
    );
    assert_eq!(state::failures(&t.db).await.unwrap(), Vec::new());
    assert_eq!(support::consumed(&t.db).await.values().sum::<i64>(), 0);
    t.finish().await;
}

/// Real refusals of both databases are told apart from refusals of a
/// statement's content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_lock_conflicts_are_transient_and_content_errors_are_not() {
    // SQLite: a second writer finds the file locked.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("busy.db").display());
    let mut first = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let mut second = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("PRAGMA busy_timeout = 0")
        .execute(&mut second)
        .await
        .unwrap();
    for statement in [
        "CREATE TABLE t (id INTEGER PRIMARY KEY)",
        "BEGIN IMMEDIATE",
        "INSERT INTO t VALUES (1)",
    ] {
        sqlx::query(statement).execute(&mut first).await.unwrap();
    }
    let busy = sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut second)
        .await
        .expect_err("the file is locked");
    assert!(is_transient(&busy), "{busy}");
    let duplicate = sqlx::query("INSERT INTO t VALUES (1)")
        .execute(&mut first)
        .await
        .expect_err("a duplicate key");
    assert!(!is_transient(&duplicate), "{duplicate}");

    // PostgreSQL: a real deadlock and a real lock timeout.
    let t = support::test_db(Store::Postgres).await;
    let pool = pool(&t.db);
    for statement in [
        "CREATE TABLE locks (id INT PRIMARY KEY)",
        "INSERT INTO locks VALUES (1), (2)",
    ] {
        sqlx::query(statement).execute(pool).await.unwrap();
    }
    let (mut a, mut b) = (pool.begin().await.unwrap(), pool.begin().await.unwrap());
    let lock = |id: i32| format!("SELECT id FROM locks WHERE id = {id} FOR UPDATE");
    sqlx::query(&lock(1)).execute(&mut *a).await.unwrap();
    sqlx::query(&lock(2)).execute(&mut *b).await.unwrap();
    let (second_of_a, first_of_b) = (lock(2), lock(1));
    let (ra, rb) = tokio::join!(sqlx::query(&second_of_a).execute(&mut *a), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        sqlx::query(&first_of_b).execute(&mut *b).await
    });
    let deadlock = ra.err().or(rb.err()).expect("one of the two is the victim");
    assert!(is_transient(&deadlock), "{deadlock}");
    drop((a, b));

    let mut holder = pool.begin().await.unwrap();
    sqlx::query(&lock(1)).execute(&mut *holder).await.unwrap();
    let mut waiter = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL lock_timeout = '50ms'")
        .execute(&mut *waiter)
        .await
        .unwrap();
    let timeout = sqlx::query(&lock(1))
        .execute(&mut *waiter)
        .await
        .expect_err("the row stays locked");
    assert!(is_transient(&timeout), "{timeout}");
    drop((holder, waiter));

    let duplicate = sqlx::query("INSERT INTO locks VALUES (1)")
        .execute(pool)
        .await
        .expect_err("a duplicate key");
    assert!(!is_transient(&duplicate), "{duplicate}");
    assert!(!StoreError::Db(duplicate).is_transient());
    t.finish().await;
}

/// `run` outlasts a refusal that outlasts a batch's tries: the batch is
/// tried again next round, and every event applies once, none failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_tries_a_long_refused_batch_again_next_round() {
    use host::runtime::follow::{FollowOptions, follow};
    let t = support::test_db(Store::Postgres).await;
    let mut plugins = support::plugins(FAMILIES);
    support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    // More refusals in a row than one batch tries.
    let tries = host::store::transient::Retry::default().attempts;
    refuse_writes(&t.db, i64::from(tries) + 3).await;
    let events = stream();
    support::import_json(&t.db, &events).await;
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let follower = {
        let db = t.db.clone();
        tokio::spawn(async move {
            let mut plugins = support::plugins(FAMILIES);
            let options = FollowOptions {
                poll_interval: Duration::from_millis(10),
                ..FollowOptions::default()
            };
            follow(&db, &mut plugins, &options, stop_rx, None, &runtime::Quiet).await
        })
    };
    let started = std::time::Instant::now();
    while crate::live::behind(&t.db, &plugins).await > 0 {
        assert!(
            !follower.is_finished(),
            "the follower stopped: {follower:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(60), "still behind");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).unwrap();
    follower
        .await
        .unwrap()
        .expect("the follower ends without an error");
    assert!(refusals_so_far(&t.db).await > i64::from(tries) + 3);
    support::assert_all_applied(&t.db, &plugins).await;
    support::assert_equals_clean_replay(Store::Postgres, &t.db, FAMILIES, &events, events.len())
        .await;
    t.finish().await;
}
