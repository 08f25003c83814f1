//! `run --metrics-addr`: the figures move as batches apply and events fail,
//! `/readyz` follows the lag, `/livez` the loop, other paths are refused.
//! Scraped over a plain TCP connection, as Prometheus and probes do.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use host::metrics::{Metrics, MetricsOptions, Server};
use host::runtime::follow::{FollowOptions, follow_measured};
use host::runtime::{self, Quiet};
use host::store::{Db, state};
use serde_json::{Value as Json, json};
use tokio::sync::watch;

use crate::support::{self, Store};

/// An HTTP/1.1 answer: status and body.
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
}

/// Send `request` (its head, without the final empty line) and read the
/// answer until the server closes.
pub(crate) async fn send(addr: SocketAddr, request: &str) -> Answer {
    let request = format!("{request}\r\nHost: test\r\n\r\n");
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        Answer {
            status,
            body: body.to_owned(),
        }
    })
    .await
    .unwrap()
}

/// `GET path`.
pub(crate) async fn get(addr: SocketAddr, path: &str) -> Answer {
    send(addr, &format!("GET {path} HTTP/1.1")).await
}

/// The samples of a scrape of `/metrics`: `name{labels}` to value.
pub(crate) async fn scrape(addr: SocketAddr) -> BTreeMap<String, f64> {
    let answer = get(addr, "/metrics").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer
        .body
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            let value = match value {
                "+Inf" => f64::INFINITY,
                v => v.parse().unwrap(),
            };
            (name.to_owned(), value)
        })
        .collect()
}

/// A sample's value (`NaN` when absent).
pub(crate) fn value(samples: &BTreeMap<String, f64>, name: &str, family: &str) -> f64 {
    samples
        .get(&format!("{name}{{family=\"{family}\"}}"))
        .copied()
        .unwrap_or(f64::NAN)
}

