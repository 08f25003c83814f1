//! Each value encoding of the case format against actual values.

use serde_json::json;

use crate::matching::{Actual, matches};
use crate::{Expected, FIXED_CREATED_AT};
use projection_sdk::time::parse_rfc3339;
use projection_sdk::{ColumnOp, CopySource, Value};

fn expected(json: serde_json::Value) -> Expected {
    Expected::from_json(&json).expect("a valid encoding")
}

/// Whether the encoding `json` accepts the plain value `value`.
fn accepts(json: serde_json::Value, value: Value) -> bool {
    matches(&expected(json), Actual::Value(&value), FIXED_CREATED_AT)
}

fn accepts_op(json: serde_json::Value, op: ColumnOp) -> bool {
    matches(&expected(json), Actual::Op(&op), FIXED_CREATED_AT)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn json_text(s: &str) -> Value {
    Value::Json(s.to_owned())
}

#[test]
fn scalars() {
    assert!(accepts(json!("user-id"), text("user-id")));
    assert!(!accepts(json!("user-id"), text("user-id2")));
    assert!(!accepts(json!("user-id"), Value::Null));
    assert!(accepts(json!(15), Value::Int(15)));
    assert!(!accepts(json!(15), Value::Int(16)));
    assert!(!accepts(json!(2), text("2")));
    assert!(accepts(json!(true), Value::Boolean(true)));
    assert!(!accepts(json!(true), Value::Boolean(false)));
    assert!(accepts(json!(null), Value::Null));
    assert!(!accepts(json!(null), text("")));
    assert!(accepts(json!("a"), json_text("\"a\"")));
}

#[test]
fn timestamps() {
    let at = parse_rfc3339("2023-05-04T00:00:00Z").expect("time");
    assert!(accepts(json!("2023-05-04T00:00:00Z"), Value::Timestamp(at)));
    assert!(!accepts(
        json!("2023-05-04T00:00:00Z"),
        Value::Timestamp(at + 1)
    ));
    assert!(accepts(
        json!("2023-05-04T00:00:00Z"),
        text("2023-05-04T00:00:00Z")
    ));
    assert!(!accepts(json!("user-id"), Value::Timestamp(at)));
    assert!(accepts(
        json!({"event_created_at": true}),
        Value::Timestamp(FIXED_CREATED_AT)
    ));
    assert!(!accepts(
        json!({"event_created_at": true}),
        Value::Timestamp(at)
    ));
    assert!(!accepts(json!({"event_created_at": true}), text("x")));
}

#[test]
fn any_accepts_everything() {
    assert!(accepts(json!({"any": true}), Value::Null));
    assert!(accepts(json!({"any": true}), Value::Timestamp(1)));
    assert!(accepts_op(json!({"any": true}), ColumnOp::Increment(1)));
}

#[test]
fn arrays() {
    let texts = Value::TextArray(vec!["a".to_owned(), "b".to_owned()]);
    assert!(accepts(json!(["a", "b"]), texts.clone()));
    assert!(!accepts(json!(["b", "a"]), texts.clone()));
    assert!(!accepts(json!(["a"]), texts));
    assert!(accepts(json!([1, 2]), Value::IntArray(vec![1, 2])));
    assert!(!accepts(json!([1, 3]), Value::IntArray(vec![1, 2])));
    assert!(accepts(json!([]), Value::IntArray(vec![])));
    assert!(accepts(json!([]), Value::TextArray(vec![])));
}

#[test]
fn bytes() {
    let b64 = json!({"bytes_b64": "dHJ1ZQ=="});
    assert!(accepts(b64.clone(), Value::Bytes(b"true".to_vec())));
    assert!(accepts(b64.clone(), json_text("true")));
    assert!(accepts(b64.clone(), json_text(" true ")));
    assert!(!accepts(b64.clone(), json_text("false")));
    assert!(!accepts(b64.clone(), Value::Bytes(b"false".to_vec())));
    assert!(!accepts(b64, text("true")));
    let roles = json!({"bytes_b64": "W3siYSI6MSwiYiI6Mn1d"});
    assert!(accepts(roles, json_text(r#"[{"b":2,"a":1}]"#)));
}

#[test]
fn json_object_with_nested_bytes() {
    let metadata = json!({"key": {"bytes_b64": "dmFsdWU="}});
    assert!(accepts(
        metadata.clone(),
        json_text(r#"{"key":"dmFsdWU="}"#)
    ));
    assert!(!accepts(
        metadata.clone(),
        json_text(r#"{"key":"b3RoZXI="}"#)
    ));
    assert!(!accepts(
        metadata,
        json_text(r#"{"key":"dmFsdWU=","more":1}"#)
    ));
}

#[test]
fn encrypted_values() {
    let secret =
        json!({"CryptoType": 0, "Algorithm": "enc", "KeyID": "id", "Crypted": "cGFzc3dvcmQ="});
    let stored = r#"{"Crypted":"cGFzc3dvcmQ=","KeyID":"id","Algorithm":"enc","CryptoType":0}"#;
    assert!(accepts(secret.clone(), json_text(stored)));
    assert!(accepts(
        secret.clone(),
        Value::Bytes(stored.as_bytes().to_vec())
    ));
    assert!(!accepts(
        secret.clone(),
        json_text(&stored.replace("\"id\"", "\"other\""))
    ));
    assert!(!accepts(secret, text(stored)));
}

#[test]
fn durations() {
    assert!(accepts(json!({"duration_ns": 1000}), Value::Interval(1000)));
    assert!(!accepts(json!({"duration_ns": 1000}), Value::Interval(1)));
    assert!(!accepts(json!({"duration_ns": 1000}), Value::Int(1000)));
}

#[test]
fn copy_from_column() {
    let from = expected(json!({"copy_from_column": "creation_date"}));
    let column = CopySource::Column("creation_date".to_owned());
    let other = CopySource::Column("change_date".to_owned());
    assert!(matches(&from, Actual::Source(&column), 0));
    assert!(!matches(&from, Actual::Source(&other), 0));
    assert!(!matches(
        &from,
        Actual::Source(&CopySource::Value(Value::Timestamp(0))),
        0
    ));
    let op = ColumnOp::CopyFrom("creation_date".to_owned());
    assert!(matches(&from, Actual::Op(&op), 0));
    assert!(!matches(&from, Actual::Value(&text("creation_date")), 0));
}

#[test]
fn array_operations() {
    assert!(accepts_op(
        json!({"array_append": 1}),
        ColumnOp::ArrayAppend(Value::Int(1))
    ));
    assert!(!accepts_op(
        json!({"array_append": 1}),
        ColumnOp::ArrayAppend(Value::Int(2))
    ));
    assert!(!accepts_op(
        json!({"array_append": 1}),
        ColumnOp::ArrayRemove(Value::Int(1))
    ));
    assert!(!accepts_op(
        json!({"array_append": 1}),
        ColumnOp::Set(Value::IntArray(vec![1]))
    ));
    assert!(accepts_op(
        json!({"array_remove": "key"}),
        ColumnOp::ArrayRemove(text("key"))
    ));
    assert!(!accepts_op(
        json!({"array_remove": "key"}),
        ColumnOp::ArrayRemove(text("k"))
    ));
    let keep =
        |items: &[&str]| ColumnOp::ArrayIntersect(items.iter().map(|s| (*s).to_owned()).collect());
    assert!(accepts_op(
        json!({"array_intersect": ["key"]}),
        keep(&["key"])
    ));
    assert!(!accepts_op(
        json!({"array_intersect": ["key"]}),
        keep(&["other"])
    ));
    assert!(!accepts_op(
        json!({"array_intersect": ["key"]}),
        keep(&["key", "x"])
    ));
}

#[test]
fn set_operations_compare_their_value() {
    assert!(accepts_op(json!("x"), ColumnOp::Set(text("x"))));
    assert!(!accepts_op(json!("x"), ColumnOp::Set(text("y"))));
    assert!(!accepts_op(json!(1), ColumnOp::Increment(1)));
}

#[test]
fn malformed_markers_are_errors() {
    for bad in [
        json!({"bytes_b64": "***"}),
        json!({"bytes_b64": 1}),
        json!({"duration_ns": "1s"}),
        json!({"any": false}),
        json!({"copy_from_column": 3}),
        json!({"array_intersect": "x"}),
    ] {
        assert!(Expected::from_json(&bad).is_err(), "{bad}");
    }
    assert_eq!(
        expected(json!({"any": true, "other": 1})),
        Expected::Object(
            [
                ("any".to_owned(), Expected::Bool(true)),
                ("other".to_owned(), Expected::Number(1.into())),
            ]
            .into_iter()
            .collect()
        )
    );
}
