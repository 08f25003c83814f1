//! Project automation, run as `cargo xtask <task>`.
//!
//! - `plugins`: build the family plugins (the workspace members marked
//!   `[package.metadata.projector] family = true`) for `wasm32-wasip2` and
//!   install them in `.projector/plugins/`, where `projector` looks by
//!   default.
//! - `demo`: `plugins`, build the host, then import the sample stream into a
//!   fresh `.projector/projector.db`, project it and print what it built.
//! - `sample FILE [TENANTS] [ORGS]`: write a larger deterministic stream of
//!   the demo's shape (default 100 tenants with 20 orgs each).
//! - `stream FILE [EVENTS] [TENANTS] [SEED]`: write a deterministic,
//!   realistic stream of every family's events (`streams` crate;
//!   default 3000 events, 20 tenants, seed 1).
//! - `conformance [DIR]`: refresh the vendored conformance cases (and apply
//!   `tests/conformance/errata.json`) in
//!   `tests/conformance/` from a directory of case files (default
//!   `../shared/conformance`, beside the repository).
//! - `new-family NAME`: create the family crate `plugins/NAME` (one table,
//!   one handler, a test) and add it to the workspace members.

mod errata;
mod families;
mod new_family;
mod sample;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

const TARGET: &str = "wasm32-wasip2";

fn main() -> Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask lives in the workspace")?
        .to_owned();
    match task.as_str() {
        "plugins" => plugins(&root),
        "demo" => demo(&root),
        "sample" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let out = args
                .first()
                .context("usage: cargo xtask sample FILE [TENANTS] [ORGS]")?;
            let number = |i: usize, default: usize| -> Result<usize> {
                args.get(i).map_or(Ok(default), |a| {
                    a.parse().with_context(|| format!("not a number: {a}"))
                })
            };
            let n = sample::write(Path::new(out), number(1, 100)?, number(2, 20)?)?;
            println!("wrote {n} events to {out}");
            Ok(())
        }
        "stream" => stream(),
        "conformance" => conformance(&root),
        "new-family" => new_family(&root),
        _ => bail!(
            "usage: cargo xtask <plugins|demo|sample FILE [TENANTS] [ORGS]|stream FILE [EVENTS] [TENANTS] [SEED]|conformance [DIR]|new-family NAME>"
        ),
    }
}

/// `cargo xtask new-family NAME`.
fn new_family(root: &Path) -> Result<()> {
    let name = std::env::args()
        .nth(2)
        .context("usage: cargo xtask new-family NAME")?;
    for file in new_family::generate(root, &name)? {
        println!("wrote {}", file.display());
    }
    println!(
        "added plugins/{name} to the workspace members; next: cargo test -p {name}, \
         cargo build --release --target {TARGET} -p {name}"
    );
    Ok(())
}

/// `cargo xtask stream FILE [EVENTS] [TENANTS] [SEED]`.
fn stream() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let out = args
        .first()
        .context("usage: cargo xtask stream FILE [EVENTS] [TENANTS] [SEED]")?;
    let defaults = streams::Config::default();
    let config = streams::Config {
        events: number(&args, 1, defaults.events)?,
        tenants: number(&args, 2, defaults.tenants)?,
        seed: number(&args, 3, defaults.seed)?,
    };
    let n = streams::write_jsonl(&config, Path::new(out))
        .with_context(|| format!("cannot write {out}"))?;
    println!("wrote {n} events to {out}");
    Ok(())
}

/// `cargo xtask conformance [DIR]`: copy every case file (`*.jsonl`) and
/// the README of DIR into `tests/conformance/`, replacing what is there,
/// then apply the corrections of `tests/conformance/errata.json`.
fn conformance(root: &Path) -> Result<()> {
    let from = std::env::args()
        .nth(2)
        .map_or_else(|| root.join("../shared/conformance"), PathBuf::from);
    let to = root.join("tests/conformance");
    let entries = std::fs::read_dir(&from)
        .with_context(|| format!("cannot read the case files in {}", from.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.ends_with(".jsonl") || name == "README.md" {
            files.push(path);
        }
    }
    if !files
        .iter()
        .any(|f| f.extension().is_some_and(|e| e == "jsonl"))
    {
        bail!("{} holds no case files (*.jsonl)", from.display());
    }
    for old in std::fs::read_dir(&to).with_context(|| format!("cannot read {}", to.display()))? {
        let old = old?.path();
        if old.extension().is_some_and(|e| e == "jsonl") {
            std::fs::remove_file(&old)
                .with_context(|| format!("cannot remove {}", old.display()))?;
        }
    }
    for file in &files {
        let name = file.file_name().context("a file has a name")?;
        std::fs::copy(file, to.join(name))
            .with_context(|| format!("cannot copy {}", file.display()))?;
    }
    println!(
        "copied {} files from {} to {}",
        files.len(),
        from.display(),
        to.display()
    );
    if let Some(errata) = errata::Errata::read(&to)? {
        let n = errata.apply(&to)?;
        println!("applied {n} corrections of tests/conformance/errata.json");
    }
    Ok(())
}

/// The number in `args[i]`, or `default` when there is none.
fn number<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> Result<T> {
    match args.get(i) {
        None => Ok(default),
        Some(a) => a.parse().ok().with_context(|| format!("not a number: {a}")),
    }
}

fn run(command: &mut Command) -> Result<()> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root);
    command
}

/// Add the WASM target when rustup manages the toolchain and lacks it.
fn ensure_target() -> Result<()> {
    let Ok(out) = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
    else {
        return Ok(());
    };
    if !String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == TARGET)
    {
        run(Command::new("rustup").args(["target", "add", TARGET]))?;
    }
    Ok(())
}

fn plugins(root: &Path) -> Result<()> {
    ensure_target()?;
    let families = families::find(root)?;
    let mut build = cargo(root);
    build.args(["build", "--release", "--target", TARGET]);
    for family in &families {
        build.args(["-p", family]);
    }
    run(&mut build)?;
    let dir = root.join(".projector/plugins");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for family in &families {
        let built = target_dir(root).join(format!("{TARGET}/release/{family}.wasm"));
        let installed = dir.join(format!("{family}.wasm"));
        std::fs::copy(&built, &installed).with_context(|| {
            format!("cannot copy {} to {}", built.display(), installed.display())
        })?;
        println!("installed {}", installed.display());
    }
    Ok(())
}

fn demo(root: &Path) -> Result<()> {
    plugins(root)?;
    run(cargo(root).args(["build", "--release", "-p", "host"]))?;
    let projector: PathBuf = target_dir(root).join("release/projector");
    for stale in ["projector.db", "projector.db-wal", "projector.db-shm"] {
        let path = root.join(".projector").join(stale);
        if path.exists() {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    let step = |args: &[&str]| -> Result<()> {
        println!("\n$ projector {}", args.join(" "));
        let mut command = Command::new(&projector);
        command
            .current_dir(root)
            .env_remove("DATABASE_URL")
            .args(args);
        run(&mut command)
    };
    step(&["events", "import", "samples/demo.jsonl"])?;
    step(&["replay"])?;
    step(&["status"])?;
    step(&[
        "show",
        "instances_projection",
        "orgs_projection",
        "org_domains_projection",
        "org_members_projection",
        "users_projection",
        "login_names_projection",
        "projects_projection",
        "project_roles_projection",
        "apps_projection",
        "apps_oidc_configs_projection",
    ])?;
    println!("\nNext: target/release/projector check tests/conformance/instance.jsonl");
    Ok(())
}
