//! Compiled plugins cached by content hash, so a restart does not recompile.
//!
//! The artefact name joins the plugin's SHA-256 and a fingerprint of the
//! engine's compilation settings; an artefact that no longer loads is
//! recompiled and replaced.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::PluginError;

/// SHA-256 of a plugin's bytes, hex.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn artefact_path(engine: &Engine, dir: &Path, hash: &str) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    dir.join(format!("{hash}-{:016x}.cwasm", hasher.finish()))
}

/// Whether the component came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Compiled now.
    Compiled,
    /// Loaded from a cached artefact.
    Cached,
}

/// Load a compiled component from `cache_dir`, or compile and store it.
pub fn load_component(
    engine: &Engine,
    cache_dir: Option<&Path>,
    bytes: &[u8],
    hash: &str,
    path: &Path,
) -> Result<(Component, Origin), PluginError> {
    let invalid = |e: wasmtime::Error| PluginError::Invalid {
        path: path.to_owned(),
        message: format!("{e:#}"),
    };
    let Some(dir) = cache_dir else {
        return Ok((
            Component::new(engine, bytes).map_err(invalid)?,
            Origin::Compiled,
        ));
    };
    let artefact = artefact_path(engine, dir, hash);
    if artefact.exists()
        && let Ok(component) = deserialize(engine, &artefact)
    {
        return Ok((component, Origin::Cached));
    }
    let component = Component::new(engine, bytes).map_err(invalid)?;
    if let Ok(serialized) = component.serialize() {
        // A cache that cannot be written only costs a recompile next time.
        let _ = std::fs::create_dir_all(dir).and_then(|()| {
            let tmp = artefact.with_extension(format!("tmp{}", std::process::id()));
            std::fs::write(&tmp, serialized)?;
            std::fs::rename(&tmp, &artefact)
        });
    }
    Ok((component, Origin::Compiled))
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, artefact: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the artefact was written by `Component::serialize` of this
    // host into the host's own cache directory, named by the plugin's content
    // hash and the engine's compatibility fingerprint; wasmtime checks the
    // header and refuses artefacts of other engine settings.
    unsafe { Component::deserialize_file(engine, artefact) }
}
