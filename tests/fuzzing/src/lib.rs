//! A small fuzzing harness on stable Rust, shared by the fuzz targets of the
//! host and the SDK: each target is an ordinary test fed with bytes from a
//! seeded PRNG read through `arbitrary::Unstructured`, for a bounded time.
//!
//! `PROJECTOR_FUZZ_SECS` sets the time per target (default 1 s),
//! `PROJECTOR_FUZZ_SEED` the seed (default: from the clock). A target prints
//! `fuzz <target>: <N> iterations in <S> s`; a failure prints the input and
//! the seed that replays it first.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arbitrary::Unstructured;
use projection_model::time::format_rfc3339;
use projection_model::validate::{MAX_TIME_MICROS, MIN_TIME_MICROS};

/// A generated input, or not enough bytes for one.
pub type Gen<T> = arbitrary::Result<T>;

/// What one iteration's check says: a label to count, or a broken property.
pub type Verdict = Result<&'static str, String>;

fn budget() -> Duration {
    match std::env::var("PROJECTOR_FUZZ_SECS") {
        Ok(text) => {
            let secs: f64 = text
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("PROJECTOR_FUZZ_SECS={text:?} is not seconds"));
            Duration::from_secs_f64(secs.max(0.0))
        }
        Err(_) => Duration::from_secs(1),
    }
}

fn seed() -> u64 {
    match std::env::var("PROJECTOR_FUZZ_SEED") {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("PROJECTOR_FUZZ_SEED={text:?} is not a u64")),
        Err(_) => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let mut state = now.as_secs() ^ u64::from(now.subsec_nanos()).rotate_left(32);
            splitmix(&mut state)
        }
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Run `check` on inputs from `generate` until the time budget is spent.
///
/// Iteration seeds form a chain from the run's seed, so the seed printed for
/// a failing iteration replays that input as the first one of a new run.
pub fn fuzz<I: Debug>(
    target: &str,
    mut generate: impl FnMut(&mut Unstructured<'_>) -> Gen<I>,
    mut check: impl FnMut(&I) -> Verdict,
) -> BTreeMap<&'static str, u64> {
    let budget = budget();
    let run_seed = seed();
    let start = Instant::now();
    let mut tally: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut iterations: u64 = 0;
    let mut next_seed = run_seed;
    let mut data = Vec::new();
    while iterations == 0 || start.elapsed() < budget {
        let this_seed = next_seed;
        let mut chain = this_seed ^ 0xA076_1D64_78BD_642F;
        next_seed = splitmix(&mut chain);
        let mut state = this_seed;
        let len = 16 + usize::try_from(splitmix(&mut state) % 2048).unwrap();
        data.clear();
        while data.len() < len {
            data.extend_from_slice(&splitmix(&mut state).to_le_bytes());
        }
        let replay = || {
            format!(
                "replay: PROJECTOR_FUZZ_SEED={this_seed} \
                 (iteration {iterations} of the run with seed {run_seed})"
            )
        };
        let generated = catch_unwind(AssertUnwindSafe(|| generate(&mut Unstructured::new(&data))));
        let input = match generated {
            Ok(Ok(input)) => input,
            Ok(Err(_)) => {
                iterations += 1;
                *tally.entry("skipped").or_default() += 1;
                continue;
            }
            Err(panic) => panic!(
                "fuzz {target}: the generator panicked: {}\n{}",
                panic_text(&*panic),
                replay()
            ),
        };
        match catch_unwind(AssertUnwindSafe(|| check(&input))) {
            Ok(Ok(label)) => *tally.entry(label).or_default() += 1,
            Ok(Err(broken)) => panic!("fuzz {target}: {broken}\ninput: {input:#?}\n{}", replay()),
            Err(panic) => panic!(
                "fuzz {target}: panicked: {}\ninput: {input:#?}\n{}",
                panic_text(&*panic),
                replay()
            ),
        }
        iterations += 1;
    }
    let counts: Vec<String> = tally.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "fuzz {target}: {iterations} iterations in {:.1} s ({}; seed {run_seed})",
        start.elapsed().as_secs_f64(),
        counts.join(", ")
    );
    tally
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "<not a string>".to_owned())
}

