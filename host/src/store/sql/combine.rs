//! Several PostgreSQL statements sent as one: each becomes a data-modifying
//! `WITH` query of one statement, so a layer of a batch's merged statements
//! costs one round trip instead of one per statement.
//!
//! Only statements that may run in any order relative to each other are
//! combined (the statements of one layer of [`crate::runtime`]'s merge:
//! their mutations never meet a common row). PostgreSQL runs every
//! data-modifying `WITH` query to completion whether or not the main query
//! reads it; those it does not read run after the main query, the last one
//! listed first. They are listed last statement first, so they run in the
//! order given: the order the statements would have run one by one.
//! Foreign keys are checked, and cascades run, when the whole statement
//! ends. A cascade that reaches a row another part of the statement
//! changed is refused ("already modified by an operation triggered by the
//! current command"), so a delete that cascades is never given here with
//! other statements (the merge keeps it alone).
//!
//! A combined statement's row count is its main query's, not the rows its
//! parts touched.

use super::{MAX_BINDS, Statement};

/// How every combined statement begins (and no other statement does).
const HEAD: &str = "WITH s0 AS (";

/// Whether `sql` is a combination of statements: its text varies with the
/// layer it holds, so preparing and caching it would only crowd the
/// per-connection statement cache.
pub fn is_combined(sql: &str) -> bool {
    sql.starts_with(HEAD)
}

/// Combine runs of `statements` into as few statements as [`MAX_BINDS`]
/// placeholders each allow, in order. A statement whose text this module
/// does not read with certainty (a quote, a comment, a `$` that is not a
/// placeholder), or that is a combination already, stays alone.
pub fn combine(statements: Vec<Statement>) -> Vec<Statement> {
    let mut out = Vec::new();
    let mut run: Vec<Statement> = Vec::new();
    let mut parameters = 0;
    for statement in statements {
        let n = statement.arrays.len() + statement.binds.len();
        if !combinable(&statement.sql) || n > MAX_BINDS {
            flush(&mut out, &mut run);
            parameters = 0;
            out.push(statement);
            continue;
        }
        if parameters + n > MAX_BINDS {
            flush(&mut out, &mut run);
            parameters = 0;
        }
        parameters += n;
        run.push(statement);
    }
    flush(&mut out, &mut run);
    out
}

fn flush(out: &mut Vec<Statement>, run: &mut Vec<Statement>) {
    match run.len() {
        0 => {}
        1 => out.append(run),
        _ => out.push(join(std::mem::take(run))),
    }
}

/// Whether a statement's text holds nothing but identifiers in double
/// quotes, keywords and numbered placeholders (`$n`): what the mutation
/// renderers write, and not a combination already: PostgreSQL allows a
/// `WITH` holding a data-modifying query at the top level only (the
/// renderers' own `WITH` lists hold `SELECT`s).
fn combinable(sql: &str) -> bool {
    if is_combined(sql) {
        return false;
    }
    let bytes = sql.as_bytes();
    let mut quoted = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            _ if quoted => {}
            b'\'' | b';' | b'\\' => return false,
            b'-' if bytes.get(i + 1) == Some(&b'-') => return false,
            b'/' if bytes.get(i + 1) == Some(&b'*') => return false,
            b'$' if !bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => return false,
            _ => {}
        }
    }
    !quoted
}

/// One statement from several combinable ones: their arrays, then their
/// other values, numbered anew.
fn join(statements: Vec<Statement>) -> Statement {
    let n_arrays: usize = statements.iter().map(|s| s.arrays.len()).sum();
    let mut parts = Vec::with_capacity(statements.len());
    let mut arrays = Vec::with_capacity(n_arrays);
    let mut binds = Vec::new();
    for statement in statements {
        let own_arrays = statement.arrays.len();
        let array_base = arrays.len();
        let bind_base = n_arrays + binds.len();
        let sql = renumber(&statement.sql, |n| {
            if n <= own_arrays {
                array_base + n
            } else {
                bind_base + (n - own_arrays)
            }
        });
        parts.push(sql);
        arrays.extend(statement.arrays);
        binds.extend(statement.binds);
    }
    let listed: Vec<String> = parts
        .into_iter()
        .rev()
        .enumerate()
        .map(|(n, sql)| format!("s{n} AS ({sql})"))
        .collect();
    Statement {
        sql: format!("WITH {}", listed.join(", ")) + " SELECT 1",
        binds,
        arrays,
    }
}

