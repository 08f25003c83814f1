//! The `user_agent` object of `session.added` (reference §5.1, §9.5).
//!
//! `{"fingerprint_id", "ip", "description", "header"}`, keys matched without
//! regard to letter case like every payload key. Without the object (or
//! with `null`) the session has no user-agent columns. With it, the
//! fingerprint and the description are written (NULL when absent), the IP
//! only when it is a non-empty address and the header (a map of header name
//! to values) only when present, stored as JSON.
//!
//! The reference decodes the IP as an address and writes it back in its
//! canonical text (an IPv4-mapped IPv6 address as IPv4, IPv6 compressed), so
//! text that is no IP address is an invalid payload.

use std::net::IpAddr;

use projection_sdk::{Payload, ProjectionError, RowBuilder, Value};
use serde_json::{Map, Value as Json};

/// The payload key of the object.
const KEY: &str = "user_agent";

/// Add the user agent's columns of `payload` to the session's insert.
pub(super) fn columns(row: RowBuilder, payload: &Payload) -> Result<RowBuilder, ProjectionError> {
    let Some(agent) = payload.get(KEY) else {
        return Ok(row);
    };
    let Json::Object(agent) = agent else {
        return Err(invalid(KEY, "an object"));
    };
    let mut row = row
        .value("user_agent_fingerprint_id", text(agent, "fingerprint_id")?)
        .value("user_agent_description", text(agent, "description")?);
    if let Some(ip) = ip(agent)? {
        row = row.value("user_agent_ip", ip);
    }
    if let Some(header) = header(agent)? {
        row = row.value("user_agent_header", header);
    }
    Ok(row)
}

/// A field of the object, matched without regard to letter case (an exact
/// match first); `null` reads as absent.
fn field<'a>(object: &'a Map<String, Json>, key: &str) -> Option<&'a Json> {
    object
        .get(key)
        .or_else(|| {
            object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

/// A text field, if present.
fn text(object: &Map<String, Json>, key: &str) -> Result<Option<String>, ProjectionError> {
    match field(object, key) {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(key, "a string")),
    }
}

/// The IP address in canonical text; `None` when absent or empty.
fn ip(object: &Map<String, Json>) -> Result<Option<String>, ProjectionError> {
    let Some(text) = text(object, "ip")?.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let address: IpAddr = text.parse().map_err(|_| invalid("ip", "an IP address"))?;
    Ok(Some(canonical(address)))
}

/// An address as the reference prints it: IPv4 (also when IPv4-mapped) in
/// dotted decimal, other IPv6 addresses compressed.
fn canonical(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or_else(|| v6.to_string(), |v4| v4.to_string()),
    }
}

/// The header map as JSON, if present: an object whose values are lists of
/// strings (or `null`).
fn header(object: &Map<String, Json>) -> Result<Option<Value>, ProjectionError> {
    let Some(header) = field(object, "header") else {
        return Ok(None);
    };
    let Json::Object(names) = header else {
        return Err(invalid("header", "an object"));
    };
    let well_formed = names.values().all(|values| match values {
        Json::Null => true,
        Json::Array(items) => items.iter().all(Json::is_string),
        _ => false,
    });
    if !well_formed {
        return Err(invalid("header", "a map of names to lists of strings"));
    }
    Ok(Some(Value::json(header)))
}

/// The error for a user-agent field of the wrong shape.
fn invalid(key: &str, expected: &str) -> ProjectionError {
    ProjectionError::InvalidPayload(format!(
        "session.added: user agent field {key:?} is not {expected}"
    ))
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{Mutation, ProjectionError, RowBuilder, Value, insert};

    use super::columns;

    fn agent(payload: &str) -> Result<Mutation, ProjectionError> {
        let e = event("session", "session.added", Some(payload));
        columns(insert("t"), &e.payload()?).map(RowBuilder::build)
    }

    #[test]
    fn writes_every_field_of_a_full_user_agent() {
        let payload = r#"{"user_agent":{"fingerprint_id":"fp1","ip":"1.2.3.4",
            "description":"firefox","header":{"foo":["bar"]}}}"#;
        let expected = insert("t")
            .value("user_agent_fingerprint_id", "fp1")
            .value("user_agent_description", "firefox")
            .value("user_agent_ip", "1.2.3.4")
            .value(
                "user_agent_header",
                Value::Json(r#"{"foo":["bar"]}"#.to_owned()),
            )
            .build();
        assert_eq!(agent(payload), Ok(expected));
    }

    #[test]
    fn an_empty_user_agent_writes_null_fingerprint_and_description_only() {
        let expected = insert("t")
            .value("user_agent_fingerprint_id", Value::Null)
            .value("user_agent_description", Value::Null)
            .build();
        assert_eq!(agent(r#"{"user_agent":{}}"#), Ok(expected.clone()));
        assert_eq!(
            agent(r#"{"user_agent":{"ip":"","header":null,"description":null}}"#),
            Ok(expected)
        );
    }

    #[test]
    fn keys_match_without_regard_to_case() {
        let expected = insert("t")
            .value("user_agent_fingerprint_id", "fp")
            .value("user_agent_description", Value::Null)
            .value("user_agent_ip", "10.0.0.1")
            .build();
        assert_eq!(
            agent(r#"{"User_Agent":{"Fingerprint_ID":"fp","IP":"10.0.0.1"}}"#),
            Ok(expected)
        );
    }

    #[test]
    fn addresses_are_written_in_canonical_form() {
        for (ip, canonical) in [
            ("::ffff:192.0.2.1", "192.0.2.1"),
            ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
            ("::1", "::1"),
        ] {
            let payload = format!(r#"{{"user_agent":{{"ip":"{ip}"}}}}"#);
            let expected = insert("t")
                .value("user_agent_fingerprint_id", Value::Null)
                .value("user_agent_description", Value::Null)
                .value("user_agent_ip", canonical)
                .build();
            assert_eq!(agent(&payload), Ok(expected), "{ip}");
        }
    }

    #[test]
    fn rejects_malformed_fields() {
        for payload in [
            r#"{"user_agent":"firefox"}"#,
            r#"{"user_agent":{"ip":"not an address"}}"#,
            r#"{"user_agent":{"fingerprint_id":7}}"#,
            r#"{"user_agent":{"header":["foo"]}}"#,
            r#"{"user_agent":{"header":{"foo":"bar"}}}"#,
        ] {
            assert!(
                matches!(agent(payload), Err(ProjectionError::InvalidPayload(_))),
                "{payload}"
            );
        }
    }
}
