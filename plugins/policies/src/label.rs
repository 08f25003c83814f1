//! `label_policies_projection`: an owner's branding, as a preview row and an
//! active row (reference §6.6).
//!
//! A policy table of the SDK ([`policy`]) with [`State::Preview`]: `state`
//! is part of the key, the added and changed events write the preview row
//! (state 3), and activation copies the preview to the active row (state 1),
//! replacing it (reference §9.2). The watermark flag is `disableMsgPopup` in
//! the added event and `disableWatermark` in the changed one. The assets
//! (logos, icons, font) are store keys set on the preview row by their
//! added events and cleared by their removed events. Removing an org's
//! policy deletes both rows.

use projection_sdk::policy::{
    self, ByLevel, Events, Field, Kind, Level, Literal, PolicyTable, STATE_ACTIVE, STATE_PREVIEW,
    State, field,
};
use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, TableModule, Value, copy,
    instance_removed, on,
};

/// The table name.
pub(crate) const TABLE: &str = "label_policies_projection";

/// The label policy's settings and shared columns.
pub(crate) struct Label;

impl PolicyTable for Label {
    const NAME: &'static str = TABLE;
    const EVENTS: Events = projection_sdk::policy_events!("label");
    const FIELDS: &'static [Field] = &[
        field("hideLoginNameSuffix", "hide_login_name_suffix", Kind::Bool)
            .defaults_to(Literal::Bool(false)),
        field("disableMsgPopup", "watermark_disabled", Kind::Bool)
            .changed_as("disableWatermark")
            .defaults_to(Literal::Bool(false)),
        field("errorMsgPopup", "should_error_popup", Kind::Bool).defaults_to(Literal::Bool(false)),
        field("primaryColor", "light_primary_color", Kind::Text).nullable(),
        field("warnColor", "light_warn_color", Kind::Text).nullable(),
        field("backgroundColor", "light_background_color", Kind::Text).nullable(),
        field("fontColor", "light_font_color", Kind::Text).nullable(),
        field("primaryColorDark", "dark_primary_color", Kind::Text).nullable(),
        field("warnColorDark", "dark_warn_color", Kind::Text).nullable(),
        field("backgroundColorDark", "dark_background_color", Kind::Text).nullable(),
        field("fontColorDark", "dark_font_color", Kind::Text).nullable(),
        field("themeMode", "theme_mode", Kind::Enum).defaults_to(Literal::Int(0)),
    ];
    const OTHER_COLUMNS: &'static [(&'static str, ColumnType)] = &[
        ("font_url", ColumnType::Text),
        ("light_logo_url", ColumnType::Text),
        ("light_icon_url", ColumnType::Text),
        ("dark_logo_url", ColumnType::Text),
        ("dark_icon_url", ColumnType::Text),
    ];
    const STATE: State = State::Preview;
}

/// The assets: the part of their event types that names them, and their
/// column.
const ASSETS: [(&str, &str); 5] = [
    ("logo", "light_logo_url"),
    ("logo.dark", "dark_logo_url"),
    ("icon", "light_icon_url"),
    ("icon.dark", "dark_icon_url"),
    ("font", "font_url"),
];

/// The events that set or clear an asset of the preview.
const ASSET_EVENTS: ByLevel = projection_sdk::policy_event_types!(
    "label",
    [
        "logo.added",
        "logo.dark.added",
        "icon.added",
        "icon.dark.added",
        "font.added",
        "logo.removed",
        "logo.dark.removed",
        "icon.removed",
        "icon.dark.removed",
        "font.removed",
    ]
);

/// The events that activate the preview.
const ACTIVATED: ByLevel = projection_sdk::policy_event_types!("label", ["activated"]);

