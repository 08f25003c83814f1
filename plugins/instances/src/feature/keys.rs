//! The feature keys, their value shapes, and reading a feature value from a
//! set event's payload.

use projection_sdk::{Event, ProjectionError};
use serde_json::Value as Json;

/// The JSON shape of a feature's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// A boolean.
    Bool,
    /// An array of integers (enum values).
    IntArray,
    /// An object.
    Object,
}

impl Shape {
    /// Whether a JSON value has this shape.
    fn fits(self, value: &Json) -> bool {
        match self {
            Shape::Bool => value.is_boolean(),
            Shape::IntArray => value
                .as_array()
                .is_some_and(|items| items.iter().all(|i| i.as_i64().is_some())),
            Shape::Object => value.is_object(),
        }
    }

    /// What Go encodes for the zero value of the feature's type.
    fn zero(self) -> Json {
        match self {
            Shape::Bool => Json::Bool(false),
            Shape::IntArray => Json::Null,
            Shape::Object => Json::Object(serde_json::Map::new()),
        }
    }
}

/// The feature keys with an instance-level handler, and their value shapes.
pub(super) const KEYS: &[(&str, Shape)] = &[
    ("login_default_org", Shape::Bool),
    ("user_schema", Shape::Bool),
    ("improved_performance", Shape::IntArray),
    ("debug_oidc_parent_error", Shape::Bool),
    ("oidc_single_v1_session_termination", Shape::Bool),
    ("login_v2", Shape::Object),
    ("permission_check_v2", Shape::Bool),
    ("console_use_v2_user_api", Shape::Bool),
    ("enable_relational_tables", Shape::Bool),
];

/// The key and value shape of a `feature.<level>.<key>.set` event type.
pub(super) fn set_key(event_type: &str) -> Option<(&'static str, Shape)> {
    let segments: Vec<&str> = event_type.split('.').collect();
    match segments.as_slice() {
        ["feature", _level, key, "set"] => KEYS.iter().copied().find(|(k, _)| k == key),
        _ => None,
    }
}

/// Look up a field of a JSON object without regard to letter case.
fn field<'a>(object: &'a Json, key: &str) -> Option<&'a Json> {
    let map = object.as_object()?;
    map.get(key)
        .or_else(|| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

/// The payload's `Value`, checked against the feature's shape.
pub(super) fn set_value(event: &Event, key: &str, shape: Shape) -> Result<Json, ProjectionError> {
    match event.payload()?.get("value") {
        None => Ok(shape.zero()),
        Some(value) if shape.fits(value) => Ok(value.clone()),
        Some(_) => Err(ProjectionError::InvalidPayload(format!(
            "{}: value of feature {key} is not {shape:?}",
            event.event_type
        ))),
    }
}

/// The boolean of the legacy payload `{"Value": {"Boolean": …}}`.
pub(super) fn legacy_value(event: &Event) -> Result<bool, ProjectionError> {
    let payload = event.payload()?;
    let Some(value) = payload.get("value") else {
        return Ok(false);
    };
    match field(value, "boolean") {
        None if value.is_object() => Ok(false),
        Some(Json::Bool(b)) => Ok(*b),
        _ => Err(ProjectionError::InvalidPayload(format!(
            "{}: field \"Value\" is not {{\"Boolean\": bool}}",
            event.event_type
        ))),
    }
}
