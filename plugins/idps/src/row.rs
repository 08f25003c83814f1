//! What the rows of the two IdP tables share, the legacy configs'
//! (`idps_projection`, reference §6.10) and the templates'
//! (`idp_templates_projection`, §6.11): an added IdP is active and owned at
//! its event's level, and a removal deletes the IdP its payload names (the
//! sub-table rows go with it).

use projection_sdk::{Event, Mutation, ProjectionError, RowBuilder, delete, insert};

use crate::level::owner_type;

/// `state`: active.
pub(crate) const STATE_ACTIVE: i64 = 1;

/// The insert of IdP `id` into `table`: active, owned at the event's level
/// by the event's owner, and of provider `kind` (`type`) when the table has
/// one.
pub(crate) fn added(table: &str, event: &Event, id: &str, kind: Option<i64>) -> RowBuilder {
    let row = insert(table)
        .value("id", id)
        .value("state", STATE_ACTIVE)
        .value("owner_type", owner_type(event));
    let row = match kind {
        Some(kind) => row.value("type", kind),
        None => row,
    };
    row.value("resource_owner", &event.owner)
}

/// Delete the IdP of `table` whose id is the payload's `key`.
pub(crate) fn removed(
    table: &str,
    event: &Event,
    key: &str,
) -> Result<Vec<Mutation>, ProjectionError> {
    let id = event.payload()?.text_or_empty(key)?;
    Ok(vec![delete(table).eq("id", id).build()])
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{delete, insert};

    use super::{added, removed};

    #[test]
    fn an_added_idp_is_active_and_owned_at_its_level() {
        let org = event("org", "org.idp.github.added", None);
        let expected = insert("t")
            .value("id", "idp")
            .value("state", 1)
            .value("owner_type", 1)
            .value("type", 6)
            .value("resource_owner", "ro-id")
            .build();
        assert_eq!(added("t", &org, "idp", Some(6)).build(), expected);
        let instance = event("instance", "iam.idp.config.added", None);
        let expected = insert("t")
            .value("id", "idp")
            .value("state", 1)
            .value("owner_type", 0)
            .value("resource_owner", "ro-id")
            .build();
        assert_eq!(added("t", &instance, "idp", None).build(), expected);
    }

    #[test]
    fn a_removal_deletes_the_idp_its_key_names() {
        let e = event("org", "org.idp.removed", Some(r#"{"id":"idp"}"#));
        let expected = delete("t").eq("id", "idp").build();
        assert_eq!(removed("t", &e, "id"), Ok(vec![expected]));
    }
}
