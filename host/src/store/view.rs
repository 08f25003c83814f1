//! Render a family's declared views to `CREATE VIEW` statements.
//!
//! Views cannot bind parameters, so constants are written as literals by
//! [`super::literal::constant`] (only null, integers, booleans and text; text
//! in a form that reads the same whatever the server's string settings; NUL
//! refused). Every name is checked against the declared schema by
//! [`projection_sdk::check_view`] and quoted through the identifier
//! allow-list. Every join gets `alias.instance_id = base.instance_id`, so a
//! row of a view never combines two tenants.

use projection_sdk::{Description, ExprRef, View, ViewExpr, check_view};

use super::sql::quote;
use super::{Dialect, StoreError};

struct Renderer<'a> {
    dialect: Dialect,
    view: &'a View,
    /// SQL of every expression rendered so far.
    rendered: Vec<String>,
}

impl Renderer<'_> {
    fn get(&self, r: ExprRef) -> Result<&str, StoreError> {
        self.rendered
            .get(r.0 as usize)
            .map(String::as_str)
            .ok_or_else(|| StoreError::BadValue(format!("no expression {}", r.0)))
    }

    fn list(&self, parts: &[ExprRef], separator: &str) -> Result<String, StoreError> {
        Ok(parts
            .iter()
            .map(|p| self.get(*p))
            .collect::<Result<Vec<_>, _>>()?
            .join(separator))
    }

    fn render(&self, expr: &ViewExpr) -> Result<String, StoreError> {
        Ok(match expr {
            ViewExpr::Column { alias, column } => format!("{}.{}", quote(alias)?, quote(column)?),
            ViewExpr::Literal(value) => super::literal::constant(self.dialect, value, None)?,
            ViewExpr::Lower(a) => format!("lower({})", self.get(*a)?),
            ViewExpr::Concat(parts) => format!("({})", self.list(parts, " || ")?),
            ViewExpr::Coalesce(parts) => format!("COALESCE({})", self.list(parts, ", ")?),
            ViewExpr::Equals(a, b) => format!("({} = {})", self.get(*a)?, self.get(*b)?),
            ViewExpr::Not(a) => format!("(NOT {})", self.get(*a)?),
            ViewExpr::All(parts) => format!("({})", self.list(parts, " AND ")?),
            ViewExpr::IsNull(a) => format!("({} IS NULL)", self.get(*a)?),
            ViewExpr::When {
                condition,
                then,
                otherwise,
            } => format!(
                "CASE WHEN {} THEN {} ELSE {} END",
                self.get(*condition)?,
                self.get(*then)?,
                self.get(*otherwise)?
            ),
        })
    }
}

/// The `SELECT` of a view, after checking it against the description.
pub fn select_sql(
    dialect: Dialect,
    description: &Description,
    view: &View,
) -> Result<String, StoreError> {
    check_view(description, view)?;
    let mut renderer = Renderer {
        dialect,
        view,
        rendered: Vec::with_capacity(view.exprs.len()),
    };
    for expr in &renderer.view.exprs {
        let sql = renderer.render(expr)?;
        renderer.rendered.push(sql);
    }
    let base = quote(&view.alias)?;
    let mut sql = String::from("SELECT ");
    let outputs = view
        .columns
        .iter()
        .map(|c| Ok(format!("{} AS {}", renderer.get(c.expr)?, quote(&c.name)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    sql.push_str(&outputs.join(", "));
    sql.push_str(&format!(" FROM {} AS {base}", quote(&view.table)?));
    for join in &view.joins {
        let alias = quote(&join.alias)?;
        let mut on = vec![format!("{alias}.\"instance_id\" = {base}.\"instance_id\"")];
        for condition in &join.on {
            on.push(renderer.get(*condition)?.to_owned());
        }
        sql.push_str(&format!(
            " LEFT JOIN {} AS {alias} ON {}",
            quote(&join.table)?,
            on.join(" AND ")
        ));
    }
    Ok(sql)
}

/// `CREATE VIEW` for one declared view (kept if it exists: the family's
/// recorded description guards its shape).
pub fn create_view_sql(
    dialect: Dialect,
    description: &Description,
    view: &View,
) -> Result<String, StoreError> {
    let select = select_sql(dialect, description, view)?;
    let name = quote(&view.name)?;
    Ok(match dialect {
        Dialect::Sqlite => format!("CREATE VIEW IF NOT EXISTS {name} AS {select}"),
        Dialect::Postgres => format!("CREATE OR REPLACE VIEW {name} AS {select}"),
    })
}

/// `DROP VIEW IF EXISTS`.
pub fn drop_view_sql(name: &str) -> Result<String, StoreError> {
    Ok(format!("DROP VIEW IF EXISTS {}", quote(name)?))
}
