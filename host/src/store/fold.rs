//! One case folding on both stores. SQLite's built-in `lower()` folds ASCII
//! letters only; PostgreSQL's folds every letter of the database's UTF-8
//! locale. Generated lower-case columns, expression indexes and views all
//! call `lower`, so every SQLite connection replaces it with [`fold`]: the
//! same text then gives the same rows on both stores.
//!
//! The folding is per character, each to its lower-case form (the first
//! character where Unicode gives several, as for `İ`), as PostgreSQL does
//! with a UTF-8 locale: no context rules such as a final sigma.

#![allow(unsafe_code)]

use std::ffi::c_int;

use libsqlite3_sys as ffi;
use sqlx::sqlite::SqliteConnection;

/// Lower-case `text` one character at a time.
pub fn fold(text: &str) -> String {
    text.chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect()
}

/// Replace `lower(x)` on one SQLite connection (deterministic, so generated
/// columns and indexes may use it).
pub(super) async fn install(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is the live connection this handle locks; the name is a
    // NUL-terminated constant; `lower_callback` matches SQLite's scalar
    // function signature and keeps no state (no user data, no destructor).
    let rc = unsafe {
        ffi::sqlite3_create_function_v2(
            db,
            c"lower".as_ptr(),
            1,
            ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC,
            std::ptr::null_mut(),
            Some(lower_callback),
            None,
            None,
            None,
        )
    };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Configuration(
            format!("cannot define lower() on SQLite (code {rc})").into(),
        ))
    }
}

/// `lower(x)`: NULL stays NULL; anything else is read as text and folded.
unsafe extern "C" fn lower_callback(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite calls this with `argc` valid values in `argv` (the
    // function is registered with one argument); the text pointer it gives
    // stays valid until the value is next converted, and is read here
    // before that; the result is copied by SQLite (SQLITE_TRANSIENT).
    unsafe {
        if argc != 1 || argv.is_null() {
            ffi::sqlite3_result_null(ctx);
            return;
        }
        let value = *argv;
        if ffi::sqlite3_value_type(value) == ffi::SQLITE_NULL {
            ffi::sqlite3_result_null(ctx);
            return;
        }
        let text = ffi::sqlite3_value_text(value);
        let len = ffi::sqlite3_value_bytes(value);
        let bytes: &[u8] = if text.is_null() || len <= 0 {
            &[]
        } else {
            std::slice::from_raw_parts(text, len as usize)
        };
        let folded = fold(&String::from_utf8_lossy(bytes));
        ffi::sqlite3_result_text64(
            ctx,
            folded.as_ptr().cast(),
            folded.len() as u64,
            ffi::SQLITE_TRANSIENT(),
            ffi::SQLITE_UTF8 as u8,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folds_every_letter_one_by_one() {
        assert_eq!(fold("JOSÉ0"), "josé0");
        assert_eq!(fold("ÄÖÜ Straße"), "äöü straße");
        assert_eq!(fold("ΟΔΟΣ"), "οδοσ");
        assert_eq!(fold("İstanbul"), "istanbul");
        assert_eq!(fold("名前 🦀 $$ 'x'"), "名前 🦀 $$ 'x'");
    }
}
