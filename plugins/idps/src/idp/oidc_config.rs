//! `idps_oidc_config_projection`: the OIDC configuration of a legacy IdP
//! config (reference §6.10), a sub-table of `idps_projection`.
//!
//! Fed by `iam.idp.oidc.config.*` / `org.idp.oidc.config.*` (see
//! [`crate::config`]); adding it makes the IdP config an OIDC one (`type`
//! 0). Every column but the keys takes NULL; the secret is a CryptoValue
//! kept as JSON.

use projection_sdk::{Handler, TableModule};

use crate::config::{self, Config, Legacy};
use crate::field::{Kind, field};
use crate::idp;
use crate::level::EventTypes;

/// The table name.
pub(crate) const TABLE: &str = "idps_oidc_config_projection";

/// The legacy OIDC configuration.
pub(crate) struct OidcConfig;

impl Config for OidcConfig {
    const TABLE: &'static str = TABLE;
    const PARENT: &'static str = idp::TABLE;
    /// IDPConfigType OIDC.
    const TYPE: i64 = 0;
    const LEGACY: Legacy = Legacy {
        added: EventTypes {
            instance: &["iam.idp.oidc.config.added"],
            org: &["org.idp.oidc.config.added"],
        },
        changed: EventTypes {
            instance: &["iam.idp.oidc.config.changed"],
            org: &["org.idp.oidc.config.changed"],
        },
        fields: &[
            field("clientId", "client_id", Kind::Text).nullable(),
            field("clientSecret", "client_secret", Kind::Secret).nullable(),
            field("issuer", "issuer", Kind::Text).nullable(),
            field("scopes", "scopes", Kind::TextArray).nullable(),
            field("idpDisplayNameMapping", "display_name_mapping", Kind::Enum).nullable(),
            field("usernameMapping", "username_mapping", Kind::Enum).nullable(),
            field(
                "authorizationEndpoint",
                "authorization_endpoint",
                Kind::Text,
            )
            .nullable(),
            field("tokenEndpoint", "token_endpoint", Kind::Text).nullable(),
        ],
        constants: &[],
    };
    const TOUCH_ALONE: bool = false;
}

/// The handlers of the legacy OIDC config events.
const HANDLERS: [Handler; 4] = config::handlers::<OidcConfig>();

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule =
    TableModule::new(TABLE, config::table::<OidcConfig>, &HANDLERS);
