//! Run a generated stream through the families natively, the way the
//! host does: each event goes to every family that subscribes to its
//! (aggregate type, event type), with look-ups over the tenant's earlier
//! events; every mutation is scoped and checked by
//! `projection_sdk::validate::scope` and then applied to in-memory tables,
//! which refuse what the database would (a duplicate primary key, a row of
//! a sub-table without its parent row).

use std::collections::{BTreeMap, HashMap};

use projection_sdk::time::parse_rfc3339;
use projection_sdk::validate::scope;
use projection_sdk::{
    Context, Description, Event, EventFilter, Family, Lookup, Mutation, ProjectionError,
};
use serde_json::Value;

mod store;

use store::Store;

/// A family compiled into the test.
pub(crate) struct Native {
    /// Its description.
    pub(crate) description: Description,
    handle: fn(&Event, &Context<'_>) -> Result<Vec<Mutation>, ProjectionError>,
}

fn native<F: Family>() -> Native {
    Native {
        description: F::describe(),
        handle: F::handle,
    }
}

/// The families, in the order the host lists them.
pub(crate) fn families() -> Vec<Native> {
    vec![
        native::<instances::Instances>(),
        native::<orgs::Orgs>(),
        native::<users::Users>(),
        native::<user_grants::UserGrants>(),
        native::<policies::Policies>(),
        native::<limits::Limits>(),
        native::<sessions::Sessions>(),
        native::<idps::Idps>(),
        native::<system::System>(),
    ]
}

/// Every (aggregate type, event type) the families subscribe to.
pub(crate) fn subscribed(families: &[Native]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = families
        .iter()
        .flat_map(|f| f.description.subscriptions.iter())
        .flat_map(|s| {
            s.event_types
                .iter()
                .map(|t| (s.aggregate_type.clone(), t.clone()))
        })
        .collect();
    pairs.sort();
    pairs.dedup();
    pairs
}

/// What running a stream gave.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Handler errors, one line each.
    pub(crate) errors: Vec<String>,
    /// Mutations `validate::scope` refused.
    pub(crate) rejections: Vec<String>,
    /// Mutations the tables refused.
    pub(crate) conflicts: Vec<String>,
    /// How often each subscribed (aggregate type, event type) reached a
    /// family.
    pub(crate) handled: BTreeMap<(String, String), usize>,
    /// Rows left in the tables, per table.
    pub(crate) rows: BTreeMap<String, usize>,
}

/// An import line as the event the host stores.
pub(crate) fn event(line: &Value) -> Event {
    let text = |key: &str| line[key].as_str().unwrap_or_default().to_owned();
    let position = match &line["position"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let number = |key: &str| line[key].as_i64().expect("an integer field");
    Event {
        position,
        in_tx_order: u32::try_from(number("in_tx_order")).expect("in_tx_order fits"),
        instance_id: text("instance_id"),
        aggregate_type: text("aggregate_type"),
        aggregate_id: text("aggregate_id"),
        event_type: text("event_type"),
        sequence: number("sequence"),
        revision: i16::try_from(number("revision")).expect("revision fits"),
        created_at: line["created_at"]
            .as_str()
            .and_then(parse_rfc3339)
            .expect("created_at is RFC 3339"),
        payload: match &line["payload"] {
            Value::Null => None,
            payload => Some(payload.to_string()),
        },
        creator: text("creator"),
        owner: text("owner"),
    }
}

/// Look-ups over the tenant's events before the current one.
struct Prior<'a>(&'a [Event]);

impl Lookup for Prior<'_> {
    fn find_events(&self, filter: &EventFilter) -> Vec<Event> {
        self.0
            .iter()
            .filter(|e| filter.matches(e))
            .cloned()
            .collect()
    }
}

/// Run `lines` through `families`.
pub(crate) fn run(families: &[Native], lines: &[Value]) -> Outcome {
    let descriptions: Vec<Description> = families.iter().map(|f| f.description.clone()).collect();
    let mut store = Store::new(&descriptions);
    let mut outcome = Outcome::default();
    let mut by_tenant: HashMap<String, Vec<Event>> = HashMap::new();
    for (n, line) in lines.iter().enumerate() {
        let event = event(line);
        let prior = by_tenant.entry(event.instance_id.clone()).or_default();
        let lookup = Prior(prior);
        let ctx = Context::new(&lookup);
        let at = format!(
            "line {}: {} {} ({})",
            n + 1,
            event.event_type,
            event.aggregate_id,
            event.instance_id
        );
        for family in families {
            let d = &family.description;
            if !d.wants(&event.aggregate_type, &event.event_type) {
                continue;
            }
            let pair = (event.aggregate_type.clone(), event.event_type.clone());
            *outcome.handled.entry(pair).or_default() += 1;
            let mutations = match (family.handle)(&event, &ctx) {
                Ok(mutations) => mutations,
                Err(error) => {
                    outcome.errors.push(format!("{at}: {}: {error}", d.name));
                    continue;
                }
            };
            let mut scoped = Vec::new();
            let mut refused = false;
            for mutation in mutations {
                match scope(d, &event, mutation) {
                    Ok(m) => scoped.push(m),
                    Err(r) => {
                        refused = true;
                        outcome.rejections.push(format!("{at}: {}: {r}", d.name));
                    }
                }
            }
            if refused {
                continue;
            }
            for mutation in &scoped {
                if let Err(refused) = store.apply(mutation) {
                    outcome
                        .conflicts
                        .push(format!("{at}: {}: {refused}", d.name));
                }
            }
        }
        prior.push(event);
    }
    outcome.rows = store.counts();
    outcome
}
