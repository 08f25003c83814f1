//! Provider kinds: the one home of the provider tables and their events
//! (reference §6.11).
//!
//! Every provider kind has a sub-table of `idp_templates_projection` keyed
//! `(instance_id, idp_id)` and the same events at instance and at org
//! level: *added* (the template row and the provider row, every field),
//! *changed* (the template row touched with the name and options present,
//! then the provider row's fields present, if any). Some kinds are also
//! reached by a *migration* from another kind (the template row gets the
//! new type, the old kind's row goes, the new kind's row is inserted) or
//! by the legacy config events ([`crate::config`]). A kind differs only in
//! what a [`Provider`] states; [`Module`] makes its table and handlers:
//!
//! ```text
//! /// GitHub.
//! pub(crate) struct GitHub;
//!
//! impl Provider for GitHub {
//!     const TABLE: &'static str = "idp_templates_github_projection";
//!     const TYPE: IdpType = IdpType::GitHub;
//!     const EVENTS: Events = events!("instance.idp.github", "org.idp.github");
//!     const FIELDS: &'static [Field] = &[
//!         field("clientId", "client_id", Kind::Text),
//!         field("clientSecret", "client_secret", Kind::Secret),
//!         field("scopes", "scopes", Kind::TextArray).nullable(),
//!     ];
//! }
//!
//! pub(crate) const MODULE: TableModule = Module::<GitHub>::MODULE;
//! ```
//!
//! The table is `idp_id`, `instance_id`, the columns of `FIELDS` in order
//! and the stamps (the reference's provider tables have no
//! change_date/sequence; the canonical schema adds them).

use std::marker::PhantomData;

use projection_sdk::{
    Context, Event, Handler, Mutation, ProjectionError, Table, TableModule, delete,
};

use crate::config::{self, Config, Legacy};
use crate::field::{self, Field};
use crate::level::EventTypes;
use crate::template::{self, ID, IdpType};

/// A provider kind's added and changed events.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Events {
    /// The events that add an IdP of the kind.
    pub(crate) added: EventTypes,
    /// The events that change one.
    pub(crate) changed: EventTypes,
}

/// The [`Events`] of a provider kind from its event type stems at instance
/// and at org level: `events!("instance.idp.github", "org.idp.github")`
/// means `instance.idp.github.added`, `org.idp.github.added` and the two
/// `.changed`.
macro_rules! events {
    ($instance:literal, $org:literal) => {
        $crate::template::provider::Events {
            added: $crate::level::EventTypes {
                instance: &[concat!($instance, ".added")],
                org: &[concat!($org, ".added")],
            },
            changed: $crate::level::EventTypes {
                instance: &[concat!($instance, ".changed")],
                org: &[concat!($org, ".changed")],
            },
        }
    };
}

pub(crate) use events;

/// Events that turn an IdP of another kind into one of this kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    /// The other kind's table, whose row goes.
    pub(crate) from: &'static str,
    /// The migration events.
    pub(crate) events: EventTypes,
}

impl Migration {
    /// No migration.
    pub(crate) const NONE: Migration = Migration {
        from: "",
        events: EventTypes::NONE,
    };
}

/// What one provider kind states.
pub(crate) trait Provider {
    /// The provider table.
    const TABLE: &'static str;
    /// The template's `type` for the kind.
    const TYPE: IdpType;
    /// The added and changed events (see [`events!`]).
    const EVENTS: Events;
    /// The payload fields of the added and changed events besides the id,
    /// name and options, in column order.
    const FIELDS: &'static [Field];
    /// The events that migrate another kind into this one (none by
    /// default).
    const MIGRATION: Migration = Migration::NONE;
    /// The legacy config events that feed the table (none by default).
    const LEGACY: Legacy = Legacy::NONE;
}

/// The table module of provider kind `P`.
#[derive(Debug)]
pub(crate) struct Module<P>(PhantomData<P>);

impl<P: Provider> Module<P> {
    const ADDED: [Handler; 2] = P::EVENTS.added.on(added::<P>);
    const CHANGED: [Handler; 2] = P::EVENTS.changed.on(changed::<P>);
    const MIGRATED: [Handler; 2] = P::MIGRATION.events.on(migrated::<P>);
    const LEGACY: [Handler; 4] = config::handlers::<LegacyConfig<P>>();

    /// Every handler of the kind's table.
    const HANDLERS: &'static [Handler] = &[
        Self::ADDED[0],
        Self::ADDED[1],
        Self::CHANGED[0],
        Self::CHANGED[1],
        Self::MIGRATED[0],
        Self::MIGRATED[1],
        Self::LEGACY[0],
        Self::LEGACY[1],
        Self::LEGACY[2],
        Self::LEGACY[3],
    ];

    /// The table and what each event does to it.
    pub(crate) const MODULE: TableModule = TableModule::new(P::TABLE, table::<P>, Self::HANDLERS);
}

/// The legacy config events of provider kind `P` as a [`Config`] of the
/// templates (a change of no field still touches the template).
#[derive(Debug)]
struct LegacyConfig<P>(PhantomData<P>);

impl<P: Provider> Config for LegacyConfig<P> {
    const TABLE: &'static str = P::TABLE;
    const PARENT: &'static str = template::TABLE;
    const TYPE: i64 = P::TYPE.value();
    const LEGACY: Legacy = P::LEGACY;
    const TOUCH_ALONE: bool = true;
}

/// The table declaration.
fn table<P: Provider>() -> Table {
    config::sub_table(P::TABLE, template::TABLE, P::FIELDS)
}

/// Added: the template row, then the provider row.
fn added<P: Provider>(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let id = payload.text_or_empty(ID)?;
    Ok(vec![
        template::inserted(event, &payload, &id, P::TYPE)?,
        config::insert_row(P::TABLE, &id, &payload, P::FIELDS, &[])?,
    ])
}

/// Changed: the template row, then the provider row if a field is present.
fn changed<P: Provider>(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let id = payload.text_or_empty(ID)?;
    let changes = field::present(&payload, P::FIELDS)?;
    Ok(std::iter::once(template::changed(event, &payload, &id)?)
        .chain(config::update_row(P::TABLE, &id, changes))
        .collect())
}

/// Migrated: the template row, the old kind's row removed, the new one
/// inserted.
fn migrated<P: Provider>(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let id = payload.text_or_empty(ID)?;
    Ok(vec![
        template::migrated(event, &payload, &id, P::TYPE)?,
        delete(P::MIGRATION.from).eq("idp_id", &id).build(),
        config::insert_row(P::TABLE, &id, &payload, P::FIELDS, &[])?,
    ])
}

#[cfg(test)]
mod tests;
