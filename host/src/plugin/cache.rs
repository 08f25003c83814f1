//! Compiled plugins cached by content hash, so a restart does not recompile.
//!
//! Loading a compiled artefact runs native code, so the cache loads only
//! artefacts this host wrote. Beside each `<sha256>-<engine>.cwasm` lies
//! `<sha256>-<engine>.cwasm.mac`: HMAC-SHA256 over the plugin's SHA-256 and
//! the artefact's bytes, keyed with the cache's own random key
//! ([`KEY_FILE`], 32 bytes, created once with mode 0600). An artefact is
//! deserialized from exactly the bytes that verified. One that does not
//! verify (changed, written for another component, copied from another
//! cache, tagged under a lost key) or has no tag is recompiled and
//! overwritten, with a warning naming the file. A key file that is missing,
//! of the wrong size, not a regular file or open to other users is replaced
//! by a new key, which retires every artefact tagged under the old one.
//!
//! `<engine>` is SHA-256 of the cache format, this host's version and
//! wasmtime's compatibility hash (its version, target and every compilation
//! setting): stable across builds of one host version and configuration,
//! unlike `DefaultHasher`.

use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::PluginError;

/// The key file in the cache directory.
pub const KEY_FILE: &str = "cache.key";
/// Bytes of the key.
const KEY_LEN: usize = 32;
/// Names the artefact and tag layout; part of the fingerprint and the tag.
const FORMAT: &str = "projector-cwasm-v1";

type HmacSha256 = Hmac<Sha256>;

/// SHA-256 of a plugin's bytes, hex.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A [`Hasher`] that feeds SHA-256, for fingerprints that stay the same
/// across processes and builds (unlike `DefaultHasher`).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// The engine part of an artefact's name (16 hex digits).
pub fn engine_fingerprint(engine: &Engine) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    hasher.write(FORMAT.as_bytes());
    hasher.write(env!("CARGO_PKG_VERSION").as_bytes());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let mut fingerprint = hex::encode(hasher.0.finalize());
    fingerprint.truncate(16);
    fingerprint
}

fn artefact_path(engine: &Engine, dir: &Path, hash: &str) -> PathBuf {
    dir.join(format!("{hash}-{}.cwasm", engine_fingerprint(engine)))
}

/// Where an artefact's tag lives.
pub fn tag_path(artefact: &Path) -> PathBuf {
    let mut name = artefact.as_os_str().to_owned();
    name.push(".mac");
    PathBuf::from(name)
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
    let compile = || {
        Component::new(engine, bytes).map_err(|e| PluginError::Invalid {
            path: path.to_owned(),
            message: format!("{e:#}"),
        })
    };
    let Some(dir) = cache_dir else {
        return Ok((compile()?, Origin::Compiled));
    };
    let key = match private_dir(dir).and_then(|()| cache_key(dir)) {
        Ok(key) => key,
        Err(e) => {
            tracing::warn!(cache = %dir.display(), "compile cache unusable, compiling without it: {e}");
            return Ok((compile()?, Origin::Compiled));
        }
    };
    let artefact = artefact_path(engine, dir, hash);
    if let Some(component) = load_verified(engine, &key, hash, &artefact) {
        return Ok((component, Origin::Cached));
    }
    let component = compile()?;
    // A cache that cannot be written only costs a recompile next time.
    if let Err(e) = store(&key, hash, &component, &artefact) {
        tracing::debug!(file = %artefact.display(), "compiled plugin not cached: {e}");
    }
    Ok((component, Origin::Compiled))
}

/// The cached artefact, if there is one that verifies and loads.
fn load_verified(
    engine: &Engine,
    key: &[u8; KEY_LEN],
    hash: &str,
    artefact: &Path,
) -> Option<Component> {
    let bytes = match std::fs::read(artefact) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(file = %artefact.display(), "cannot read compiled plugin, recompiling: {e}");
            return None;
        }
    };
    let tag = std::fs::read_to_string(tag_path(artefact)).unwrap_or_default();
    if !verify(key, hash, &bytes, tag.trim()) {
        tracing::warn!(
            file = %artefact.display(),
            "compiled plugin does not verify against this cache's key (changed, foreign or untagged); \
             not loading it, recompiling"
        );
        return None;
    }
    match deserialize(engine, &bytes) {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!(file = %artefact.display(), "compiled plugin does not load, recompiling: {e:#}");
            None
        }
    }
}

fn mac(key: &[u8; KEY_LEN], hash: &str, bytes: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; a 32-byte key cannot be refused.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(FORMAT.as_bytes());
    mac.update(&[0]);
    mac.update(hash.as_bytes());
    mac.update(&[0]);
    mac.update(bytes);
    mac
}

