//! The family fence: a batch planned before an operation replaced the
//! family's rows and checkpoints is never applied over them.
//!
//! A replay plans batch N+1 while batch N applies, and `run` keeps a read
//! cursor across rounds; both rest on the checkpoints the replay read when it
//! started. An online rebuild swaps in rows and checkpoints built aside, from
//! another process or task. Without a fence, a batch planned against the old
//! checkpoints could commit after the swap and apply its events a second
//! time.
//!
//! Every installed family has a *generation* (`projector_families.generation`,
//! migration 0008). A replay reads it before its checkpoints ([`generation`]);
//! every apply transaction reads it again as its first statement ([`check`]),
//! on PostgreSQL under a share lock (`FOR SHARE`), and refuses to commit when
//! it moved ([`StoreError::Superseded`]): the replay then starts again from
//! the checkpoints. An operation that replaces rows and checkpoints moves
//! the generation as its first statement ([`supersede`]): on PostgreSQL the
//! row lock waits for the applies in flight to commit and holds back new
//! ones until the operation commits; on SQLite every writer is serialised
//! (`BEGIN IMMEDIATE`) and the read inside the apply sees the last commit.
//! An operation that only reads the live rows at one point ([`hold`], for
//! `verify`) takes the same lock without moving the generation; so does an
//! install, which only creates what is missing. The drop-and-rebuild in
//! place and the deletion of a tenant's rows (`ddl`) move it too.
//!
//! The family's row is locked before any of its tables, as every apply does,
//! so none of these can deadlock with an apply in flight.
//!
//! Order matters: the generation is read before the checkpoints, so a swap
//! between the two reads is seen as a moved generation (the replay restarts
//! once, for nothing) rather than missed.

use projection_sdk::{ColumnType, Value};
use sqlx::Row;

use super::bind::ph;
use super::{Db, Statement, StoreError, Tx};

/// The family's generation now; `None` for a family that is not installed
/// (a build aside, which only its own replay writes).
pub async fn generation(db: &Db, family: &str) -> Result<Option<i64>, StoreError> {
    let sql = format!(
        "SELECT generation FROM projector_families WHERE name = {}",
        ph(db.dialect(), 1, "TEXT")
    );
    let rows = super::fetch_rows!(db, &sql, binds = [family], |r| r.try_get::<i64, _>(0)?);
    Ok(rows.into_iter().next())
}

/// Read the generation inside an apply transaction, as its first statement
/// (PostgreSQL: under a share lock held to the commit), and refuse when it
/// is no longer `expected`.
pub async fn check(tx: &mut Tx, family: &str, expected: Option<i64>) -> Result<(), StoreError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let now = read(tx, family, " FOR SHARE").await?;
    if now == Some(expected) {
        return Ok(());
    }
    Err(StoreError::Superseded {
        family: family.to_owned(),
    })
}

/// Move the family's generation, as the first statement of a transaction
/// that replaces its rows and checkpoints: waits for the applies in flight,
/// and every batch planned before it will be refused.
pub async fn supersede(tx: &mut Tx, family: &str) -> Result<(), StoreError> {
    let d = tx.dialect();
    let n = tx
        .execute(&Statement {
            sql: format!(
                "UPDATE projector_families SET generation = generation + 1 WHERE name = {}",
                ph(d, 1, "TEXT")
            ),
            binds: vec![(Value::Text(family.to_owned()), ColumnType::Text)],
            arrays: Vec::new(),
        })
        .await?;
    if n == 0 {
        return Err(StoreError::NotInstalled(family.to_owned()));
    }
    Ok(())
}

/// [`supersede`] for a family that may not be installed yet (a first
/// install has no applies to fence).
pub async fn supersede_if_installed(tx: &mut Tx, family: &str) -> Result<(), StoreError> {
    match supersede(tx, family).await {
        Err(StoreError::NotInstalled(_)) => Ok(()),
        other => other,
    }
}

/// Hold back the family's applies until the transaction ends, without
/// moving the generation (PostgreSQL: waits for the applies in flight; on
/// SQLite the transaction's write lock does both).
pub async fn hold(tx: &mut Tx, family: &str) -> Result<(), StoreError> {
    read(tx, family, " FOR UPDATE").await?;
    Ok(())
}

/// Hold back operations that replace the family's rows or drop one of its
/// lanes until the transaction ends (PostgreSQL: a share lock on the
/// family's row, as every apply of the live family takes in [`check`]).
pub async fn share(tx: &mut Tx, family: &str) -> Result<(), StoreError> {
    read(tx, family, " FOR SHARE").await?;
    Ok(())
}

/// The generation inside a transaction, with a row lock on PostgreSQL.
async fn read(tx: &mut Tx, family: &str, lock: &str) -> Result<Option<i64>, StoreError> {
    Ok(match tx {
        Tx::Sqlite(t) => sqlx::query("SELECT generation FROM projector_families WHERE name = ?1")
            .bind(family)
            .fetch_optional(&mut **t)
            .await?
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?,
        Tx::Postgres(t) => sqlx::query(&format!(
            "SELECT generation FROM projector_families WHERE name = $1{lock}"
        ))
        .bind(family)
        .fetch_optional(&mut **t)
        .await?
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?,
    })
}
