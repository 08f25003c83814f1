//! `check`: conformance cases through the real WASM path.

use host::check;

use crate::support;

/// Case files of families the project does not have yet. Each must fail
/// whole (no installed plugin declares its tables); a file leaves this list
/// when its family lands, and every case of every other file must pass.
const NOT_YET_WRITTEN: &[&str] = &[];

#[test]
fn every_case_of_every_family_passes_through_wasm() {
    let mut files: Vec<_> = std::fs::read_dir(support::conformance_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut plugins = support::plugins(support::FAMILIES);
    let (mut n_passed, mut per_file) = (0, Vec::new());
    for path in &files {
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let cases = check::load(std::slice::from_ref(path)).unwrap();
        let report = check::run(&mut plugins, &cases).unwrap();
        if NOT_YET_WRITTEN.contains(&stem) {
            assert_eq!(report.n_passed(), 0, "{stem} has a family now");
            continue;
        }
        let failures: Vec<_> = report
            .verdicts
            .iter()
            .filter_map(|v| v.failure.as_ref())
            .collect();
        assert!(failures.is_empty(), "{stem}: {failures:#?}");
        assert!(!cases.is_empty(), "{stem} has no cases");
        n_passed += report.n_passed();
        per_file.push(format!("{stem} {}", report.n_passed()));
    }
    println!("{n_passed} cases passed: {}", per_file.join(", "));
    assert_eq!(per_file.len() + NOT_YET_WRITTEN.len(), files.len());
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
