//! Declared views, rendered by the host: the users family's
//! `login_names_projection` answers like the reference's view on both
//! stores, and a view the host cannot trust is refused before any SQL runs.

use host::store::{StoreError, ddl, dump};
use projection_sdk::{ColumnType, Description, Table, View};
use serde_json::{Value as Json, json};

use crate::support::{self, Store};

/// One event as the import format takes it; positions follow the call order.
struct Stream {
    events: Vec<Json>,
}

impl Stream {
    fn push(
        &mut self,
        tenant: &str,
        aggregate: (&str, &str),
        owner: &str,
        kind: &str,
        payload: Json,
    ) {
        let n = self.events.len() as i64 + 1;
        self.events.push(json!({
            "instance_id": tenant,
            "aggregate_type": aggregate.0,
            "aggregate_id": aggregate.1,
            "event_type": kind,
            "sequence": n,
            "revision": 1,
            "created_at": format!("2026-03-01T10:{:02}:{:02}Z", n / 60, n % 60),
            "payload": payload,
            "creator": "admin",
            "owner": owner,
            "position": 1_772_000_000 + n,
            "in_tx_order": 1,
        }));
    }

    fn human(&mut self, tenant: &str, org: &str, id: &str, user_name: &str) {
        let payload = json!({
            "userName": user_name,
            "firstName": "First",
            "lastName": "Last",
            "email": format!("{id}@mail.test"),
        });
        self.push(tenant, ("user", id), org, "user.human.added", payload);
    }

    fn org_event(&mut self, tenant: &str, org: &str, kind: &str, payload: Json) {
        self.push(tenant, ("org", org), org, kind, payload);
    }
}

/// Tenant t1: a default policy without domains; org A must use its two
/// verified domains (one primary, mixed case); org B must use domains but
/// has none verified; org C has no policy of its own; org D's policy is
/// removed. Tenant t2 reuses org and user ids under a default policy that
/// requires domains.
fn stream() -> Vec<Json> {
    let mut s = Stream { events: Vec::new() };
    let must = |b: bool| json!({ "userLoginMustBeDomain": b, "validateOrgDomains": true });
    s.push(
        "t1",
        ("instance", "t1"),
        "t1",
        "instance.policy.domain.added",
        must(false),
    );
    s.org_event("t1", "org-a", "org.policy.domain.added", must(true));
    s.org_event(
        "t1",
        "org-a",
        "org.domain.verified",
        json!({"domain": "A.Example.com"}),
    );
    s.org_event(
        "t1",
        "org-a",
        "org.domain.verified",
        json!({"domain": "second.example.com"}),
    );
    s.org_event(
        "t1",
        "org-a",
        "org.domain.added",
        json!({"domain": "unverified.example.com"}),
    );
    s.org_event(
        "t1",
        "org-a",
        "org.domain.primary.set",
        json!({"domain": "A.Example.com"}),
    );
    s.org_event("t1", "org-b", "org.policy.domain.added", must(true));
    s.org_event("t1", "org-d", "org.policy.domain.added", must(true));
    s.org_event(
        "t1",
        "org-d",
        "org.domain.verified",
        json!({"domain": "d.example.com"}),
    );
    s.human("t1", "org-a", "alice", "Alice");
    s.human("t1", "org-a", "dave", "dave");
    s.push(
        "t1",
        ("user", "dave"),
        "org-a",
        "user.username.changed",
        json!({"userName": "Dave2"}),
    );
    s.human("t1", "org-a", "eve", "eve");
    s.push("t1", ("user", "eve"), "org-a", "user.removed", json!({}));
    s.human("t1", "org-b", "bob", "bob");
    s.human("t1", "org-c", "carol", "Carol");
    s.human("t1", "org-d", "frank", "frank");
    s.org_event("t1", "org-d", "org.policy.domain.removed", json!({}));
    s.push(
        "t2",
        ("instance", "t2"),
        "t2",
        "instance.policy.domain.added",
        must(true),
    );
    s.org_event(
        "t2",
        "org-a",
        "org.domain.verified",
        json!({"domain": "t2.example.com"}),
    );
    s.human("t2", "org-a", "alice", "alice2");
    s.events
}

fn row(tenant: &str, org: &str, user: &str, name: &str, primary: bool) -> Json {
    json!({
        "instance_id": tenant,
        "resource_owner": org,
        "user_id": user,
        "login_name": name,
        "login_name_lower": name.to_lowercase(),
        "is_primary": primary,
    })
}

