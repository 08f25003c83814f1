//! Which family and which tables a case name's family prefix means.

use projection_sdk::{Description, Table};

const SUFFIX: &str = "_projection";

/// Find the family (index into `descriptions`) and the tables a case prefix
/// such as `user` or `password_complexity_policy` refers to.
///
/// The main table is the declared table `{p}_projection` or a plural form:
/// `{p}s_projection`, `{p}es_projection`, or `{p without y}ies_projection`.
/// The handler's tables are the main table, the tables whose `parent` chain
/// leads to it, and the tables named `{main without _projection}_…`
/// (`users_humans_projection` for `users_projection`). When no main table is
/// declared (`login_names_projection` is a view), the tables named
/// `{plural}_…` are taken instead. Tables keep their declaration order.
pub fn handler_tables(prefix: &str, descriptions: &[Description]) -> Option<(usize, Vec<String>)> {
    if prefix.is_empty() {
        return None;
    }
    for candidate in main_candidates(prefix) {
        for (idx, description) in descriptions.iter().enumerate() {
            if description.find_table(&candidate).is_some() {
                return Some((idx, family_tables(description, &candidate)));
            }
        }
    }
    for plural in plurals(prefix) {
        let start = format!("{plural}_");
        for (idx, description) in descriptions.iter().enumerate() {
            let tables: Vec<String> = description
                .tables
                .iter()
                .filter(|t| t.name.starts_with(&start))
                .map(|t| t.name.clone())
                .collect();
            if !tables.is_empty() {
                return Some((idx, tables));
            }
        }
    }
    None
}

/// Plural forms of a prefix: `{p}s`, `{p}es`, `{p without y}ies`.
fn plurals(prefix: &str) -> Vec<String> {
    let mut forms = vec![format!("{prefix}s"), format!("{prefix}es")];
    if let Some(stem) = prefix.strip_suffix('y') {
        forms.push(format!("{stem}ies"));
    }
    forms
}

fn main_candidates(prefix: &str) -> Vec<String> {
    std::iter::once(prefix.to_owned())
        .chain(plurals(prefix))
        .map(|base| format!("{base}{SUFFIX}"))
        .collect()
}

/// The main table plus its children: tables named after it, and tables whose
/// parent is already one of the family's tables (repeated until nothing new).
fn family_tables(description: &Description, main: &str) -> Vec<String> {
    let base = main.strip_suffix(SUFFIX).unwrap_or(main);
    let sub_prefix = format!("{base}_");
    let mut included: Vec<bool> = description
        .tables
        .iter()
        .map(|t| t.name == main || t.name.starts_with(&sub_prefix))
        .collect();
    loop {
        let mut grew = false;
        for (idx, table) in description.tables.iter().enumerate() {
            if !included[idx] && has_included_parent(description, table, &included) {
                included[idx] = true;
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    description
        .tables
        .iter()
        .zip(included)
        .filter(|(_, inside)| *inside)
        .map(|(t, _)| t.name.clone())
        .collect()
}

fn has_included_parent(description: &Description, table: &Table, included: &[bool]) -> bool {
    let Some(parent) = table.parent.as_deref() else {
        return false;
    };
    description
        .tables
        .iter()
        .zip(included)
        .any(|(t, inside)| *inside && t.name == parent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use projection_sdk::Table;

    fn family(name: &str, tables: &[(&str, Option<&str>)]) -> Description {
        tables
            .iter()
            .fold(Description::new(name, "0"), |d, (t, parent)| {
                let table = Table::new(t);
                d.table(match parent {
                    Some(p) => table.parent(p),
                    None => table,
                })
            })
    }

    fn descriptions() -> Vec<Description> {
        vec![
            family(
                "instances",
                &[
                    ("instances_projection", None),
                    ("instance_domains_projection", None),
                    ("instance_features_projection", None),
                ],
            ),
            family(
                "users",
                &[
                    ("users_projection", None),
                    ("users_humans_projection", None),
                    ("user_metadata_projection", None),
                    ("user_avatars", Some("users_humans_projection")),
                    ("avatar_sizes", Some("user_avatars")),
                    ("orphans", Some("nowhere")),
                    ("login_names_users_projection", None),
                    ("login_names_domains_projection", None),
                ],
            ),
            family(
                "policies",
                &[
                    ("password_complexity_policies_projection", None),
                    ("org_metadata_projection", None),
                ],
            ),
        ]
    }

    fn tables(prefix: &str) -> Option<(usize, Vec<String>)> {
        handler_tables(prefix, &descriptions())
    }

    fn names(idx: usize, names: &[&str]) -> Option<(usize, Vec<String>)> {
        Some((idx, names.iter().map(|n| (*n).to_owned()).collect()))
    }

    #[test]
    fn finds_main_tables_by_singular_and_plural_names() {
        assert_eq!(tables("instance"), names(0, &["instances_projection"]));
        assert_eq!(
            tables("instance_domain"),
            names(0, &["instance_domains_projection"])
        );
        assert_eq!(
            tables("instance_features"),
            names(0, &["instance_features_projection"])
        );
        assert_eq!(
            tables("password_complexity_policy"),
            names(2, &["password_complexity_policies_projection"])
        );
        assert_eq!(
            tables("org_metadata"),
            names(2, &["org_metadata_projection"])
        );
        assert_eq!(
            tables("user_metadata"),
            names(1, &["user_metadata_projection"])
        );
    }

    #[test]
    fn includes_sub_tables_by_name_and_by_parent() {
        assert_eq!(
            tables("user"),
            names(
                1,
                &[
                    "users_projection",
                    "users_humans_projection",
                    "user_avatars",
                    "avatar_sizes"
                ]
            )
        );
    }

    #[test]
    fn falls_back_to_sub_tables_without_a_main_table() {
        assert_eq!(
            tables("login_name"),
            names(
                1,
                &[
                    "login_names_users_projection",
                    "login_names_domains_projection"
                ]
            )
        );
    }

    #[test]
    fn unknown_prefixes_map_to_nothing() {
        assert_eq!(tables("session"), None);
        assert_eq!(tables(""), None);
        assert_eq!(tables("org"), None);
    }
}
