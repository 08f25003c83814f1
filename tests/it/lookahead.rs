//! Look-ups answered ahead, in a few queries per batch, give what one
//! query per look-up gives: for the store's query on varied stores and
//! look-ups, for a plugin whose look-ups change from call to call or
//! depend on earlier answers, and for whole replays of a realistic stream.

use host::plugin::{LookupCounts, LookupSource, Plugin};
use host::runtime::{Control, ReplayOptions};
use host::source::{self, BatchQuery, MAX_LOOKUP_EVENTS};
use projection_sdk::{Event, EventFilter};
use serde_json::{Value as Json, json};

use crate::support::{self, Store};

/// A small deterministic generator (xorshift).
struct Draw(u64);

impl Draw {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

const TENANTS: &[&str] = &["a", "b", "c"];
const TYPES: &[&str] = &["user", "project"];
const IDS: &[&str] = &["x0", "x1", "x2", "x3", "x4", "x5"];
const EVENT_TYPES: &[&str] = &["thing.added", "thing.changed", "thing.removed"];

/// Events over three tenants, two aggregate types and six ids, several to a
/// position (ties broken by `in_tx_order`, and some not even by that).
fn store_events(draw: &mut Draw, n: usize) -> Vec<Json> {
    (0..n)
        .map(|i| {
            json!({
                "instance_id": draw.pick(TENANTS),
                "aggregate_type": draw.pick(TYPES),
                "aggregate_id": draw.pick(IDS),
                "event_type": draw.pick(EVENT_TYPES),
                "owner": "o",
                "payload": {"i": i},
                "created_at": "2026-02-01T10:00:00Z",
                "position": 10 + i / 4,
                "in_tx_order": (i % 4) / 2,
            })
        })
        .collect()
}

/// A look-up as a plugin would make it: ids (none, one, some, repeated,
/// unknown ones), event types (none means any) of one aggregate type.
fn filter(draw: &mut Draw) -> EventFilter {
    let ids = ["x0", "x1", "x2", "x3", "x4", "x5", "nobody"];
    let n_ids = draw.below(4);
    let aggregate_ids = (0..n_ids).map(|_| draw.pick(&ids).to_owned()).collect();
    let n_types = draw.below(3);
    EventFilter {
        aggregate_type: draw.pick(&["user", "project", "none"]).to_owned(),
        aggregate_ids,
        event_types: (0..n_types)
            .map(|_| draw.pick(EVENT_TYPES).to_owned())
            .collect(),
    }
}

/// The stored events of these types (up to 10,000), in global order.
async fn stored(
    db: &host::store::Db,
    aggregate_types: &[&str],
    event_types: &[&str],
) -> Vec<Event> {
    let owned = |names: &[&str]| -> Vec<String> { names.iter().map(|n| (*n).to_owned()).collect() };
    source::read_batch(
        db,
        &BatchQuery {
            aggregate_types: &owned(aggregate_types),
            event_types: &owned(event_types),
            instance_id: None,
            skip_instances: &[],
            after: None,
            limit: 10_000,
            below: None,
        },
    )
    .await
    .unwrap()
    .events
}

/// What a look-up must find, worked out from the stored events: those of
/// `before`'s tenant that pass `filter` and come before it, in order.
fn truth(events: &[Event], before: &Event, filter: &EventFilter) -> Vec<Event> {
    events
        .iter()
        .filter(|e| e.instance_id == before.instance_id && filter.matches(e))
        .filter(|e| host::event_order::cmp_global(e, before).is_lt())
        .cloned()
        .collect()
}

/// On varied stores and look-ups, each answer ahead is the answer of
/// [`source::find_events`]; only look-ups without ids go unanswered; and
/// with a small cap, a query finding more answers none of its look-ups.
async fn answers_ahead_equal_answers_one_by_one(store: Store) {
    for seed in [7_u64, 1_234_567, 987_654_321] {
        let t = support::test_db(store).await;
        let mut draw = Draw(seed);
        support::import_json(&t.db, &store_events(&mut draw, 600)).await;
        let events = stored(&t.db, TYPES, EVENT_TYPES).await;
        assert_eq!(events.len(), 600);
        let filters: Vec<EventFilter> = (0..400).map(|_| filter(&mut draw)).collect();
        let lookups: Vec<(&Event, &EventFilter)> = filters
            .iter()
            .map(|f| (&events[draw.below(events.len())], f))
            .collect();
        let mut expected = Vec::new();
        for (before, filter) in &lookups {
            let found = source::find_events(&t.db, before, filter).await.unwrap();
            assert_eq!(
                found,
                truth(&events, before, filter),
                "{filter:?}, seed {seed}"
            );
            expected.push(found);
        }
        let ahead = source::find_events_ahead(&t.db, &lookups, MAX_LOOKUP_EVENTS)
            .await
            .unwrap();
        let mut non_empty = 0;
        for (n, ((_, filter), answer)) in lookups.iter().zip(&ahead).enumerate() {
            match answer {
                Some(found) => {
                    assert_eq!(found, &expected[n], "look-up {n}: {filter:?}, seed {seed}");
                    non_empty += usize::from(!found.is_empty());
                }
                None => assert!(filter.aggregate_ids.is_empty(), "{filter:?} unanswered"),
            }
        }
        assert!(non_empty > 50, "too few look-ups find events: {non_empty}");
        // A cap of 4 events a query: the queries that find more answer none
        // of their look-ups, the others answer truthfully.
        let capped = source::find_events_ahead(&t.db, &lookups, 4).await.unwrap();
        let mut refused = 0;
        for (n, answer) in capped.iter().enumerate() {
            match answer {
                Some(found) => assert_eq!(found, &expected[n], "look-up {n} with a cap"),
                None => refused += 1,
            }
        }
        let without_ids = filters
            .iter()
            .filter(|f| f.aggregate_ids.is_empty())
            .count();
        assert!(refused > without_ids, "the cap refused nothing");
        t.finish().await;
    }
}

/// Many look-ups of one kind (the members of a busy batch looking up their
/// users) are cut into several queries that run side by side: every
/// answer is still the stored truth, whatever query it came from.
async fn many_look_ups_of_one_kind_are_answered_truthfully(store: Store) {
    let t = support::test_db(store).await;
    let mut draw = Draw(42);
    support::import_json(&t.db, &store_events(&mut draw, 900)).await;
    let events = stored(&t.db, TYPES, EVENT_TYPES).await;
    assert_eq!(events.len(), 900);
    let filters: Vec<EventFilter> = (0..700)
        .map(|_| EventFilter {
            aggregate_type: "user".to_owned(),
            aggregate_ids: vec![draw.pick(IDS).to_owned(), draw.pick(IDS).to_owned()],
            event_types: vec!["thing.added".to_owned(), "thing.removed".to_owned()],
        })
        .collect();
    let lookups: Vec<(&Event, &EventFilter)> = filters
        .iter()
        .map(|f| (&events[draw.below(events.len())], f))
        .collect();
    let ahead = source::find_events_ahead(&t.db, &lookups, MAX_LOOKUP_EVENTS)
        .await
        .unwrap();
    let mut found_some = 0;
    for (n, ((before, filter), answer)) in lookups.iter().zip(&ahead).enumerate() {
        let answer = answer
            .as_ref()
            .unwrap_or_else(|| panic!("look-up {n} unanswered"));
        assert_eq!(answer, &truth(&events, before, filter), "look-up {n}");
        found_some += usize::from(!answer.is_empty());
    }
    assert!(
        found_some > 500,
        "too few look-ups find events: {found_some}"
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_look_ups_of_one_kind_are_answered_truthfully_on_sqlite() {
    many_look_ups_of_one_kind_are_answered_truthfully(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_look_ups_of_one_kind_are_answered_truthfully_on_postgres() {
    many_look_ups_of_one_kind_are_answered_truthfully(Store::Postgres).await;
}

/// On an event store projector created, look-ups go through the look-up
/// index (tenant, aggregate, event type), not the primary key: counted by
/// the server once the connections that made them have closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn look_ups_read_through_the_look_up_index_on_postgres() {
    let t = support::test_db(Store::Postgres).await;
    assert_eq!(
        host::store::lookup_index::collate(&t.db),
        host::store::lookup_index::COLLATE
    );
    // Enough events, counted, that the planner reads through an index.
    let mut draw = Draw(5);
    let mut many = store_events(&mut draw, 20_000);
    for (i, event) in many.iter_mut().enumerate() {
        event["aggregate_id"] = json!(format!("x{}", i % 2_000));
    }
    support::import_json(&t.db, &many).await;
    if let host::store::Db::Postgres(pool) = &t.db {
        sqlx::query("ANALYZE eventstore.events2")
            .execute(pool)
            .await
            .unwrap();
    }
    let events = stored(&t.db, TYPES, EVENT_TYPES).await;
    let filter = EventFilter {
        aggregate_type: "project".to_owned(),
        aggregate_ids: vec!["x1".to_owned(), "x4".to_owned()],
        event_types: vec!["thing.changed".to_owned()],
    };
    let lookups: Vec<(&Event, &EventFilter)> = events
        .iter()
        .rev()
        .take(100)
        .map(|e| (e, &filter))
        .collect();
    let ahead = source::find_events_ahead(&t.db, &lookups, MAX_LOOKUP_EVENTS)
        .await
        .unwrap();
    for ((before, filter), answer) in lookups.iter().zip(&ahead) {
        assert_eq!(answer.as_ref().unwrap(), &truth(&events, before, filter));
    }
    let one = source::find_events(&t.db, lookups[0].0, &filter)
        .await
        .unwrap();
    assert_eq!(one, truth(&events, lookups[0].0, &filter));
    // A connection reports what it did when it ends: close them, then
    // wait for their ends to be counted.
    t.db.close().await;
    let pool = sqlx::PgPool::connect(&t.url).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let scans = loop {
        let scans: i64 = sqlx::query_scalar(
            "SELECT COALESCE(sum(idx_scan), 0)::bigint FROM pg_stat_user_indexes \
             WHERE schemaname = 'eventstore' AND indexrelname = 'events2_lookup'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if scans >= 2 || std::time::Instant::now() > deadline {
            break scans;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    pool.close().await;
    assert!(scans >= 2, "the look-up index was scanned {scans} times");
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_ahead_equal_answers_one_by_one_on_sqlite() {
    answers_ahead_equal_answers_one_by_one(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_ahead_equal_answers_one_by_one_on_postgres() {
    answers_ahead_equal_answers_one_by_one(Store::Postgres).await;
}

fn event(tenant: &str, aggregate_type: &str, id: &str, event_type: &str) -> Json {
    json!({
        "instance_id": tenant, "aggregate_type": aggregate_type, "aggregate_id": id,
        "event_type": event_type, "owner": tenant, "payload": {},
        "created_at": "2026-02-01T10:00:00Z"
    })
}

/// The hostile family's batch of `event_type` events, each after one more
/// `bulk` event of aggregate `b{i % 3}`.
async fn interleaved(db: &host::store::Db, event_type: &str, n: usize) -> Vec<Event> {
    let mut events = Vec::new();
    for i in 0..n {
        events.push(event("t", "bulk", &format!("b{}", i % 3), "bulk.added"));
        events.push(event("t", "hostile", &format!("h{i}"), event_type));
    }
    support::import_json(db, &events).await;
    stored(db, &["hostile"], &[event_type]).await
}

/// `bulk` events of aggregate `b{k % 3}` before the `i`-th hostile event.
fn bulk_before(i: usize, k: usize) -> usize {
    (0..=i).filter(|j| j % 3 == k % 3).count()
}

/// Each outcome's `n`.
fn ns(outcomes: &[host::plugin::Outcome]) -> Vec<usize> {
    outcomes
        .iter()
        .map(|o| match o.as_ref().unwrap().as_slice() {
            [projection_sdk::Mutation::Insert { values, .. }] => {
                let n = values.iter().find(|c| c.column == "n").unwrap();
                match &n.value {
                    projection_sdk::Value::Int(n) => usize::try_from(*n).unwrap(),
                    other => panic!("n is {other:?}"),
                }
            }
            other => panic!("unexpected mutations {other:?}"),
        })
        .collect()
}

fn handle(
    plugin: &mut Plugin,
    batch: &[Event],
    db: &host::store::Db,
) -> Vec<host::plugin::Outcome> {
    tokio::task::block_in_place(|| plugin.handle(batch, LookupSource::Store(db.clone()))).unwrap()
}

/// A plugin whose look-ups change at every call (it counts its calls)
/// gets the answers to the look-ups of the call, not of the probe before
/// it; one whose second look-up depends on the first gets both ahead.
async fn answers_ahead_follow_the_calls_look_ups(store: Store) {
    let t = support::test_db(store).await;
    let mut plugins = support::plugins(&["hostile"]);
    let plugin = &mut plugins[0];
    let batch = interleaved(&t.db, "hostile.lookup_shifting", 30).await;
    assert_eq!(batch.len(), 30);
    for call in 0..3 {
        for (i, n) in ns(&handle(plugin, &batch, &t.db)).into_iter().enumerate() {
            let (k, found) = (n / 1000, n % 1000);
            assert_eq!(found, bulk_before(i, k), "call {call}, event {i}, k {k}");
        }
    }
    let counts = plugin.lookup_counts();
    assert_eq!(counts.ahead + counts.one_by_one, 90, "{counts:?}");

    let t2 = support::test_db(store).await;
    let mut plugins = support::plugins(&["hostile"]);
    let plugin = &mut plugins[0];
    let batch = interleaved(&t2.db, "hostile.lookup_chain", 30).await;
    let expected: Vec<usize> = (0..30)
        .map(|i| {
            let first = bulk_before(i, 0);
            first * 1000 + bulk_before(i, first % 3)
        })
        .collect();
    // Both look-ups of every event, the second chosen by the first's
    // answer, are answered ahead: on the first call, as the event type is
    // new, and on the next, as it looked events up.
    for call in 1..=2 {
        assert_eq!(ns(&handle(plugin, &batch, &t2.db)), expected);
        assert_eq!(
            plugin.lookup_counts(),
            LookupCounts {
                ahead: 60 * call,
                one_by_one: 0
            }
        );
    }
    // One event alone is not probed.
    assert_eq!(ns(&handle(plugin, &batch[7..8], &t2.db)), expected[7..8]);
    assert_eq!(plugin.lookup_counts().one_by_one, 2);
    t.finish().await;
    t2.finish().await;
}

/// A plugin that panics when a look-up finds nothing traps in every
/// probe: its look-ups are made one by one, with the same outcomes.
async fn a_probe_that_traps_leaves_the_look_ups_to_the_call(store: Store) {
    let t = support::test_db(store).await;
    let mut plugins = support::plugins(&["hostile"]);
    let plugin = &mut plugins[0];
    let batch = interleaved(&t.db, "hostile.lookup_or_panic", 10).await;
    let expected: Vec<usize> = (0..10).map(|i| bulk_before(i, 0)).collect();
    for call in 1..=2 {
        assert_eq!(ns(&handle(plugin, &batch, &t.db)), expected);
        assert_eq!(
            plugin.lookup_counts(),
            LookupCounts {
                ahead: 0,
                one_by_one: 10 * call
            }
        );
    }
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_that_traps_leaves_the_look_ups_to_the_call_on_sqlite() {
    a_probe_that_traps_leaves_the_look_ups_to_the_call(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_that_traps_leaves_the_look_ups_to_the_call_on_postgres() {
    a_probe_that_traps_leaves_the_look_ups_to_the_call(Store::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_ahead_follow_the_calls_look_ups_on_sqlite() {
    answers_ahead_follow_the_calls_look_ups(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_ahead_follow_the_calls_look_ups_on_postgres() {
    answers_ahead_follow_the_calls_look_ups(Store::Postgres).await;
}

/// A replay of a realistic stream answers most look-ups ahead, and leaves
/// the tables a replay with one query per look-up leaves.
async fn a_replay_answers_look_ups_ahead_to_the_same_tables(store: Store) {
    let names = ["instances", "orgs", "projects", "user_grants", "users"];
    let events = support::unpositioned_stream(11, 4, 4000);
    let ahead = support::test_db(store).await;
    let one_by_one = support::test_db(store).await;
    support::import_json(&ahead.db, &events).await;
    support::import_json(&one_by_one.db, &events).await;
    let mut fast = support::plugins(&names);
    support::replay(&ahead.db, &mut fast, ReplayOptions::default()).await;
    let mut plain = support::plugins(&names);
    support::replay_controlled(
        &one_by_one.db,
        &mut plain,
        ReplayOptions::default(),
        Control {
            statement_per_event: true,
            ..Control::default()
        },
    )
    .await;
    assert_eq!(
        support::dump_all(&ahead.db, &fast).await,
        support::dump_all(&one_by_one.db, &plain).await
    );
    support::assert_all_applied(&ahead.db, &fast).await;
    let total = |plugins: &[Plugin]| {
        let mut sum = LookupCounts::default();
        for plugin in plugins {
            sum += plugin.lookup_counts();
        }
        sum
    };
    let (fast, plain) = (total(&fast), total(&plain));
    assert_eq!(plain.ahead, 0);
    assert_eq!(fast.ahead + fast.one_by_one, plain.one_by_one);
    assert!(
        fast.ahead > 4 * fast.one_by_one,
        "too few look-ups answered ahead: {fast:?}"
    );
    ahead.finish().await;
    one_by_one.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_answers_look_ups_ahead_to_the_same_tables_on_sqlite() {
    a_replay_answers_look_ups_ahead_to_the_same_tables(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_answers_look_ups_ahead_to_the_same_tables_on_postgres() {
    a_replay_answers_look_ups_ahead_to_the_same_tables(Store::Postgres).await;
}