/// Return `Err(message)` from a check unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// The non-blank lines of the file at `path`.
pub fn real_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// A mutated copy of `line` (the value after one of `keys` replaced, one
/// of `fragments` spliced in): byte flips, truncation, deletion, duplication,
/// values replaced and fragments spliced in.
pub fn mutate(
    u: &mut Unstructured<'_>,
    line: &str,
    keys: &[&str],
    fragments: &[&str],
) -> Gen<String> {
    let mut bytes = line.as_bytes().to_vec();
    for _ in 0..1 + u.int_in_range(0..=3u8)? {
        let len = bytes.len();
        match u.int_in_range(0..=9u8)? {
            0 if len > 0 => {
                let i = u.choose_index(len)?;
                bytes[i] ^= 1 << u.int_in_range(0..=7u8)?;
            }
            1 if len > 0 => {
                let i = u.choose_index(len)?;
                bytes[i] = u.arbitrary()?;
            }
            2 => bytes.truncate(u.int_in_range(0..=len)?),
            3 if len > 0 => {
                let a = u.choose_index(len)?;
                let b = u.int_in_range(a..=len.min(a + 40))?;
                bytes.drain(a..b);
            }
            4 if len > 0 => {
                let a = u.choose_index(len)?;
                let b = u.int_in_range(a..=len.min(a + 60))?;
                let chunk = bytes[a..b].to_vec();
                let at = u.int_in_range(0..=len)?;
                bytes.splice(at..at, chunk);
            }
            5 => {
                let depth = u.int_in_range(1..=400usize)?;
                let at = u.int_in_range(0..=len)?;
                let open = if u.arbitrary()? { "[" } else { "{\"a\":" };
                bytes.splice(at..at, open.repeat(depth).into_bytes());
            }
            6 | 7 => {
                let key = *u.choose(keys)?;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                if let Some(at) = text.find(key) {
                    let start = at + key.len();
                    let end = text[start..]
                        .find([',', '}'])
                        .map_or(text.len(), |e| start + e);
                    let value = json_scalar(u)?;
                    bytes = format!("{}{value}{}", &text[..start], &text[end..]).into_bytes();
                }
            }
            _ => {
                let fragment = *u.choose(fragments)?;
                let at = u.int_in_range(0..=len)?;
                bytes.splice(at..at, fragment.bytes());
            }
        }
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A JSON scalar, often a time or a number as text.
pub fn json_scalar(u: &mut Unstructured<'_>) -> Gen<String> {
    Ok(match u.int_in_range(0..=7u8)? {
        0 => serde_json::to_string(&u.arbitrary::<String>()?).unwrap(),
        1 => u.arbitrary::<i64>()?.to_string(),
        2 => {
            let f: f64 = u.arbitrary()?;
            serde_json::to_string(&f).unwrap()
        }
        3 => (*u.choose(&[
            "null", "true", "[]", "{}", "1.0e10", "-0.0", "\"12.5\"", "\"-1\"",
        ])?)
        .to_owned(),
        _ => {
            let micros = u.int_in_range(MIN_TIME_MICROS..=MAX_TIME_MICROS)?;
            let mut t = format_rfc3339(micros).into_bytes();
            if u.arbitrary()? {
                let i = u.choose_index(t.len())?;
                let c: char = u.arbitrary()?;
                let mut buf = [0; 4];
                t.splice(i..=i, c.encode_utf8(&mut buf).bytes());
            }
            serde_json::to_string(&String::from_utf8_lossy(&t)).unwrap()
        }
    })
}

/// The non-blank lines of `text`, numbered from 1.
pub fn non_blank(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l))
        .collect()
}
