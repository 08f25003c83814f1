//! The label policy's activation and assets. The added and changed events
//! write the owner's preview; activation copies the preview to the active
//! policy, mostly after changes of the preview (settings or assets). The
//! assets (logos and icons for light and dark mode, the font) are store
//! keys set on the preview by their added events and cleared by their
//! removed events.

use serde_json::json;

use super::{Kind, Level, anywhere, emit, levels, owner, owner_id};
use crate::generator::{Action, Gen};
use crate::text;

/// Activation, per level (instance first).
const ACTIVATED: [&str; 2] = [
    "instance.policy.label.activated",
    "org.policy.label.activated",
];

/// The assets, as their event types name them.
const ASSETS: [&str; 5] = ["logo", "logo.dark", "icon", "icon.dark", "font"];

/// `<level>.policy.label.<asset>.<suffix>` of every asset, the instance's
/// first.
macro_rules! by_asset {
    ($suffix:literal) => {
        [
            concat!("instance.policy.label.logo.", $suffix),
            concat!("instance.policy.label.logo.dark.", $suffix),
            concat!("instance.policy.label.icon.", $suffix),
            concat!("instance.policy.label.icon.dark.", $suffix),
            concat!("instance.policy.label.font.", $suffix),
            concat!("org.policy.label.logo.", $suffix),
            concat!("org.policy.label.logo.dark.", $suffix),
            concat!("org.policy.label.icon.", $suffix),
            concat!("org.policy.label.icon.dark.", $suffix),
            concat!("org.policy.label.font.", $suffix),
        ]
    };
}

/// Assets added.
const ASSET_ADDED: [&str; 10] = by_asset!("added");
/// Assets removed.
const ASSET_REMOVED: [&str; 10] = by_asset!("removed");

/// The event types assets are added for: added and removed.
const ASSET_FOR: [&str; 20] = super::concat(&[&ASSET_ADDED, &ASSET_REMOVED]);

/// The label events of an org's policy.
pub(super) const ORG_EVENTS: [&str; 11] = super::concat(&[&[ACTIVATED[1]], &ORG_ASSETS]);

/// The org's asset events.
const ORG_ASSETS: [&str; 10] = [
    ASSET_ADDED[5],
    ASSET_ADDED[6],
    ASSET_ADDED[7],
    ASSET_ADDED[8],
    ASSET_ADDED[9],
    ASSET_REMOVED[5],
    ASSET_REMOVED[6],
    ASSET_REMOVED[7],
    ASSET_REMOVED[8],
    ASSET_REMOVED[9],
];

/// The label actions.
pub(super) const ACTIONS: &[Action] = &[
    Action::new(ASSET_ADDED[5], 1, asset_added).writes(&ASSET_FOR),
    Action::new(ACTIVATED[1], 2, activated).writes(&ACTIVATED),
    Action::new(ASSET_REMOVED[5], 1, asset_removed).writes(&ASSET_REMOVED),
];

/// The event type of `asset` at `level` from `events`.
fn asset_event(events: &[&'static str; 10], level: Level, asset: usize) -> &'static str {
    events[usize::from(level != Level::Instance) * ASSETS.len() + asset]
}

/// Activate `level`'s label preview.
pub(super) fn activate(g: &mut Gen, t: usize, level: Level) {
    let event = ACTIVATED[usize::from(level != Level::Instance)];
    emit(g, t, level, event, None);
    owner(g, t, level).unactivated = false;
}

/// Activate a label policy whose preview changed since its last activation
/// (while activation was never written at a level, any of that level).
fn activated(g: &mut Gen, t: usize) -> bool {
    let all: Vec<(Level, bool)> = levels(g, t)
        .into_iter()
        .filter(|(_, owner)| owner.has(Kind::Label))
        .map(|(level, owner)| (level, owner.unactivated))
        .collect();
    let from = if g.strict {
        all
    } else {
        all.into_iter().filter(|(_, changed)| *changed).collect()
    };
    let options: Vec<(Level, String)> = from
        .into_iter()
        .map(|(level, _)| {
            let event = ACTIVATED[usize::from(level != Level::Instance)];
            (level, event.to_owned())
        })
        .collect();
    let Some(level) = g.choose(&options) else {
        return false;
    };
    activate(g, t, level);
    true
}

/// A store key of an uploaded asset of `owner`.
fn store_key(g: &mut Gen, owner: &str, asset: usize) -> String {
    let name = ASSETS[asset].replace('.', "-");
    let extension = if ASSETS[asset] == "font" {
        g.rng.one(&["ttf", "woff2"])
    } else {
        g.rng.one(&["png", "svg", "jpg"])
    };
    format!(
        "{owner}/policy/label/{name}-{}.{extension}",
        text::hex(&mut g.rng, 12)
    )
}

/// Upload an asset to a label preview (replacing one of the same kind). An
/// asset is uploaded for its removal too: while the removal was never
/// written at a level where no live label policy has the asset.
fn asset_added(g: &mut Gen, t: usize) -> bool {
    let owners: Vec<(Level, Vec<usize>)> = levels(g, t)
        .into_iter()
        .filter(|(_, owner)| owner.has(Kind::Label))
        .map(|(level, owner)| (level, owner.assets.iter().map(|(a, _)| *a).collect()))
        .collect();
    let reason = |level: Level, asset: usize| {
        let removal = asset_event(&ASSET_REMOVED, level, asset);
        let org = level != Level::Instance;
        let none = !anywhere(g, org, |o| o.assets.iter().any(|(a, _)| *a == asset));
        if none && g.fresh(removal) {
            removal
        } else {
            asset_event(&ASSET_ADDED, level, asset)
        }
    };
    let options: Vec<((Level, usize), String)> = owners
        .iter()
        .flat_map(|(level, _)| {
            (0..ASSETS.len()).map(|a| ((*level, a), reason(*level, a).to_owned()))
        })
        .collect();
    let Some((level, asset)) = g.choose(&options) else {
        return false;
    };
    let id = owner_id(g, t, level);
    let key = store_key(g, &id, asset);
    let event = asset_event(&ASSET_ADDED, level, asset);
    emit(g, t, level, event, Some(json!({ "storeKey": key })));
    let owner = owner(g, t, level);
    owner.assets.retain(|(a, _)| *a != asset);
    owner.assets.push((asset, key));
    owner.unactivated = true;
    true
}

/// Remove an asset of a label preview.
fn asset_removed(g: &mut Gen, t: usize) -> bool {
    let options: Vec<((Level, usize, String), String)> = levels(g, t)
        .into_iter()
        .flat_map(|(level, owner)| {
            owner.assets.iter().map(move |(a, key)| {
                let event = asset_event(&ASSET_REMOVED, level, *a).to_owned();
                ((level, *a, key.clone()), event)
            })
        })
        .collect();
    let Some((level, asset, key)) = g.choose(&options) else {
        return false;
    };
    let event = asset_event(&ASSET_REMOVED, level, asset);
    emit(g, t, level, event, Some(json!({ "storeKey": key })));
    let owner = owner(g, t, level);
    owner.assets.retain(|(a, _)| *a != asset);
    owner.unactivated = true;
    true
}