/// Columns activation does not copy: the state (the copy is the active
/// row), the stamps (the host's) and the legacy `owner_removed`.
const NOT_COPIED: [&str; 4] = ["state", "change_date", "sequence", "owner_removed"];

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    policy::table::<Label>,
    &[
        policy::added::<Label>(Level::Org),
        policy::added::<Label>(Level::Instance),
        policy::changed::<Label>(Level::Org),
        policy::changed::<Label>(Level::Instance),
        on("org", ACTIVATED.org, activated),
        on("instance", ACTIVATED.instance, activated),
        on("org", ASSET_EVENTS.org, asset),
        on("instance", ASSET_EVENTS.instance, asset),
        policy::removed::<Label>(),
        policy::org_removed::<Label>(),
        instance_removed(),
    ],
);

/// Activation: upsert the active row as a copy of the preview row.
fn activated(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let table = policy::table::<Label>();
    let key: Vec<&str> = table.primary_key.iter().map(String::as_str).collect();
    let active = copy(TABLE, TABLE, &key).value("state", STATE_ACTIVE);
    let copied = table
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|c| !NOT_COPIED.contains(c))
        .fold(active, |copy, column| copy.column(column));
    Ok(vec![
        copied
            .eq("id", &event.aggregate_id)
            .eq("state", STATE_PREVIEW)
            .build(),
    ])
}

/// An asset event: the preview's asset is the payload's `storeKey` ('' when
/// absent), or NULL when the asset is removed.
fn asset(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let (column, added) = asset_change(&event.event_type).ok_or_else(|| event.unhandled())?;
    let value = if added {
        Value::from(event.payload()?.text_or_empty("storeKey")?)
    } else {
        Value::Null
    };
    Ok(vec![policy::row::<Label>(event).set(column, value).build()])
}

/// The column an asset event type changes and whether it sets it:
/// `<level>.policy.label.<asset>.<added|removed>`.
fn asset_change(event_type: &str) -> Option<(&'static str, bool)> {
    let (_, change) = event_type.split_once(".policy.label.")?;
    let (asset, added) = match change.rsplit_once('.')? {
        (asset, "added") => (asset, true),
        (asset, "removed") => (asset, false),
        _ => return None,
    };
    let (_, column) = ASSETS.iter().find(|(name, _)| *name == asset)?;
    Some((column, added))
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{Context, NoEvents, ProjectionError, Value, update};

    use super::{ASSET_EVENTS, MODULE, TABLE, asset_change};

    #[test]
    fn every_asset_event_names_a_column() {
        for event_type in ASSET_EVENTS.org.iter().chain(ASSET_EVENTS.instance) {
            assert!(asset_change(event_type).is_some(), "{event_type}");
        }
        assert_eq!(
            asset_change("org.policy.label.logo.dark.added"),
            Some(("dark_logo_url", true))
        );
        assert_eq!(asset_change("org.policy.label.banner.added"), None);
        assert_eq!(asset_change("org.policy.label.logo.set"), None);
    }

    #[test]
    fn changed_writes_the_preview_with_the_changed_events_keys() {
        let e = event(
            "instance",
            "instance.policy.label.changed",
            Some(r##"{"disableWatermark":true,"disableMsgPopup":false,"fontColorDark":"#fff"}"##),
        );
        let expected = update(TABLE)
            .eq("id", "agg-id")
            .eq("state", 3)
            .set("change_date", e.created_at_value())
            .set("sequence", e.sequence)
            .set("watermark_disabled", true)
            .set("dark_font_color", "#fff")
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn an_asset_without_store_key_is_empty() {
        let e = event("org", "org.policy.label.font.added", None);
        let expected = update(TABLE)
            .eq("id", "agg-id")
            .eq("state", 3)
            .set("font_url", Value::from(""))
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
        let wrong = event(
            "org",
            "org.policy.label.icon.added",
            Some(r#"{"storeKey":1}"#),
        );
        assert!(matches!(
            MODULE.reduce(&wrong, &Context::new(&NoEvents)),
            Err(ProjectionError::InvalidPayload(_))
        ));
    }
}
