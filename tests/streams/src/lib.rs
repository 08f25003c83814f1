//! Deterministic, realistic event streams for the table families.
//!
//! [`generate`] writes the events of many tenants in one global order, as
//! `projector events import` reads them (the columns of `events2`, one JSON
//! object per line). A world model keeps them consistent: every event is
//! about something that exists, members and grants name users whose
//! creation events came before, and removed things get no further events,
//! except where real data has them (an org removed while its users remain,
//! after which those users are silent; a project membership the cascade of
//! its user's removal missed, removed later). What real data varies, the stream
//! varies: which optional payload fields an event carries, empty strings,
//! unicode in many scripts, quotes, backslashes, `$$`, values of a few KB,
//! NULL payloads for events without data, legacy event names, transactions
//! of one or many events, removals of parents before and after their
//! children. The same [`Config`] always gives the same stream: the random
//! source is a seeded splitmix64 written here, not a library. Transactions
//! start on 2026-02-02 and come seconds to minutes apart; a stream long
//! enough to run past 2026-10-01 has its times squeezed to end there, as a
//! host reads only events below its clock.
//!
//! | module | what it writes |
//! |---|---|
//! | `generator.rs` | the schedule interleaving the tenants |
//! | `world.rs` | the model of what exists |
//! | `stream.rs` | transactions, sequences, the import lines |
//! | `instances.rs` | `instance` and `feature` events (instances family) |
//! | `orgs.rs` | `org` events (orgs family) |
//! | `users.rs`, `users/` | `user` events (users family) |
//! | `user_grants.rs` | `usergrant` events (user grants family) |
//! | `projects.rs` | `project` events: projects and roles (projects family) |
//! | `project_grants.rs` | `project` events: grants to other orgs (projects family) |
//! | `project_members.rs` | `project` events: project and grant members (projects family) |
//! | `apps.rs` | `project` events: applications and their keys (apps family) |
//! | `app_configs.rs` | `project` events: API, OIDC and SAML configs (apps family) |
//! | `targets.rs` | `target` events the users family reads |
//! | `policies.rs`, `policies/` | `instance.policy.*` and `org.policy.*` events (policies family) |
//! | `limits.rs`, `limits/` | `milestone`, `quota` and `limits` events (limits family) |
//! | `sessions.rs`, `sessions/` | `session` and `auth_request` events (sessions family) |
//! | `idps.rs`, `idps/` | IdP events of the `instance`, `org` and `user` aggregates: templates, legacy configs, login policy and user links (idps family) |
//! | `system.rs` | `feature.system.*` events of the system tenant (system family) |
//! | `rng.rs`, `clock.rs`, `text.rs` | randomness, times, payload texts |
//!
//! A new family adds one module with its actions and lists them in
//! `generator.rs`.

use std::io::Write as _;
use std::path::Path;

use serde_json::Value;

mod app_configs;
mod apps;
mod clock;
mod generator;
mod idps;
mod instances;
mod limits;
mod orgs;
mod policies;
mod project_grants;
mod project_members;
mod projects;
mod rng;
mod sessions;
mod stream;
mod system;
mod targets;
mod text;
mod user_grants;
mod users;
mod world;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The seed of the random source: the same seed, the same stream.
    pub seed: u64,
    /// How many tenants (instances) the stream interleaves.
    pub tenants: usize,
    /// How many events to write.
    pub events: usize,
}

impl Default for Config {
    /// Seed 1, 20 tenants, 5000 events.
    fn default() -> Config {
        Config {
            seed: 1,
            tenants: 20,
            events: 5000,
        }
    }
}

/// The names of an import line's fields, in the order [`write_jsonl`]
/// writes them.
pub const FIELDS: [&str; 12] = stream::FIELDS;

/// Generate the stream: one JSON object per event with the fields of
/// [`FIELDS`], in global order. `sequence` counts per aggregate from 1;
/// `position` (decimal text) and `created_at` (RFC 3339) are shared by the
/// events of one transaction, whose `in_tx_order` counts from 1, and
/// increase from one transaction to the next.
///
/// Exactly `config.events` events (none when there are no tenants): the
/// first tenant is never removed, so the stream does not run dry.
pub fn generate(config: &Config) -> Vec<Value> {
    generator::Gen::run(config)
        .iter()
        .map(stream::Line::to_json)
        .collect()
}

/// Write the stream of `config` to `path` as JSON lines, the fields of each
/// line in the order of [`FIELDS`]; returns how many events were written.
pub fn write_jsonl(config: &Config, path: &Path) -> std::io::Result<usize> {
    let lines = generator::Gen::run(config);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for line in &lines {
        let Value::Object(fields) = line.to_json() else {
            continue;
        };
        out.write_all(b"{")?;
        for (i, name) in FIELDS.iter().enumerate() {
            if i > 0 {
                out.write_all(b", ")?;
            }
            let value = fields.get(*name).unwrap_or(&Value::Null);
            write!(out, "{}: {}", Value::from(*name), value)?;
        }
        out.write_all(b"}\n")?;
    }
    out.flush()?;
    Ok(lines.len())
}

/// The event types of `parts`, one after the other.
pub(crate) const fn concat<const N: usize>(parts: &[&[&'static str]]) -> [&'static str; N] {
    let mut out = [""; N];
    let (mut i, mut p) = (0, 0);
    while p < parts.len() {
        let mut j = 0;
        while j < parts[p].len() {
            out[i] = parts[p][j];
            i += 1;
            j += 1;
        }
        p += 1;
    }
    out
}