async fn login_names_answer_like_the_reference(store: Store) {
    let t = support::test_db(store).await;
    let mut plugins = support::plugins(&["users"]);
    support::import_json(&t.db, &stream()).await;
    support::replay(&t.db, &mut plugins, Default::default()).await;
    let users = &plugins[0].description;
    let shape = dump::relations(users)
        .unwrap()
        .into_iter()
        .find(|t| t.name == "login_names_projection")
        .expect("the users family declares the view");
    let mut actual: Vec<Json> = dump::dump_table(&t.db, &shape)
        .await
        .unwrap()
        .into_iter()
        .map(Json::Object)
        .collect();
    let mut expected = vec![
        row("t1", "org-a", "alice", "Alice@A.Example.com", true),
        row("t1", "org-a", "alice", "Alice@second.example.com", false),
        row("t1", "org-a", "dave", "Dave2@A.Example.com", true),
        row("t1", "org-a", "dave", "Dave2@second.example.com", false),
        row("t1", "org-b", "bob", "bob@", true),
        row("t1", "org-c", "carol", "Carol", true),
        row("t1", "org-d", "frank", "frank", true),
        // Verified but never made primary.
        row("t2", "org-a", "alice", "alice2@t2.example.com", false),
    ];
    let key = |r: &Json| r.to_string();
    actual.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(actual, expected);

    // The generated lower-case columns follow every rename.
    let users_table = users.find_table("login_names_users_projection").unwrap();
    let lowered: Vec<(Json, Json)> = dump::dump_table(&t.db, users_table)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r["user_name"].clone(), r["user_name_lower"].clone()))
        .collect();
    assert!(
        lowered.contains(&(json!("Dave2"), json!("dave2"))),
        "{lowered:?}"
    );

    // The expression indexes exist, as each store can express them.
    let defs = index_definitions(&t.db).await;
    let find = |name: &str| {
        defs.iter()
            .find(|(n, _)| n == name)
            .map(|(_, sql)| sql.to_lowercase())
            .unwrap_or_else(|| panic!("index {name} missing: {defs:?}"))
    };
    assert!(find("users_humans_projection_email_idx").contains("lower("));
    assert!(find("login_names_users_projection_search_idx").contains("user_name_lower"));
    let value = find("user_metadata_projection_value_idx");
    match store {
        Store::Postgres => assert!(value.contains("sha256(value)"), "{value}"),
        Store::Sqlite => assert!(value.contains("(\"value\")"), "{value}"),
    }
    t.finish().await;
}

/// (index name, definition) of every index in the store.
async fn index_definitions(db: &host::store::Db) -> Vec<(String, String)> {
    match db {
        host::store::Db::Sqlite(pool) => sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
        )
        .fetch_all(pool)
        .await
        .unwrap(),
        host::store::Db::Postgres(pool) => {
            sqlx::query_as("SELECT indexname::text, indexdef FROM pg_indexes")
                .fetch_all(pool)
                .await
                .unwrap()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_names_answer_like_the_reference_on_sqlite() {
    login_names_answer_like_the_reference(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_names_answer_like_the_reference_on_postgres() {
    login_names_answer_like_the_reference(Store::Postgres).await;
}

fn family_with(view: View) -> Description {
    Description::new("shapes", "1.0.0")
        .table(
            Table::new("shapes_projection")
                .column("instance_id", ColumnType::Text)
                .column("id", ColumnType::Text)
                .column("name", ColumnType::Text)
                .lower_of("name_lower", "name")
                .primary_key(&["instance_id", "id"]),
        )
        .view(view)
}

async fn untrusted_views_and_generated_columns_are_refused(store: Store) {
    let t = support::test_db(store).await;
    // A view reading another family's table.
    let mut v = View::new("shapes_view", "users_projection", "u");
    let tenant = v.column("u", "instance_id");
    v.output("instance_id", tenant);
    let err = ddl::install(&t.db, &family_with(v), "h").await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidView(_)), "{err}");
    assert!(err.to_string().contains("not owned by the family"), "{err}");

    // A view smuggling SQL through an alias.
    let mut v = View::new("shapes_view", "shapes_projection", "s\"; DROP TABLE x; --");
    let tenant = v.column("s", "instance_id");
    v.output("instance_id", tenant);
    let err = ddl::install(&t.db, &family_with(v), "h").await.unwrap_err();
    assert!(err.to_string().contains("not a plain identifier"), "{err}");

    // A generated column computed from a column that is not text.
    let mut bad = family_with(View::new("unused", "shapes_projection", "s"));
    bad.views.clear();
    bad.tables[0] = bad.tables[0]
        .clone()
        .column("rank", ColumnType::Int)
        .lower_of("rank_lower", "rank");
    let err = ddl::install(&t.db, &bad, "h").await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidTable { .. }), "{err}");

    // Nothing was created.
    let mut fine = family_with(View::new("unused", "shapes_projection", "s"));
    fine.views.clear();
    ddl::install(&t.db, &fine, "h").await.unwrap();
    assert!(
        dump::dump_table(&t.db, &fine.tables[0])
            .await
            .unwrap()
            .is_empty()
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_views_and_generated_columns_are_refused_on_sqlite() {
    untrusted_views_and_generated_columns_are_refused(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_views_and_generated_columns_are_refused_on_postgres() {
    untrusted_views_and_generated_columns_are_refused(Store::Postgres).await;
}

/// Text constants of a view come back exactly, quotes and backslashes
/// included.
async fn view_literals_round_trip(store: Store) {
    let t = support::test_db(store).await;
    let tricky = r"it's a \' back\slash \\ '' end";
    let mut v = View::new("shapes_view", "shapes_projection", "s");
    let tenant = v.column("s", "instance_id");
    let constant = v.literal(tricky);
    v.output("instance_id", tenant);
    v.output("constant", constant);
    let family = family_with(v);
    ddl::install(&t.db, &family, "h").await.unwrap();
    let insert = projection_sdk::insert("shapes_projection")
        .value("id", "a")
        .value("name", "Name")
        .build();
    let mut event = projection_sdk::testing::event("shape", "shape.added", None);
    event.instance_id = "t1".to_owned();
    let insert = projection_sdk::validate::scope(&family, &event, insert).unwrap();
    let statement =
        host::store::sql::render(t.db.dialect(), &family.tables[0], None, &insert).unwrap();
    t.db.execute(&statement).await.unwrap();
    let shape = dump::relations(&family).unwrap().pop().unwrap();
    let rows = dump::dump_table(&t.db, &shape).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["constant"], json!(tricky));
    let table = dump::dump_table(&t.db, &family.tables[0]).await.unwrap();
    assert_eq!(table[0]["name_lower"], json!("name"));
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_literals_round_trip_on_sqlite() {
    view_literals_round_trip(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_literals_round_trip_on_postgres() {
    view_literals_round_trip(Store::Postgres).await;
}
