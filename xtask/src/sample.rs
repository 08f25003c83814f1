//! `cargo xtask sample`: a deterministic, larger event stream of the same
//! shape as `samples/demo.jsonl`, for measuring replay throughput.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::{Value, json};

struct Stream {
    lines: String,
    n_events: u64,
    tenant_sequences: std::collections::HashMap<String, i64>,
}

impl Stream {
    fn push(
        &mut self,
        tenant: &str,
        aggregate: (&str, &str),
        event_type: &str,
        payload: Value,
        owner: &str,
    ) -> Result<()> {
        let key = format!("{tenant}/{}/{}", aggregate.0, aggregate.1);
        let sequence = self.tenant_sequences.entry(key).or_insert(0);
        *sequence += 1;
        let n = self.n_events;
        let seconds = 1_767_603_600 + n;
        let event = json!({
            "instance_id": tenant, "aggregate_type": aggregate.0, "aggregate_id": aggregate.1,
            "event_type": event_type, "sequence": *sequence, "revision": 1,
            "created_at": format!("2026-01-05T{:02}:{:02}:{:02}Z", 9 + (n / 3600) % 14, (n / 60) % 60, n % 60),
            "payload": payload, "creator": "system", "owner": owner,
            "position": format!("{seconds}.{:06}", n % 1_000_000), "in_tx_order": 1,
        });
        writeln!(self.lines, "{event}")?;
        self.n_events += 1;
        Ok(())
    }
}

/// Write a stream of `tenants` tenants with `orgs` orgs each to `out`.
pub(crate) fn write(out: &Path, tenants: usize, orgs: usize) -> Result<u64> {
    let mut s = Stream {
        lines: String::new(),
        n_events: 0,
        tenant_sequences: Default::default(),
    };
    for t in 0..tenants {
        let tenant = format!("tenant-{t:04}");
        let inst = ("instance", tenant.as_str());
        let domain = format!("{tenant}.example.com");
        s.push(
            &tenant,
            inst,
            "instance.added",
            json!({"name": format!("Tenant {t}")}),
            &tenant,
        )?;
        s.push(
            &tenant,
            inst,
            "instance.domain.added",
            json!({"domain": domain, "generated": false}),
            &tenant,
        )?;
        s.push(
            &tenant,
            inst,
            "instance.domain.primary.set",
            json!({"domain": domain}),
            &tenant,
        )?;
        s.push(
            &tenant,
            ("feature", &tenant),
            "feature.instance.login_default_org.set",
            json!({"Value": true}),
            &tenant,
        )?;
        for o in 0..orgs {
            let org = format!("{tenant}-org-{o:03}");
            let agg = ("org", org.as_str());
            let org_domain = format!("org{o}.{domain}");
            let user = format!("{org}-admin");
            s.push(
                &tenant,
                agg,
                "org.added",
                json!({"name": format!("Org {o}")}),
                &org,
            )?;
            s.push(
                &tenant,
                agg,
                "org.domain.added",
                json!({"domain": org_domain}),
                &org,
            )?;
            s.push(
                &tenant,
                agg,
                "org.domain.verified",
                json!({"domain": org_domain}),
                &org,
            )?;
            s.push(
                &tenant,
                agg,
                "org.domain.primary.set",
                json!({"domain": org_domain}),
                &org,
            )?;
            s.push(
                &tenant,
                agg,
                "org.metadata.set",
                json!({"key": "tier", "value": "Z29sZA=="}),
                &org,
            )?;
            s.push(
                &tenant,
                ("user", &user),
                "user.human.added",
                json!({"userName": user}),
                &org,
            )?;
            s.push(
                &tenant,
                agg,
                "org.member.added",
                json!({"userId": user, "roles": ["ORG_OWNER"]}),
                &org,
            )?;
            s.push(
                &tenant,
                agg,
                "org.changed",
                json!({"name": format!("Org {o} renamed")}),
                &org,
            )?;
            if o % 10 == 9 {
                s.push(&tenant, agg, "org.removed", Value::Null, &org)?;
            }
        }
    }
    let mut file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    file.write_all(s.lines.as_bytes())?;
    Ok(s.n_events)
}
