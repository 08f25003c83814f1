//! `idps_jwt_config_projection`: the JWT configuration of a legacy IdP
//! config (reference §6.10), a sub-table of `idps_projection`.
//!
//! Fed by `iam.idp.jwt.config.*` / `org.idp.jwt.config.*` (see
//! [`crate::config`]); adding it makes the IdP config a JWT one (`type` 2).
//! The payload's `jwtEndpoint` is the column `endpoint`.

use projection_sdk::{Handler, TableModule};

use crate::config::{self, Config, Legacy};
use crate::field::{Kind, field};
use crate::idp;
use crate::level::EventTypes;

/// The table name.
pub(crate) const TABLE: &str = "idps_jwt_config_projection";

/// The legacy JWT configuration.
pub(crate) struct JwtConfig;

impl Config for JwtConfig {
    const TABLE: &'static str = TABLE;
    const PARENT: &'static str = idp::TABLE;
    /// IDPConfigType JWT.
    const TYPE: i64 = 2;
    const LEGACY: Legacy = Legacy {
        added: EventTypes {
            instance: &["iam.idp.jwt.config.added"],
            org: &["org.idp.jwt.config.added"],
        },
        changed: EventTypes {
            instance: &["iam.idp.jwt.config.changed"],
            org: &["org.idp.jwt.config.changed"],
        },
        fields: &[
            field("issuer", "issuer", Kind::Text).nullable(),
            field("keysEndpoint", "keys_endpoint", Kind::Text).nullable(),
            field("headerName", "header_name", Kind::Text).nullable(),
            field("jwtEndpoint", "endpoint", Kind::Text).nullable(),
        ],
        constants: &[],
    };
    const TOUCH_ALONE: bool = false;
}

/// The handlers of the legacy JWT config events.
const HANDLERS: [Handler; 4] = config::handlers::<JwtConfig>();

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule =
    TableModule::new(TABLE, config::table::<JwtConfig>, &HANDLERS);
