//! The case files vendored in the repository (`tests/conformance/`), and a
//! family's conformance test over them in one line ([`passes!`](crate::passes)).

use std::path::{Path, PathBuf};

use projection_sdk::Family;

use crate::{Report, load_cases, run_native};

/// Where the vendored case files live, relative to the repository root.
const VENDORED: &str = "tests/conformance";

/// The vendored case directory: `tests/conformance` in `from` or the
/// nearest ancestor that has one.
pub fn vendored_dir(from: &Path) -> Option<PathBuf> {
    from.ancestors()
        .map(|dir| dir.join(VENDORED))
        .find(|dir| dir.is_dir())
}

/// Run the vendored case files `files` (names without `.jsonl`) against
/// `F` natively and panic, with every diff, unless each of their cases ran
/// and passed. `crate_dir` is the calling crate's `CARGO_MANIFEST_DIR`, from
/// which the vendored directory is found.
///
/// Meant for tests; [`passes!`](crate::passes) writes the test.
pub fn assert_passes<F: Family>(crate_dir: &str, files: &[&str]) -> Report {
    let Some(dir) = vendored_dir(Path::new(crate_dir)) else {
        panic!("no {VENDORED} directory in {crate_dir} or above it");
    };
    let mut cases = Vec::new();
    for file in files {
        match load_cases(&dir.join(format!("{file}.jsonl"))) {
            Ok(more) => cases.extend(more),
            Err(error) => panic!("{error}"),
        }
    }
    let report = run_native::<F>(&cases);
    assert!(report.all_passed(), "{report}");
    let ran = report.passed.len() + report.failed.len();
    if ran != cases.len() {
        let skipped: Vec<&str> = cases
            .iter()
            .map(|c| c.name.as_str())
            .filter(|name| !report.passed.iter().any(|p| p == name))
            .collect();
        panic!(
            "{} of {} cases name tables {} does not declare: {skipped:?}",
            cases.len() - ran,
            cases.len(),
            F::describe().name
        );
    }
    report
}

/// A family's conformance test: every case of the named vendored case files
/// (`tests/conformance/<file>.jsonl`) runs natively against the family and
/// passes.
///
/// ```text
/// #[cfg(test)]
/// projection_conformance::passes!(Orgs, "org", "org_domain", "org_member", "org_metadata");
/// ```
///
/// It expands to the test `conformance::shared_conformance_cases_pass_natively`
/// (with `--nocapture` it prints the totals).
#[macro_export]
macro_rules! passes {
    ($family:ty, $($file:literal),+ $(,)?) => {
        #[cfg(test)]
        mod conformance {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn shared_conformance_cases_pass_natively() {
                let report = $crate::assert_passes::<$family>(
                    env!("CARGO_MANIFEST_DIR"),
                    &[$($file),+],
                );
                println!("{}", report.summary());
            }
        }
    };
}
