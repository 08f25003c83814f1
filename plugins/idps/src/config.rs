//! Config sub-tables and the legacy config events (reference §6.10, §6.11).
//!
//! An IdP's configuration lives in a sub-table of its IdP's table, keyed
//! `(instance_id, idp_id)` and gone with the IdP's row ([`sub_table`]). The
//! legacy IdP configs were given one afterwards, by `*.idp.oidc.config.*`
//! and `*.idp.jwt.config.*` events whose payload names the IdP by
//! `idpConfigId`. Four tables take them: the legacy `idps_oidc_config` and
//! `idps_jwt_config` and the templates' OIDC and JWT tables. A [`Config`]
//! states what differs ([`Legacy`]: the events, the fields, constant
//! columns; the parent; the parent's new `type`), and [`handlers`] makes
//! the rest:
//!
//! - *added*: the parent's `type` is set and its row touched, then the
//!   config row is inserted (every field, the constants);
//! - *changed*: the parent's row is touched and the config row gets the
//!   fields present. A change of no field does nothing for the legacy
//!   `idps` tables, and still touches an IdP template
//!   ([`Config::TOUCH_ALONE`]).

use projection_sdk::{
    ColumnType, Context, Event, Handler, Mutation, Payload, ProjectionError, Table, UpdateBuilder,
    Value, insert, update,
};

use crate::field::{self, Field};
use crate::level::EventTypes;

/// The payload key of the legacy config events' IdP.
pub(crate) const LEGACY_ID: &str = "idpConfigId";

/// The legacy config events of one config table and what they write.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Legacy {
    /// The events that add the config.
    pub(crate) added: EventTypes,
    /// The events that change it.
    pub(crate) changed: EventTypes,
    /// The payload fields and their columns.
    pub(crate) fields: &'static [Field],
    /// Columns an added event sets to a constant.
    pub(crate) constants: &'static [(&'static str, bool)],
}

impl Legacy {
    /// No legacy events (a table only the new-style events feed).
    pub(crate) const NONE: Legacy = Legacy {
        added: EventTypes::NONE,
        changed: EventTypes::NONE,
        fields: &[],
        constants: &[],
    };
}

/// A config table fed by legacy config events.
pub(crate) trait Config {
    /// The config table.
    const TABLE: &'static str;
    /// The IdP table it hangs off (its key column is `id`).
    const PARENT: &'static str;
    /// The parent's `type` once the config is added.
    const TYPE: i64;
    /// The events and what they write.
    const LEGACY: Legacy;
    /// Whether a change of no field still touches the parent's row.
    const TOUCH_ALONE: bool;
}

/// The handlers of a config table's legacy events: added and changed, at
/// instance and at org level.
pub(crate) const fn handlers<C: Config>() -> [Handler; 4] {
    let [added_instance, added_org] = C::LEGACY.added.on(added::<C>);
    let [changed_instance, changed_org] = C::LEGACY.changed.on(changed::<C>);
    [added_instance, added_org, changed_instance, changed_org]
}

/// A config sub-table: `idp_id`, `instance_id`, the columns of `fields`,
/// the stamps; keyed `(instance_id, idp_id)`, a child of `parent`.
pub(crate) fn sub_table(name: &str, parent: &str, fields: &[Field]) -> Table {
    let keys = Table::new(name)
        .column("idp_id", ColumnType::Text)
        .column("instance_id", ColumnType::Text);
    field::declare(keys, fields)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "idp_id"])
        .parent(parent)
}

/// The table of a [`Config`] that is declared by its legacy fields.
pub(crate) fn table<C: Config>() -> Table {
    sub_table(C::TABLE, C::PARENT, C::LEGACY.fields)
}

/// Touch IdP `id` of `table`: stamp its row with the event.
pub(crate) fn touch(table: &str, id: &str, event: &Event) -> UpdateBuilder {
    update(table)
        .set("change_date", event.created_at_value())
        .set("sequence", event.sequence)
        .eq("id", id)
}

/// Insert the config row of IdP `id` into `table`: every field of
/// `fields`, then `constants`.
pub(crate) fn insert_row(
    table: &str,
    id: &str,
    payload: &Payload,
    fields: &[Field],
    constants: &[(&str, bool)],
) -> Result<Mutation, ProjectionError> {
    let row = field::values(
        insert(table).value("idp_id", id),
        field::inserted(payload, fields)?,
    );
    let row = constants.iter().fold(row, |r, (c, v)| r.value(c, *v));
    Ok(row.build())
}

