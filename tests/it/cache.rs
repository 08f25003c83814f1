//! The compile cache loads only artefacts this host wrote for this
//! component: a changed, foreign or untagged artefact is recompiled and
//! overwritten, never run; a lost key retires every artefact.

use std::path::{Path, PathBuf};

use host::plugin::cache::{KEY_FILE, tag_path};
use host::plugin::{Limits, LookupSource, Origin, Plugin};
use projection_sdk::Event;

use crate::support;

fn load(name: &str, cache: &Path) -> Plugin {
    Plugin::load(
        &support::guests().wasm(name),
        Some(cache),
        Limits::default(),
    )
    .unwrap()
}

/// The one artefact of the component with this hash.
fn artefact(cache: &Path, hash: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.starts_with(hash) && name.ends_with(".cwasm")
        })
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found[0].clone()
}

/// The plugin is the real orgs family: its description and its handler.
fn behaves_as_orgs(plugin: &mut Plugin) {
    assert_eq!(plugin.family(), "orgs");
    let event = Event {
        position: "1.000000".into(),
        in_tx_order: 0,
        instance_id: "t".into(),
        aggregate_type: "org".into(),
        aggregate_id: "o".into(),
        event_type: "org.added".into(),
        sequence: 1,
        revision: 1,
        created_at: 0,
        payload: Some(r#"{"name":"Acme"}"#.into()),
        creator: "c".into(),
        owner: "t".into(),
    };
    let outcomes = plugin.handle(&[event], LookupSource::Nothing).unwrap();
    let mutations = outcomes[0].as_ref().unwrap();
    assert!(
        mutations.iter().any(|m| m.table() == "orgs_projection"),
        "{mutations:?}"
    );
}

#[test]
fn tampered_or_foreign_artefacts_are_recompiled_never_run() {
    let cache = tempfile::tempdir().unwrap();
    let cache = cache.path();
    let mut orgs = load("orgs", cache);
    assert_eq!(orgs.origin, Origin::Compiled);
    let path = artefact(cache, &orgs.hash);
    let written = std::fs::read(&path).unwrap();
    assert!(tag_path(&path).exists());
    behaves_as_orgs(&mut orgs);
    assert_eq!(load("orgs", cache).origin, Origin::Cached);

    // One flipped byte: refused, recompiled, the file rewritten.
    let mut tampered = written.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    std::fs::write(&path, &tampered).unwrap();
    let mut orgs = load("orgs", cache);
    assert_eq!(orgs.origin, Origin::Compiled);
    behaves_as_orgs(&mut orgs);
    assert_ne!(std::fs::read(&path).unwrap(), tampered);
    assert_eq!(load("orgs", cache).origin, Origin::Cached);

    // Another component's valid artefact and its valid tag in orgs' place:
    // the tag names the other component, so it is not run.
    let hostile = load("hostile", cache);
    let foreign = artefact(cache, &hostile.hash);
    let foreign_bytes = std::fs::read(&foreign).unwrap();
    std::fs::copy(&foreign, &path).unwrap();
    std::fs::copy(tag_path(&foreign), tag_path(&path)).unwrap();
    let mut orgs = load("orgs", cache);
    assert_eq!(orgs.origin, Origin::Compiled);
    behaves_as_orgs(&mut orgs);
    assert_ne!(std::fs::read(&path).unwrap(), foreign_bytes);

    // A missing tag: recompiled.
    std::fs::remove_file(tag_path(&path)).unwrap();
    assert_eq!(load("orgs", cache).origin, Origin::Compiled);
    assert_eq!(load("orgs", cache).origin, Origin::Cached);
}

#[test]
fn a_lost_key_is_regenerated_and_old_artefacts_recompiled() {
    let cache = tempfile::tempdir().unwrap();
    let cache = cache.path();
    let orgs = load("orgs", cache);
    assert_eq!(orgs.origin, Origin::Compiled);
    let key = cache.join(KEY_FILE);
    let old_key = std::fs::read(&key).unwrap();
    let path = artefact(cache, &orgs.hash);
    let old_tag = std::fs::read(tag_path(&path)).unwrap();

    std::fs::remove_file(&key).unwrap();
    let mut orgs = load("orgs", cache);
    assert_eq!(
        orgs.origin,
        Origin::Compiled,
        "an artefact of the old key ran"
    );
    behaves_as_orgs(&mut orgs);
    let new_key = std::fs::read(&key).unwrap();
    assert_eq!(new_key.len(), 32);
    assert_ne!(new_key, old_key);
    assert_ne!(std::fs::read(tag_path(&path)).unwrap(), old_tag);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(load("orgs", cache).origin, Origin::Cached);
}
