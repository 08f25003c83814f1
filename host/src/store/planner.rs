//! How projector's PostgreSQL connections plan their statements.
//!
//! A family's writes are point writes: every merged update or delete finds
//! its rows by key, a batch's rows bound as arrays (`UNNEST`). PostgreSQL's
//! defaults plan them badly in two ways, both measured on the users family's
//! replay of 1,000,000 events:
//!
//! - `plan_cache_mode`: a prepared statement gets a generic plan after five
//!   executions, made without its values. It cannot know an array's length
//!   (it assumes ten rows), and when it is made while a family's tables are
//!   still small it hashes the whole table, then is kept as the table grows:
//!   every later batch reads every row. Planned on every execution
//!   (`force_custom_plan`), a statement sees its row count and the table's
//!   current size. Planning costs a fraction of a millisecond, against a
//!   batch of hundreds of rows.
//! - `random_page_cost`: the default, 4, prices a key look-up as a read from
//!   a spinning disk. Against it, a batch of 226 rows in a table of 9,200 was
//!   planned as a scan of the whole table hashed (20 ms) rather than 226
//!   look-ups by key (a few ms). 1.1 is the usual value for data in memory or
//!   on SSDs; with it, the rows read by whole-table scans in that replay fell
//!   from 12 million to 0.4 million.
//!
//! Each is set on a connection only where nobody chose it: a value from the
//! server's configuration file, `ALTER DATABASE`/`ALTER ROLE ... SET`, or the
//! connection URL's `options` (`?options=-c%20random_page_cost%3D2`) is left
//! as it is.

use sqlx::PgConnection;

/// A planner setting projector's connections take unless someone chose it.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The parameter.
    pub name: &'static str,
    /// projector's value.
    pub tuned: &'static str,
    /// PostgreSQL's built-in default.
    pub built_in: &'static str,
}

/// The settings projector's connections take unless someone chose them.
pub const SETTINGS: &[Setting] = &[
    Setting {
        name: "plan_cache_mode",
        tuned: "force_custom_plan",
        built_in: "auto",
    },
    Setting {
        name: "random_page_cost",
        tuned: "1.1",
        built_in: "4",
    },
];

/// Apply [`SETTINGS`] whose value on this connection is the server's
/// built-in default; one round trip, run once per new pooled connection.
pub async fn tune(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let names: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
    let values: Vec<&str> = SETTINGS.iter().map(|s| s.tuned).collect();
    sqlx::query(
        "SELECT set_config(s.name, d.value, false) \
         FROM UNNEST($1::text[], $2::text[]) AS d(name, value) \
         JOIN pg_settings s ON s.name = d.name WHERE s.source = 'default'",
    )
    .bind(names)
    .bind(values)
    .fetch_all(conn)
    .await?;
    Ok(())
}

/// `url` with every one of [`SETTINGS`] chosen at PostgreSQL's built-in
/// default, in the URL's `options`: its connections plan as those of a
/// server nobody tuned (what the bench's reference path measures).
pub fn untuned(url: &str) -> String {
    let options: Vec<String> = SETTINGS
        .iter()
        .map(|s| format!("-c%20{}%3D{}", s.name, s.built_in))
        .collect();
    let glue = if url.contains('?') { '&' } else { '?' };
    format!("{url}{glue}options={}", options.join("%20"))
}

#[cfg(test)]
mod tests {
    use super::untuned;

    #[test]
    fn untuned_urls_choose_the_built_in_defaults() {
        assert_eq!(
            untuned("postgres://h/db"),
            "postgres://h/db?options=-c%20plan_cache_mode%3Dauto%20-c%20random_page_cost%3D4"
        );
        assert!(
            untuned("postgres://h/db?sslmode=disable")
                .starts_with("postgres://h/db?sslmode=disable&options=-c%20plan_cache_mode%3Dauto")
        );
    }
}
