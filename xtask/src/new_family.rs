//! `cargo xtask new-family NAME`: a new family crate in `plugins/NAME` with
//! one table, one handler and a passing test, added to the workspace.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

/// Create `plugins/NAME` under `root` and add it to the workspace members
/// of `root/Cargo.toml`; returns the files written.
pub(crate) fn generate(root: &Path, name: &str) -> Result<Vec<PathBuf>> {
    check_name(name)?;
    let dir = root.join("plugins").join(name);
    if dir.exists() {
        bail!("{} exists already", dir.display());
    }
    let manifest = root.join("Cargo.toml");
    let workspace = std::fs::read_to_string(&manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let workspace = with_member(&workspace, &format!("plugins/{name}"))?;

    let files = [
        (dir.join("Cargo.toml"), cargo_toml(name)),
        (dir.join("src/lib.rs"), lib_rs(name)),
        (dir.join(format!("src/{name}.rs")), table_rs(name)),
    ];
    std::fs::create_dir_all(dir.join("src"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    for (path, text) in &files {
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    std::fs::write(&manifest, workspace)
        .with_context(|| format!("cannot write {}", manifest.display()))?;
    Ok(files.into_iter().map(|(path, _)| path).collect())
}

/// A family name is a crate name of lower-case letters, digits and
/// underscores, starting with a letter.
fn check_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !starts_with_letter || !rest_ok || name.ends_with('_') {
        bail!(
            "{name:?} is not a family name: lower-case letters, digits and underscores, starting with a letter"
        );
    }
    Ok(())
}

/// `user_grants` → `UserGrants`.
fn type_name(name: &str) -> String {
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The workspace manifest with `member` added to `members`, after the last
/// `plugins/` entry.
fn with_member(manifest: &str, member: &str) -> Result<String> {
    let entry = format!("\"{member}\"");
    let lines: Vec<&str> = manifest.lines().collect();
    let Some(start) = lines
        .iter()
        .position(|l| l.trim_start().starts_with("members"))
    else {
        bail!("the workspace manifest has no members list");
    };
    let Some(end) = lines[start..].iter().position(|l| l.trim() == "]") else {
        bail!("the workspace members list does not end with a line `]`");
    };
    let end = start + end;
    if lines[start..end].iter().any(|l| l.contains(&entry)) {
        bail!("{member} is a workspace member already");
    }
    let after = lines[start..end]
        .iter()
        .rposition(|l| l.trim_start().starts_with("\"plugins/"))
        .map_or(end, |i| start + i + 1);
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    out.insert(after, format!("    {entry},"));
    Ok(out.join("\n") + "\n")
}

fn cargo_toml(name: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
description = "The {name} table family"
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish.workspace = true

[package.metadata.projector]
family = true

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
projection-sdk.workspace = true

[lints]
workspace = true
"#
    )
}

fn lib_rs(name: &str) -> String {
    let family = type_name(name);
    format!(
        r##"//! The {name} table family.
//!
//! | table | module |
//! |---|---|
//! | `{name}_projection` | `{name}.rs` |

mod {name};

projection_sdk::family! {{
    /// The {name} table family.
    {family}, name: "{name}", version: "0.1.0", tables: [{name}]
}}

#[cfg(test)]
mod tests {{
    use projection_sdk::testing::{{assert_tenant_scoped, event}};
    use projection_sdk::{{Context, Family, NoEvents, delete, insert}};

    use super::{family};

    #[test]
    fn describes_tenant_scoped_tables() {{
        let description = {family}::describe();
        assert_tenant_scoped(&description);
        assert!(description.wants("{name}", "{name}.added"));
    }}

    #[test]
    fn added_inserts_a_row_and_instance_removed_deletes_the_tenants() {{
        let ctx = Context::new(&NoEvents);
        let added = event("{name}", "{name}.added", Some(r#"{{"name":"first"}}"#));
        let row = insert("{name}_projection")
            .value("id", "agg-id")
            .value("name", "first")
            .build();
        assert_eq!({family}::handle(&added, &ctx), Ok(vec![row]));
        let removed = event("instance", "instance.removed", None);
        let rows = delete("{name}_projection")
            .eq("instance_id", "instance-id")
            .build();
        assert_eq!({family}::handle(&removed, &ctx), Ok(vec![rows]));
    }}
}}
"##
    )
}

fn table_rs(name: &str) -> String {
    format!(
        r#"//! `{name}_projection`: one row per `{name}` aggregate.

use projection_sdk::{{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, insert,
    instance_removed, on,
}};

/// The table name.
pub(crate) const TABLE: &str = "{name}_projection";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("{name}", &["{name}.added"], added),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {{
    Table::new(TABLE)
        .column("instance_id", ColumnType::Text)
        .column("id", ColumnType::Text)
        .column("name", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "id"])
}}

/// `{name}.added`: a row named by the payload's `name`.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {{
    let name = event.payload()?.text_or_empty("name")?;
    Ok(vec![
        insert(TABLE)
            .value("id", &event.aggregate_id)
            .value("name", name)
            .build(),
    ])
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::{generate, type_name, with_member};

    const WORKSPACE: &str = r#"[workspace]
resolver = "3"
members = [
    "host",
    "plugins/sdk",
    "plugins/orgs",
    "tests",
]

[workspace.dependencies]
"#;

    #[test]
    fn names_the_type_in_camel_case() {
        assert_eq!(type_name("greetings"), "Greetings");
        assert_eq!(type_name("user_grants"), "UserGrants");
        assert_eq!(type_name("v2_keys"), "V2Keys");
    }

    #[test]
    fn adds_the_member_after_the_last_plugin() {
        let added = with_member(WORKSPACE, "plugins/greetings").unwrap();
        assert!(
            added.contains("    \"plugins/orgs\",\n    \"plugins/greetings\",\n    \"tests\",\n")
        );
        assert!(with_member(&added, "plugins/greetings").is_err());
        assert!(with_member("[workspace]\n", "plugins/x").is_err());
    }

    #[test]
    fn generates_a_family_crate_and_registers_it() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("Cargo.toml"), WORKSPACE).unwrap();
        let files = generate(root.path(), "greetings").unwrap();
        let dir = root.path().join("plugins/greetings");
        assert_eq!(
            files,
            [
                dir.join("Cargo.toml"),
                dir.join("src/lib.rs"),
                dir.join("src/greetings.rs")
            ]
        );
        let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
        let manifest = read(&files[0]);
        assert!(manifest.contains("name = \"greetings\""));
        assert!(manifest.contains("[package.metadata.projector]\nfamily = true\n"));
        let lib = read(&files[1]);
        assert!(lib.contains("mod greetings;"));
        assert!(
            lib.contains("Greetings, name: \"greetings\", version: \"0.1.0\", tables: [greetings]")
        );
        assert!(lib.contains("#[test]"));
        let table = read(&files[2]);
        assert!(table.contains("on(\"greetings\", &[\"greetings.added\"], added)"));
        assert!(table.contains("instance_removed()"));
        let workspace = read(&root.path().join("Cargo.toml"));
        assert!(workspace.contains("    \"plugins/greetings\",\n"));

        assert!(generate(root.path(), "greetings").is_err());
        for bad in ["", "Greetings", "1st", "a-b", "x_"] {
            assert!(generate(root.path(), bad).is_err(), "{bad:?}");
        }
    }
}