/// `sql` with each placeholder `$n` outside double quotes replaced by
/// `$map(n)`.
fn renumber(sql: &str, map: impl Fn(usize) -> usize) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut quoted = false;
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                out.push(c);
            }
            '$' if !quoted => {
                let mut n = 0usize;
                while let Some(&(_, d)) = chars.peek() {
                    let Some(digit) = d.to_digit(10) else { break };
                    n = n.saturating_mul(10).saturating_add(digit as usize);
                    chars.next();
                }
                out.push('$');
                out.push_str(&map(n).to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::ColumnArray;
    use projection_sdk::{ColumnType, Value};

    fn statement(sql: &str, arrays: usize, binds: usize) -> Statement {
        Statement {
            sql: sql.to_owned(),
            binds: (0..binds)
                .map(|n| (Value::Int(n as i64), ColumnType::Int))
                .collect(),
            arrays: (0..arrays)
                .map(|_| ColumnArray {
                    kind: ColumnType::Text,
                    values: vec![],
                })
                .collect(),
        }
    }

    #[test]
    fn placeholders_are_numbered_arrays_first_and_parts_listed_last_first() {
        let combined = combine(vec![
            statement("DELETE FROM \"a\" WHERE \"x\" = $1::TEXT", 0, 1),
            statement(
                "INSERT INTO \"b\" SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[]) WHERE $3::BIGINT > 0",
                2,
                1,
            ),
        ]);
        assert_eq!(combined.len(), 1);
        assert_eq!(
            combined[0].sql,
            "WITH s0 AS (INSERT INTO \"b\" SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[]) WHERE $4::BIGINT > 0), \
             s1 AS (DELETE FROM \"a\" WHERE \"x\" = $3::TEXT) SELECT 1"
        );
        assert!(is_combined(&combined[0].sql));
        assert_eq!(combined[0].arrays.len(), 2);
        assert_eq!(combined[0].binds.len(), 2);
    }

    #[test]
    fn a_placeholder_with_many_digits_is_renumbered_whole() {
        assert_eq!(renumber("$12 $3 \"$9\"", |n| n + 100), "$112 $103 \"$9\"");
    }

    #[test]
    fn text_it_cannot_read_with_certainty_stays_alone() {
        for sql in [
            "UPDATE \"a\" SET \"x\" = 'y'",
            "DELETE FROM \"a\"; DROP TABLE \"b\"",
            "DELETE FROM \"a\" -- comment",
            "DELETE FROM \"a\" /* comment */",
            "SELECT $$text$$",
            "SELECT E'\\x'",
            "SELECT \"unclosed",
        ] {
            assert!(!combinable(sql), "{sql}");
            let out = combine(vec![
                statement("DELETE FROM \"a\" WHERE \"x\" = $1::TEXT", 0, 1),
                statement(sql, 0, 0),
                statement("DELETE FROM \"b\" WHERE \"x\" = $1::TEXT", 0, 1),
            ]);
            assert_eq!(out.len(), 3, "{sql}");
            assert_eq!(out[1].sql, sql);
        }
        assert!(combinable("DELETE FROM \"it's\" WHERE \"a\" = $1::TEXT"));
        let combined = combine(vec![
            statement("DELETE FROM \"a\" WHERE \"x\" = $1::TEXT", 0, 1),
            statement("DELETE FROM \"b\" WHERE \"x\" = $1::TEXT", 0, 1),
        ]);
        assert!(
            !combinable(&combined[0].sql),
            "a combination is not combined again"
        );
    }

    #[test]
    fn runs_are_cut_at_the_parameter_limit_and_order_is_kept() {
        let half = MAX_BINDS / 2;
        let out = combine(vec![
            statement("DELETE FROM \"a\" WHERE \"x\" = ANY($1::TEXT[])", half, 0),
            statement("DELETE FROM \"b\" WHERE \"x\" = ANY($1::TEXT[])", half, 0),
            statement("DELETE FROM \"c\" WHERE \"x\" = ANY($1::TEXT[])", 1, 0),
            statement("DELETE FROM \"d\" WHERE \"x\" = $1::TEXT", 0, 1),
        ]);
        assert_eq!(out.len(), 2);
        assert!(out[0].sql.contains("\"a\"") && out[0].sql.contains("\"b\""));
        assert!(out[1].sql.contains("\"c\"") && out[1].sql.contains("\"d\""));
        assert_eq!(out[0].arrays.len(), 2 * half);
    }
}
