//! Secrets: the `crypto.CryptoValue` payload fields (reference §0.7, §6.9).
//!
//! An IdP's client secret, bind password or private key arrives encrypted,
//! as a CryptoValue object, and the IdP tables keep it as JSONB. The
//! reference decodes the object into its Go struct (keys matched without
//! regard to letter case) and stores the struct marshalled again, under the
//! struct's own field names; so does [`crypto_value`], whatever spelling the
//! payload used.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use projection_sdk::{Payload, ProjectionError, Value};
use serde_json::{Map, Value as Json};

/// The CryptoValue field `key` as the reference stores it, if present:
/// `{"CryptoType", "Algorithm", "KeyID", "Crypted"}`, absent members as Go's
/// zero values (`Crypted` null), `Crypted` as standard base64.
pub(crate) fn crypto_value(payload: &Payload, key: &str) -> Result<Option<Value>, ProjectionError> {
    let Some(value) = payload.get(key) else {
        return Ok(None);
    };
    let invalid = || ProjectionError::InvalidPayload(format!("field {key:?} is not a CryptoValue"));
    let Json::Object(members) = value else {
        return Err(invalid());
    };
    let member = |name: &str| {
        members
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    };
    let crypto_type = match member("CryptoType") {
        None => 0,
        Some(n) => n.as_i64().ok_or_else(invalid)?,
    };
    let text = |name: &str| match member(name) {
        None => Ok(String::new()),
        Some(Json::String(s)) => Ok(s.clone()),
        Some(_) => Err(invalid()),
    };
    let crypted = match member("Crypted") {
        None => Json::Null,
        Some(Json::String(b64)) => {
            let bytes = STANDARD.decode(b64).map_err(|_| invalid())?;
            Json::String(STANDARD.encode(bytes))
        }
        Some(_) => return Err(invalid()),
    };
    let mut stored = Map::new();
    stored.insert("CryptoType".to_owned(), Json::from(crypto_type));
    stored.insert("Algorithm".to_owned(), Json::String(text("Algorithm")?));
    stored.insert("KeyID".to_owned(), Json::String(text("KeyID")?));
    stored.insert("Crypted".to_owned(), crypted);
    Ok(Some(Value::json(&Json::Object(stored))))
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{ProjectionError, Value};
    use serde_json::{Value as Json, json};

    use super::crypto_value;

    fn read(payload: &str) -> Result<Option<Value>, ProjectionError> {
        let e = event("instance", "instance.idp.github.added", Some(payload));
        crypto_value(&e.payload().unwrap(), "clientSecret")
    }

    fn stored(payload: &str) -> Json {
        match read(payload) {
            Ok(Some(Value::Json(text))) => serde_json::from_str(&text).unwrap(),
            other => panic!("not stored as JSON: {other:?}"),
        }
    }

    #[test]
    fn stores_the_go_field_names_whatever_the_payload_spelling() {
        let secret = stored(
            r#"{"clientsecret":{"cryptoType":1,"algorithm":"RSA-265","keyId":"k","crypted":"c2VjcmV0"}}"#,
        );
        assert_eq!(
            secret,
            json!({"CryptoType":1,"Algorithm":"RSA-265","KeyID":"k","Crypted":"c2VjcmV0"})
        );
    }

    #[test]
    fn absent_members_are_go_zero_values() {
        let secret = stored(r#"{"clientSecret":{"keyId":"k"}}"#);
        assert_eq!(
            secret,
            json!({"CryptoType":0,"Algorithm":"","KeyID":"k","Crypted":null})
        );
    }

    #[test]
    fn an_absent_or_null_secret_is_absent() {
        assert_eq!(read("{}"), Ok(None));
        assert_eq!(read(r#"{"clientSecret":null}"#), Ok(None));
    }

    #[test]
    fn what_is_not_a_crypto_value_is_rejected() {
        for payload in [
            r#"{"clientSecret":"plain"}"#,
            r#"{"clientSecret":{"Crypted":"%%%"}}"#,
            r#"{"clientSecret":{"CryptoType":"one"}}"#,
            r#"{"clientSecret":{"KeyID":7}}"#,
        ] {
            assert!(
                matches!(read(payload), Err(ProjectionError::InvalidPayload(_))),
                "{payload}"
            );
        }
    }
}
