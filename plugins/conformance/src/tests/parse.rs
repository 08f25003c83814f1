//! Reading case lines and files.

use std::path::{Path, PathBuf};

use super::one_case;
use crate::{CaseError, Expected, FIXED_CREATED_AT, Op, load_cases, parse_cases};
use projection_sdk::time::{format_rfc3339, parse_rfc3339};

const ORG_MEMBER_LINE: &str = r#"{"case":"org_member/org_member_added_type_import","zitadel_test":"org_member_test.go:TestOrgMemberProjection_reduces/org MemberAddedType, import","event":{"instance_id":"instance-id","aggregate_type":"org","aggregate_id":"agg-id","event_type":"org.member.added","sequence":15,"created_at":null,"resource_owner":"ro-id","creator":"editor-user","payload":{"userId":"user-id","roles":["role"]}},"effects":[{"op":"insert","table":"org_members_projection","values":{"user_id":"user-id","user_resource_owner":"org1","roles":["role"],"creation_date":{"any":true},"change_date":{"any":true},"sequence":15,"resource_owner":"ro-id","instance_id":"instance-id","org_id":"agg-id"}}],"notes":"lookup","prior_events":[{"instance_id":"instance-id","aggregate_type":"user","aggregate_id":"user-id","event_type":"user.human.added","sequence":1,"created_at":"2026-01-01T00:00:00Z","resource_owner":"org2","creator":"editor-user","payload":{"userName":"username1"}},{"instance_id":"instance-id","aggregate_type":"user","aggregate_id":"user-id","event_type":"user.human.added","sequence":2,"created_at":"2026-01-01T00:00:03Z","resource_owner":"org1","creator":"editor-user","payload":{"userName":"username1"}}]}"#;

const FEATURE_LINE: &str = r#"{"case":"instance_features/reduce_instance_set_feature","zitadel_test":"t","event":{"instance_id":"instance-id","aggregate_type":"feature","aggregate_id":"agg-id","event_type":"feature.system.user_schema.set","sequence":15,"created_at":null,"resource_owner":"ro-id","creator":"editor-user","payload":null},"effects":[{"op":"upsert","table":"instance_features_projection","values":{"instance_id":"agg-id","value":{"bytes_b64":"dHJ1ZQ=="}},"conflict":["instance_id","key"],"keep_on_conflict":["creation_date"]}],"notes":""}"#;

#[test]
fn parses_a_case_with_prior_events() {
    let case = one_case(ORG_MEMBER_LINE);
    assert_eq!(case.name, "org_member/org_member_added_type_import");
    assert_eq!(case.family_prefix(), "org_member");
    assert_eq!(case.notes, "lookup");
    let event = &case.event;
    assert_eq!(event.position, "0");
    assert_eq!(event.in_tx_order, 0);
    assert_eq!(event.revision, 1);
    assert_eq!(event.created_at, FIXED_CREATED_AT);
    assert_eq!(event.owner, "ro-id");
    assert_eq!(event.sequence, 15);
    assert_eq!(event.event_type, "org.member.added");
    let payload: serde_json::Value =
        serde_json::from_str(event.payload.as_deref().unwrap_or_default()).expect("json payload");
    assert_eq!(
        payload,
        serde_json::json!({"userId": "user-id", "roles": ["role"]})
    );

    let prior = &case.prior_events;
    assert_eq!(prior.len(), 2);
    assert_eq!(prior[0].owner, "org2");
    assert_eq!((prior[0].in_tx_order, prior[1].in_tx_order), (0, 1));
    assert_eq!(prior[0].created_at, 1_767_225_600_000_000);
    assert_eq!(prior[1].created_at, 1_767_225_603_000_000);

    let effect = &case.effects[0];
    assert_eq!(effect.op, Op::Insert);
    assert_eq!(effect.table.as_deref(), Some("org_members_projection"));
    assert_eq!(effect.values.get("creation_date"), Some(&Expected::Any));
    assert_eq!(
        effect.values.get("roles"),
        Some(&Expected::Array(vec![Expected::Text("role".to_owned())]))
    );
}

#[test]
fn parses_null_payload_and_upsert_fields() {
    let case = one_case(FEATURE_LINE);
    assert_eq!(case.event.payload, None);
    assert!(case.prior_events.is_empty());
    let effect = &case.effects[0];
    assert_eq!(effect.op, Op::Upsert);
    assert_eq!(
        effect.values.get("value"),
        Some(&Expected::Bytes(b"true".to_vec()))
    );
    assert_eq!(
        effect.conflict.as_deref(),
        Some(&["instance_id".to_owned(), "key".to_owned()][..])
    );
    assert_eq!(
        effect.keep_on_conflict.as_deref(),
        Some(&["creation_date".to_owned()][..])
    );
}

#[test]
fn errors_name_the_file_and_line() {
    let text = format!("{FEATURE_LINE}\n\n{FEATURE_LINE}\n{{\"case\": 1}}\n");
    let err = parse_cases(&text, "cases/x.jsonl").expect_err("line 4 is invalid");
    assert!(
        matches!(&err, CaseError::Invalid { line: 4, .. }),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("cases/x.jsonl:4: "), "{err}");

    let bad_time = FEATURE_LINE.replace("\"created_at\":null", "\"created_at\":\"yesterday\"");
    let err = parse_cases(&bad_time, "t.jsonl").expect_err("bad time");
    assert!(err.to_string().contains("yesterday"), "{err}");

    let bad_bytes = FEATURE_LINE.replace("dHJ1ZQ==", "not base64!");
    let err = parse_cases(&bad_bytes, "t.jsonl").expect_err("bad base64");
    assert!(err.to_string().contains("t.jsonl:1: "), "{err}");
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn loads_a_directory_of_jsonl_files_in_name_order() {
    let dir = TempDir(
        std::env::temp_dir().join(format!("projection-sdk-conformance-{}", std::process::id())),
    );
    std::fs::create_dir_all(&dir.0).expect("temp dir");
    std::fs::write(dir.0.join("b.jsonl"), ORG_MEMBER_LINE).expect("write b");
    std::fs::write(dir.0.join("a.jsonl"), FEATURE_LINE).expect("write a");
    std::fs::write(dir.0.join("notes.txt"), "not a case").expect("write notes");

    let cases = load_cases(&dir.0).expect("cases");
    let names: Vec<&str> = cases.iter().map(|c| c.family_prefix()).collect();
    assert_eq!(names, ["instance_features", "org_member"]);

    let single = load_cases(&dir.0.join("b.jsonl")).expect("one file");
    assert_eq!(single.len(), 1);

    let missing = load_cases(&dir.0.join("missing.jsonl")).expect_err("missing file");
    assert!(matches!(missing, CaseError::Io { .. }), "{missing:?}");
}

/// Every line of the vendored case files parses.
#[test]
fn parses_the_vendored_case_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance");
    let cases = load_cases(&dir).expect("vendored cases parse");
    assert!(cases.len() >= 400, "{} cases", cases.len());
    assert!(cases.iter().all(|c| !c.effects.is_empty()));
}

#[test]
fn fixed_created_at_is_the_documented_time() {
    assert_eq!(
        parse_rfc3339("2024-01-02T03:04:05.678901Z"),
        Some(FIXED_CREATED_AT)
    );
    assert_eq!(
        format_rfc3339(FIXED_CREATED_AT),
        "2024-01-02T03:04:05.678901Z"
    );
}