/// Update the config row of IdP `id` in `table` with `changes`; `None`
/// when there is nothing to change.
pub(crate) fn update_row(
    table: &str,
    id: &str,
    changes: Vec<(&'static str, Value)>,
) -> Option<Mutation> {
    if changes.is_empty() {
        return None;
    }
    Some(field::sets(update(table).eq("idp_id", id), changes).build())
}

/// A legacy added event: the parent's type and touch, then the row.
fn added<C: Config>(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let id = payload.text_or_empty(LEGACY_ID)?;
    let legacy = C::LEGACY;
    Ok(vec![
        touch(C::PARENT, &id, event).set("type", C::TYPE).build(),
        insert_row(C::TABLE, &id, &payload, legacy.fields, legacy.constants)?,
    ])
}

/// A legacy changed event: touch the parent, set the fields present.
fn changed<C: Config>(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let id = payload.text_or_empty(LEGACY_ID)?;
    let changes = field::present(&payload, C::LEGACY.fields)?;
    if changes.is_empty() && !C::TOUCH_ALONE {
        return Ok(Vec::new());
    }
    let touched = touch(C::PARENT, &id, event).build();
    Ok(std::iter::once(touched)
        .chain(update_row(C::TABLE, &id, changes))
        .collect())
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::{CREATED_AT, event};
    use projection_sdk::{Context, NoEvents, Reduced, TableModule, Value, insert, update};

    use super::{Config, Legacy, handlers, table};
    use crate::field::{Kind, field};
    use crate::level::EventTypes;

    /// A config whose change of nothing still touches the parent.
    struct Touching;

    impl Config for Touching {
        const TABLE: &'static str = "things_config_projection";
        const PARENT: &'static str = "things_projection";
        const TYPE: i64 = 7;
        const LEGACY: Legacy = Legacy {
            added: EventTypes {
                instance: &["iam.thing.config.added"],
                org: &["org.thing.config.added"],
            },
            changed: EventTypes {
                instance: &["iam.thing.config.changed"],
                org: &["org.thing.config.changed"],
            },
            fields: &[
                field("issuer", "issuer", Kind::Text),
                field("scopes", "scopes", Kind::TextArray).nullable(),
            ],
            constants: &[("fixed", true)],
        };
        const TOUCH_ALONE: bool = true;
    }

    const HANDLERS: [projection_sdk::Handler; 4] = handlers::<Touching>();
    const MODULE: TableModule = TableModule::new(Touching::TABLE, table::<Touching>, &HANDLERS);

    fn reduce(event_type: &str, payload: &str) -> Reduced {
        let e = event("org", event_type, Some(payload));
        MODULE.reduce(&e, &Context::new(&NoEvents))
    }

    fn touch() -> projection_sdk::UpdateBuilder {
        update("things_projection")
            .set("change_date", Value::Timestamp(CREATED_AT))
            .set("sequence", 15)
            .eq("id", "idp")
    }

    #[test]
    fn added_sets_the_parents_type_then_inserts_every_field_and_constant() {
        let expected = vec![
            touch().set("type", 7).build(),
            insert("things_config_projection")
                .value("idp_id", "idp")
                .value("issuer", "")
                .value("scopes", Value::Null)
                .value("fixed", true)
                .build(),
        ];
        assert_eq!(
            reduce("org.thing.config.added", r#"{"idpConfigId":"idp"}"#),
            Ok(Some(expected))
        );
    }

    #[test]
    fn changed_touches_the_parent_and_sets_the_fields_present() {
        let expected = vec![
            touch().build(),
            update("things_config_projection")
                .eq("idp_id", "idp")
                .set("scopes", vec!["a".to_owned()])
                .build(),
        ];
        assert_eq!(
            reduce(
                "org.thing.config.changed",
                r#"{"idpConfigId":"idp","scopes":["a"]}"#
            ),
            Ok(Some(expected))
        );
        assert_eq!(
            reduce("org.thing.config.changed", r#"{"idpConfigId":"idp"}"#),
            Ok(Some(vec![touch().build()]))
        );
    }

    #[test]
    fn declares_a_child_keyed_by_the_idp() {
        let table = table::<Touching>();
        assert_eq!(table.primary_key, ["instance_id", "idp_id"]);
        assert_eq!(table.parent.as_deref(), Some("things_projection"));
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "idp_id",
                "instance_id",
                "issuer",
                "scopes",
                "change_date",
                "sequence"
            ]
        );
    }
}