/// Scrape until `holds` is true of the samples (at most 20 s).
pub(crate) async fn wait_for(
    addr: SocketAddr,
    what: &str,
    holds: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> BTreeMap<String, f64> {
    let started = Instant::now();
    loop {
        let samples = scrape(addr).await;
        if holds(&samples) {
            return samples;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "waited 20 s for {what}; last scrape: {samples:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Wait until `path` answers `status`.
pub(crate) async fn wait_for_status(addr: SocketAddr, path: &str, status: u16) -> Answer {
    let started = Instant::now();
    loop {
        let answer = get(addr, path).await;
        if answer.status == status {
            return answer;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{path} still answers {}: {}",
            answer.status,
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Metrics refreshed every 50 ms, served on a free local port.
pub(crate) async fn served(ready_max_lag_events: u64) -> (Metrics, host::metrics::Serving) {
    let metrics = Metrics::new(MetricsOptions {
        ready_max_lag_events,
        lag_refresh: Duration::from_millis(50),
    });
    let server = Server::bind("127.0.0.1:0").await.unwrap();
    let serving = server.serve(metrics.clone());
    (metrics, serving)
}

/// `run`'s loop with metrics, until `stop`.
pub(crate) async fn follower(
    db: &Db,
    names: &[&str],
    metrics: &Metrics,
    stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let mut plugins = support::plugins(names);
    let options = FollowOptions {
        batch_size: 50,
        poll_interval: Duration::from_millis(20),
        ..FollowOptions::default()
    };
    follow_measured(
        db,
        &mut plugins,
        &options,
        stop,
        None,
        &Quiet,
        Some(metrics),
    )
    .await
    .map_err(|e| e.to_string())
}

fn event(tenant: &str, aggregate: &str, id: &str, event_type: &str) -> Json {
    json!({
        "instance_id": tenant, "aggregate_type": aggregate, "aggregate_id": id,
        "event_type": event_type, "owner": tenant, "payload": {"name": id}
    })
}

async fn metrics_follow_the_run(store: Store) {
    let t = support::test_db(store).await;
    let (metrics, serving) = served(0).await;
    let addr = serving.local_addr();
    assert_eq!(get(addr, "/livez").await.status, 503, "no loop yet");
    let (stop, stop_rx) = watch::channel(false);
    let work = async {
        wait_for_status(addr, "/livez", 200).await;
        support::import_json(
            &t.db,
            &[
                event("t1", "org", "o1", "org.added"),
                event("t1", "org", "o2", "org.added"),
                event("t1", "hostile", "h", "hostile.ok"),
            ],
        )
        .await;
        let applied = wait_for(addr, "every event applied and no lag", |s| {
            value(s, "projector_events_applied_total", "orgs") == 2.0
                && value(s, "projector_events_applied_total", "hostile") == 1.0
                && value(s, "projector_lag_events", "orgs") == 0.0
                && value(s, "projector_lag_events", "hostile") == 0.0
        })
        .await;
        assert_eq!(
            value(&applied, "projector_events_failed_total", "hostile"),
            0.0
        );
        assert_eq!(value(&applied, "projector_stuck_tenants", "hostile"), 0.0);
        assert_eq!(value(&applied, "projector_lag_seconds", "orgs"), 0.0);
        assert_eq!(value(&applied, "projector_family_paused", "orgs"), 0.0);
        assert!(value(&applied, "projector_batch_apply_seconds_count", "orgs") >= 1.0);
        let inf = "projector_batch_apply_seconds_bucket{family=\"orgs\",le=\"+Inf\"}";
        assert_eq!(
            applied[inf],
            value(&applied, "projector_batch_apply_seconds_count", "orgs")
        );
        assert!(
            applied
                .keys()
                .any(|k| k.starts_with("projector_plugin_info{family=\"hostile\",version=\"")),
            "{applied:#?}"
        );
        let ready = wait_for_status(addr, "/readyz", 200).await;
        assert_eq!(ready.body, "ready\n");

        // An event that fails stops its tenant: counted, stuck, lagging.
        support::import_json(&t.db, &[event("t2", "hostile", "h", "hostile.error")]).await;
        let failed = wait_for(
            addr,
            "the failed event counted and its tenant lagging",
            |s| {
                value(s, "projector_events_failed_total", "hostile") >= 1.0
                    && value(s, "projector_stuck_tenants", "hostile") == 1.0
                    && value(s, "projector_lag_events", "hostile") == 1.0
            },
        )
        .await;
        assert!(value(&failed, "projector_lag_seconds", "hostile") > 0.0);
        assert_eq!(
            value(&failed, "projector_events_applied_total", "hostile"),
            1.0
        );
        let lagging = wait_for_status(addr, "/readyz", 503).await;
        assert_eq!(lagging.body, "hostile lags 1 events (ready at most 0)\n");
        let text = get(addr, "/metrics").await.body;
        eprintln!(
            "scrape with a stuck tenant:\n{}",
            text.lines()
                .filter(|l| l.contains("family=\"hostile\"") && !l.contains("_bucket"))
                .collect::<Vec<_>>()
                .join("\n")
        );

        // Paths and methods that are not served.
        assert_eq!(get(addr, "/nope").await.status, 404);
        assert_eq!(send(addr, "POST /metrics HTTP/1.1").await.status, 405);
        assert_eq!(send(addr, "GET /metrics").await.status, 400);
        assert_eq!(get(addr, "/livez").await.status, 200);

        // Skipping the failed event catches the family up: ready again.
        let id = state::failures(&t.db).await.unwrap()[0].id;
        runtime::skip_failed(&t.db, id, "tester").await.unwrap();
        wait_for(addr, "no lag and no stuck tenant after the skip", |s| {
            value(s, "projector_lag_events", "hostile") == 0.0
                && value(s, "projector_stuck_tenants", "hostile") == 0.0
        })
        .await;
        wait_for_status(addr, "/readyz", 200).await;
        stop.send(true).unwrap();
    };
    let (followed, ()) = tokio::join!(
        follower(&t.db, &["orgs", "hostile"], &metrics, stop_rx),
        work
    );
    followed.unwrap();
    let stopped = get(addr, "/livez").await;
    assert_eq!(
        (stopped.status, stopped.body.as_str()),
        (503, "the follow loop is not running\n")
    );
    assert_eq!(get(addr, "/readyz").await.status, 503);
    drop(serving);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follow_the_run_on_sqlite() {
    metrics_follow_the_run(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follow_the_run_on_postgres() {
    metrics_follow_the_run(Store::Postgres).await;
}

/// A request head over the size limit is refused with 431.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_request_is_refused() {
    let (_metrics, serving) = served(0).await;
    let long = format!("GET /metrics HTTP/1.1\r\nX-Filler: {}", "a".repeat(10_000));
    assert_eq!(send(serving.local_addr(), &long).await.status, 431);
}

/// A client that starts a request and sends no more is answered 408 once
/// the read timeout passes, and the server goes on serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_stalls_times_out() {
    let (_metrics, serving) = served(0).await;
    let addr = serving.local_addr();
    let started = std::time::Instant::now();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: te")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(get(addr, "/livez").await.status, 503);
}
