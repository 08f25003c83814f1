//! The workspace's family crates: the members whose manifest says
//! `[package.metadata.projector] family = true`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use serde_json::Value as Json;

/// The names of the family crates of the workspace at `root`, sorted.
pub(crate) fn find(root: &Path) -> Result<Vec<String>> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .context("cannot run cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let metadata: Json =
        serde_json::from_slice(&out.stdout).context("cargo metadata printed no JSON")?;
    let mut names = families(&metadata);
    if names.is_empty() {
        bail!("no workspace member is a family ([package.metadata.projector] family = true)");
    }
    names.sort();
    Ok(names)
}

/// The family packages of `cargo metadata` output.
fn families(metadata: &Json) -> Vec<String> {
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["metadata"]["projector"]["family"] == Json::Bool(true))
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::{families, find};

    #[test]
    fn finds_the_family_crates_of_this_workspace() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let found = find(root).unwrap();
        for family in ["instances", "orgs", "user_grants", "users"] {
            assert!(found.iter().any(|f| f == family), "{family} in {found:?}");
        }
        for other in ["projection-sdk", "hostile", "orgs_v2", "host"] {
            assert!(!found.iter().any(|f| f == other), "{other} in {found:?}");
        }
    }

    #[test]
    fn only_packages_marked_as_families_count() {
        let metadata = json!({"packages": [
            {"name": "orgs", "metadata": {"projector": {"family": true}}},
            {"name": "host", "metadata": null},
            {"name": "hostile", "metadata": {"projector": {"family": false}}},
            {"name": "other", "metadata": {"other": {"family": true}}},
        ]});
        assert_eq!(families(&metadata), ["orgs"]);
    }
}
