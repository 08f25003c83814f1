//! The event envelope, case-insensitive access to its JSON payload, and the
//! filter of an event look-up.
//!
//! The reference system decodes payloads matching keys without regard to
//! letter case (`userName` and `username` are the same field), so every
//! accessor here does too.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::{ProjectionError, Value};

/// One stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Global position (decimal text).
    pub position: String,
    /// Order inside the writing transaction.
    pub in_tx_order: u32,
    /// Tenant.
    pub instance_id: String,
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Event type.
    pub event_type: String,
    /// Per-aggregate sequence.
    pub sequence: i64,
    /// Aggregate revision.
    pub revision: i16,
    /// Microseconds since the Unix epoch, UTC.
    pub created_at: i64,
    /// JSON payload text.
    pub payload: Option<String>,
    /// Who caused it.
    pub creator: String,
    /// Resource owner.
    pub owner: String,
}

impl Event {
    /// The creation time as a timestamp value.
    pub fn created_at_value(&self) -> Value {
        Value::Timestamp(self.created_at)
    }

    /// Parse the payload; a missing payload reads as an empty object.
    pub fn payload(&self) -> Result<Payload, ProjectionError> {
        let json = match self.payload.as_deref() {
            None | Some("") | Some("null") => Json::Object(serde_json::Map::new()),
            Some(text) => serde_json::from_str(text).map_err(|e| {
                ProjectionError::InvalidPayload(format!("{}: {e}", self.event_type))
            })?,
        };
        if !json.is_object() {
            return Err(ProjectionError::InvalidPayload(format!(
                "{}: payload is not a JSON object",
                self.event_type
            )));
        }
        Ok(Payload {
            event_type: self.event_type.clone(),
            json,
        })
    }

    /// The error to return for an event the family does not handle.
    pub fn unhandled(&self) -> ProjectionError {
        ProjectionError::UnhandledEvent(format!(
            "{} of aggregate {:?}",
            if self.event_type.is_empty() {
                "<empty event type>"
            } else {
                &self.event_type
            },
            self.aggregate_type
        ))
    }
}

/// A parsed JSON payload with case-insensitive field access.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    event_type: String,
    json: Json,
}

impl Payload {
    /// The raw JSON of a field, if present (and not null).
    pub fn get(&self, key: &str) -> Option<&Json> {
        let object = self.json.as_object()?;
        let found = match object.get(key) {
            Some(v) => Some(v),
            None => object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v),
        };
        found.filter(|v| !v.is_null())
    }

    /// Whether the field is present and not null.
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn wrong(&self, key: &str, expected: &str) -> ProjectionError {
        ProjectionError::InvalidPayload(format!(
            "{}: field {key:?} is not {expected}",
            self.event_type
        ))
    }

    /// A text field, if present.
    pub fn text(&self, key: &str) -> Result<Option<String>, ProjectionError> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.wrong(key, "a string")),
        }
    }

    /// A text field; absent reads as empty, as the reference's decoder does.
    pub fn text_or_empty(&self, key: &str) -> Result<String, ProjectionError> {
        Ok(self.text(key)?.unwrap_or_default())
    }

    /// A text field that must be present and non-empty.
    pub fn required_text(&self, key: &str) -> Result<String, ProjectionError> {
        match self.text(key)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ProjectionError::InvalidPayload(format!(
                "{}: field {key:?} is missing",
                self.event_type
            ))),
        }
    }

    /// A boolean field, if present.
    pub fn boolean(&self, key: &str) -> Result<Option<bool>, ProjectionError> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.wrong(key, "a boolean")),
        }
    }

    /// An integer field, if present.
    pub fn int(&self, key: &str) -> Result<Option<i64>, ProjectionError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.wrong(key, "an integer")),
        }
    }

    /// An array-of-strings field, if present.
    pub fn text_array(&self, key: &str) -> Result<Option<Vec<String>>, ProjectionError> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Json::String(s) => Ok(s.clone()),
                    _ => Err(self.wrong(key, "an array of strings")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(self.wrong(key, "an array of strings")),
        }
    }

    /// A base64 field (Go's `[]byte`), decoded, if present.
    pub fn bytes(&self, key: &str) -> Result<Option<Vec<u8>>, ProjectionError> {
        match self.text(key)? {
            None => Ok(None),
            Some(s) => crate::b64::decode(&s)
                .map(Some)
                .ok_or_else(|| self.wrong(key, "base64")),
        }
    }

    /// The `Crypted` bytes of a CryptoValue field, as text, if the field is
    /// present. A CryptoValue is serialised without JSON tags
    /// (`{"CryptoType", "Algorithm", "KeyID", "Crypted"}`, any letter case),
    /// `Crypted` as base64; a missing or null `Crypted` reads as empty.
    pub fn crypted_text(&self, key: &str) -> Result<Option<String>, ProjectionError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let Json::Object(fields) = value else {
            return Err(self.wrong(key, "a CryptoValue"));
        };
        let crypted = fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("crypted"))
            .map(|(_, v)| v);
        let bytes = match crypted {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::String(b64)) => {
                crate::b64::decode(b64).ok_or_else(|| self.wrong(key, "a CryptoValue"))?
            }
            Some(_) => return Err(self.wrong(key, "a CryptoValue")),
        };
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| self.wrong(key, "a CryptoValue of text"))
    }

    /// The whole payload as JSON.
    pub fn json(&self) -> &Json {
        &self.json
    }
}

/// Which stored events a look-up wants.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventFilter {
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate ids (empty: any).
    pub aggregate_ids: Vec<String>,
    /// Event types (empty: any).
    pub event_types: Vec<String>,
}

impl EventFilter {
    /// Whether an event passes the filter.
    pub fn matches(&self, event: &Event) -> bool {
        event.aggregate_type == self.aggregate_type
            && (self.aggregate_ids.is_empty() || self.aggregate_ids.contains(&event.aggregate_id))
            && (self.event_types.is_empty() || self.event_types.contains(&event.event_type))
    }
}

#[cfg(test)]
mod tests {
    use super::Event;
    use crate::ProjectionError;

    fn payload(json: &str) -> super::Payload {
        Event {
            position: "1".into(),
            in_tx_order: 0,
            instance_id: "i".into(),
            aggregate_type: "a".into(),
            aggregate_id: "a1".into(),
            event_type: "a.set".into(),
            sequence: 1,
            revision: 1,
            created_at: 0,
            payload: Some(json.to_owned()),
            creator: "c".into(),
            owner: "o".into(),
        }
        .payload()
        .unwrap()
    }

    #[test]
    fn crypto_values_read_as_the_text_of_their_crypted_bytes() {
        let p = payload(
            r#"{"secret":{"CryptoType":0,"Algorithm":"aes","KeyID":"k","Crypted":"c2VjcmV0"},
                "lower":{"crypted":"YQ=="},"empty":{"Crypted":null},"text":"x","bad":{"Crypted":"%%"}}"#,
        );
        assert_eq!(p.crypted_text("secret"), Ok(Some("secret".into())));
        assert_eq!(p.crypted_text("lower"), Ok(Some("a".into())));
        assert_eq!(p.crypted_text("empty"), Ok(Some(String::new())));
        assert_eq!(p.crypted_text("absent"), Ok(None));
        for key in ["text", "bad"] {
            assert!(matches!(
                p.crypted_text(key),
                Err(ProjectionError::InvalidPayload(_))
            ));
        }
    }
}