/// Whether `tag` (hex) is this cache's tag of `bytes` for component `hash`.
fn verify(key: &[u8; KEY_LEN], hash: &str, bytes: &[u8], tag: &str) -> bool {
    match hex::decode(tag) {
        Ok(tag) => mac(key, hash, bytes).verify_slice(&tag).is_ok(),
        Err(_) => false,
    }
}

/// Write the artefact, then its tag, each through a temporary file.
fn store(
    key: &[u8; KEY_LEN],
    hash: &str,
    component: &Component,
    artefact: &Path,
) -> Result<(), String> {
    let serialized = component.serialize().map_err(|e| format!("{e:#}"))?;
    let tag = hex::encode(mac(key, hash, &serialized).finalize().into_bytes());
    replace_file(artefact, &serialized).map_err(|e| e.to_string())?;
    replace_file(&tag_path(artefact), tag.as_bytes()).map_err(|e| e.to_string())
}

/// Replace `path` with `bytes` atomically (write a private temporary file,
/// then rename it over).
fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = private_file(&tmp)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A new file only its owner may read and write.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

/// Create the cache directory (only its owner may enter) if it is missing.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// The cache's key: the stored one if it is sound, else a new one.
fn cache_key(dir: &Path) -> std::io::Result<[u8; KEY_LEN]> {
    let path = dir.join(KEY_FILE);
    match read_key(&path) {
        Ok(Some(key)) => Ok(key),
        Ok(None) => new_key(&path, false),
        Err(problem) => {
            tracing::warn!(
                file = %path.display(),
                "compile cache key {problem}; replacing it (every cached plugin is recompiled)"
            );
            new_key(&path, true)
        }
    }
}

/// The stored key; `None` when there is none; `Err` says why it is unusable.
fn read_key(path: &Path) -> Result<Option<[u8; KEY_LEN]>, String> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot be read: {e}")),
    };
    if !metadata.file_type().is_file() {
        return Err("is not a regular file".into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if metadata.permissions().mode() & 0o077 != 0 {
            return Err("is open to other users (it must be mode 0600)".into());
        }
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    let key: [u8; KEY_LEN] = bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("has {} bytes, not {KEY_LEN}", b.len()))?;
    Ok(Some(key))
}

/// Make a key and store it with mode 0600. A new key is published with a
/// hard link, so two processes creating it at once agree on the winner's;
/// `replace` renames it over an unusable one.
fn new_key(path: &Path, replace: bool) -> std::io::Result<[u8; KEY_LEN]> {
    let mut key = [0u8; KEY_LEN];
    getrandom::getrandom(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written =
        private_file(&tmp).and_then(|mut file| file.write_all(&key).and_then(|()| file.sync_all()));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if replace {
        return std::fs::rename(&tmp, path).map(|()| key);
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match read_key(path) {
            Ok(Some(theirs)) => Ok(theirs),
            Ok(None) => Err(std::io::Error::other("the key file vanished")),
            Err(problem) => Err(std::io::Error::other(format!("key file {problem}"))),
        },
        Err(e) => Err(e),
    }
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, verified: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `verified` carries this cache's HMAC over exactly these bytes
    // and this component's SHA-256, under a key only this host's user can
    // read: it is what `Component::serialize` of this host wrote for this
    // component. wasmtime also checks the header against the engine's
    // settings.
    unsafe { Component::deserialize(engine, verified) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_bind_key_component_and_bytes() {
        let key = [7u8; KEY_LEN];
        let tag = hex::encode(mac(&key, "aa", b"artefact").finalize().into_bytes());
        assert!(verify(&key, "aa", b"artefact", &tag));
        assert!(!verify(&key, "bb", b"artefact", &tag), "another component");
        assert!(!verify(&key, "aa", b"artefacT", &tag), "other bytes");
        assert!(
            !verify(&[8u8; KEY_LEN], "aa", b"artefact", &tag),
            "other key"
        );
        assert!(!verify(&key, "aa", b"artefact", ""), "no tag");
        assert!(!verify(&key, "aa", b"artefact", "zz"), "not hex");
    }

    #[test]
    fn the_engine_fingerprint_is_stable() {
        let engine = Engine::default();
        let fingerprint = engine_fingerprint(&engine);
        assert_eq!(fingerprint.len(), 16);
        assert_eq!(fingerprint, engine_fingerprint(&Engine::default()));
        let mut config = wasmtime::Config::new();
        config.consume_fuel(true);
        let other = Engine::new(&config).expect("engine");
        assert_ne!(fingerprint, engine_fingerprint(&other));
    }

    #[test]
    fn a_key_is_created_private_and_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = cache_key(dir.path()).expect("key");
        assert_eq!(cache_key(dir.path()).expect("key"), key);
        let path = dir.path().join(KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            // A key others can read is replaced.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            assert_ne!(cache_key(dir.path()).expect("key"), key);
        }
        std::fs::write(&path, b"short").expect("write");
        assert!(read_key(&path).is_err());
        assert!(cache_key(dir.path()).is_ok());
    }
}
