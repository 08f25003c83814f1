//! `check`: conformance cases through the real WASM path.

use host::check;

use crate::support;

const FILES: &[&str] = &[
    "instance",
    "instance_domain",
    "instance_trusted_domain",
    "instance_member",
    "instance_features",
    "org",
    "org_domain",
    "org_member",
    "org_metadata",
];

#[test]
fn every_instances_and_orgs_case_passes_through_wasm() {
    let paths: Vec<_> = FILES
        .iter()
        .map(|f| support::conformance_dir().join(format!("{f}.jsonl")))
        .collect();
    let cases = check::load(&paths).unwrap();
    assert_eq!(cases.len(), 47);
    let mut plugins = support::plugins(&["instances", "orgs"]);
    let report = check::run(&mut plugins, &cases).unwrap();
    let failures: Vec<_> = report
        .verdicts
        .iter()
        .filter_map(|v| v.failure.as_ref())
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(report.summary(), "47 passed, 0 failed");
}

#[test]
fn a_wrong_plugin_fails_its_case_with_a_readable_diff() {
    let cases = check::load(&[support::conformance_dir().join("org.jsonl")]).unwrap();
    let mut plugins = support::plugins(&["wrong_orgs"]);
    let report = check::run(&mut plugins, &cases).unwrap();
    assert_eq!(report.summary(), "6 passed, 1 failed");
    let failed = report
        .verdicts
        .iter()
        .find(|v| v.failure.is_some())
        .unwrap();
    assert_eq!(failed.case, "org/reduce_org_deactivated");
    let diff = failed.failure.as_deref().unwrap();
    assert!(diff.contains("org_state"), "{diff}");
}

#[test]
fn cases_of_families_nobody_installed_fail() {
    let cases = check::load(&[support::conformance_dir().join("project.jsonl")]).unwrap();
    let mut plugins = support::plugins(&["instances", "orgs"]);
    let report = check::run(&mut plugins, &cases).unwrap();
    assert_eq!(report.n_passed(), 0);
    assert!(
        report.verdicts[0]
            .failure
            .as_deref()
            .unwrap()
            .contains("no installed plugin")
    );
}
