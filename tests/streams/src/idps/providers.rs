//! The 13 provider kinds of IdP templates: their event types at instance
//! and at org level, and the payloads of their added, changed and migrated
//! events.
//!
//! An added event carries the id, the name, the options and the provider's
//! fields as Zitadel marshals them (`omitempty`: an empty text, list or
//! false flag is left out); a changed event carries the id and some of the
//! name, the options (explicit `false` included) and the provider's fields,
//! now and then none of them. Secrets (`clientSecret` / `client_secret`,
//! `bindPassword`, `privateKey`, `key`) are `CryptoValue` objects; bytes
//! (`rootCA`, SAML `metadata` and `certificate`) are base64 text; the LDAP
//! timeout is a Go duration in nanoseconds. Azure AD and GitLab spell the
//! client `client_id` / `client_secret`, the others `clientId` /
//! `clientSecret`.

use serde_json::{Map, Value, json};

use crate::generator::Gen;
use crate::text;

/// A provider kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    /// Generic OAuth 2.
    OAuth,
    /// OpenID Connect.
    Oidc,
    /// JWT.
    Jwt,
    /// Azure AD.
    AzureAd,
    /// GitHub.
    GitHub,
    /// GitHub Enterprise.
    GitHubEnterprise,
    /// GitLab.
    GitLab,
    /// Self-hosted GitLab.
    GitLabSelfHosted,
    /// Google.
    Google,
    /// LDAP.
    Ldap,
    /// Sign in with Apple.
    Apple,
    /// SAML.
    Saml,
    /// Another Zitadel instance.
    Zitadel,
}

/// The kinds, in the order of the event type lists below.
pub(crate) const PROVIDERS: [Provider; 13] = [
    Provider::OAuth,
    Provider::Oidc,
    Provider::Jwt,
    Provider::AzureAd,
    Provider::GitHub,
    Provider::GitHubEnterprise,
    Provider::GitLab,
    Provider::GitLabSelfHosted,
    Provider::Google,
    Provider::Ldap,
    Provider::Apple,
    Provider::Saml,
    Provider::Zitadel,
];

/// `<level>.idp.<kind>.<suffix>` of every kind, in the order of
/// [`PROVIDERS`]; `$ldap` is LDAP's segment (`ldap.v2` at instance level).
macro_rules! by_provider {
    ($level:literal, $ldap:literal, $suffix:literal) => {
        [
            concat!($level, ".idp.oauth.", $suffix),
            concat!($level, ".idp.oidc.", $suffix),
            concat!($level, ".idp.jwt.", $suffix),
            concat!($level, ".idp.azure.", $suffix),
            concat!($level, ".idp.github.", $suffix),
            concat!($level, ".idp.github_enterprise.", $suffix),
            concat!($level, ".idp.gitlab.", $suffix),
            concat!($level, ".idp.gitlab_self_hosted.", $suffix),
            concat!($level, ".idp.google.", $suffix),
            concat!($level, ".idp.", $ldap, ".", $suffix),
            concat!($level, ".idp.apple.", $suffix),
            concat!($level, ".idp.saml.", $suffix),
            concat!($level, ".idp.zitadel.", $suffix),
        ]
    };
}

/// The instance's IdPs added.
pub(crate) const INSTANCE_ADDED: [&str; 13] = by_provider!("instance", "ldap.v2", "added");
/// An org's IdPs added.
pub(crate) const ORG_ADDED: [&str; 13] = by_provider!("org", "ldap", "added");
/// The instance's IdPs changed.
pub(crate) const INSTANCE_CHANGED: [&str; 13] = by_provider!("instance", "ldap.v2", "changed");
/// An org's IdPs changed.
pub(crate) const ORG_CHANGED: [&str; 13] = by_provider!("org", "ldap", "changed");

/// The migrations of an OIDC IdP: to Azure AD and to Google, at instance
/// and at org level.
pub(crate) const MIGRATED: [&str; 4] = [
    "instance.idp.oidc.migrated.azure",
    "instance.idp.oidc.migrated.google",
    "org.idp.oidc.migrated.azure",
    "org.idp.oidc.migrated.google",
];

impl Provider {
    /// The kind's place in [`PROVIDERS`].
    pub(crate) fn index(self) -> usize {
        PROVIDERS.iter().position(|p| *p == self).unwrap_or(0)
    }

    /// The added event of the kind, of an org's IdP when `org`.
    pub(crate) fn added(self, org: bool) -> &'static str {
        if org {
            ORG_ADDED[self.index()]
        } else {
            INSTANCE_ADDED[self.index()]
        }
    }

    /// The changed event of the kind, of an org's IdP when `org`.
    pub(crate) fn changed(self, org: bool) -> &'static str {
        if org {
            ORG_CHANGED[self.index()]
        } else {
            INSTANCE_CHANGED[self.index()]
        }
    }

    /// How often a new IdP is of this kind, relative to the others.
    pub(crate) fn popularity(self) -> usize {
        match self {
            Provider::Google | Provider::AzureAd | Provider::Oidc => 6,
            Provider::Saml | Provider::GitHub => 4,
            Provider::Ldap | Provider::GitLab | Provider::OAuth | Provider::Apple => 3,
            Provider::Jwt
            | Provider::GitHubEnterprise
            | Provider::GitLabSelfHosted
            | Provider::Zitadel => 2,
        }
    }

    /// The usual display names of an IdP of the kind.
    fn names(self) -> &'static [&'static str] {
        match self {
            Provider::OAuth => &["OAuth", "Keycloak (OAuth)", "Auth0", "Okta OAuth"],
            Provider::Oidc => &["OIDC", "Keycloak", "Okta", "Authentik", "Dex"],
            Provider::Jwt => &["JWT", "Legacy portal token", "Gateway JWT"],
            Provider::AzureAd => &["Microsoft", "Azure AD", "Entra ID", "Contoso Azure"],
            Provider::GitHub => &["GitHub", "GitHub.com"],
            Provider::GitHubEnterprise => &["GitHub Enterprise", "GHE corp"],
            Provider::GitLab => &["GitLab", "GitLab.com"],
            Provider::GitLabSelfHosted => &["GitLab self-hosted", "git.corp"],
            Provider::Google => &["Google", "Google Workspace", "Sign in with Google"],
            Provider::Ldap => &["LDAP", "Active Directory", "OpenLDAP corp"],
            Provider::Apple => &["Apple", "Sign in with Apple"],
            Provider::Saml => &["SAML", "ADFS", "Shibboleth", "Okta SAML"],
            Provider::Zitadel => &["ZITADEL", "Zitadel cloud", "Parent instance"],
        }
    }
}

/// Names with the texts real data holds.
const ODD_NAMES: &[&str] = &[
    "Connexion d'entreprise",
    "社内 SSO",
    "Вход через LDAP",
    "تسجيل الدخول الموحد",
    "כניסה ארגונית",
    "🔐 SSO",
    "\"Quoted\" IdP",
    "Back\\slash AD",
    "$$sso$$",
    "Müller & Söhne Login",
];

/// A display name of an IdP of `provider`: mostly a usual one, sometimes
/// one of the odd texts, empty (left out) or a few KB.
pub(crate) fn name(g: &mut Gen, provider: Provider) -> String {
    match g.rng.below(25) {
        0 => String::new(),
        1 => text::long(&mut g.rng, 2100),
        2..=5 => g.rng.one(ODD_NAMES).to_owned(),
        _ => {
            let name = g.rng.one(provider.names());
            if g.rng.chance(20) {
                format!("{name} {}", g.rng.range(2, 9))
            } else {
                name.to_owned()
            }
        }
    }
}

/// An encrypted secret: a `CryptoValue` as Go marshals it (no JSON tags),
/// the encrypted bytes ASCII inside.
pub(crate) fn secret(g: &mut Gen) -> Value {
    let n = g.rng.range(32, 64);
    let plain = text::hex(&mut g.rng, n);
    json!({
        "CryptoType": 0,
        "Algorithm": "aes",
        "KeyID": g.rng.one(&["idpConfigKey", "k", "idpConfigKey"]),
        "Crypted": text::base64(plain.as_bytes()),
    })
}

/// A UUID-shaped id.
pub(crate) fn uuid(g: &mut Gen) -> String {
    let h = text::hex(&mut g.rng, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Scopes: a subset of `all` (possibly empty, then left out of an added
/// event).
fn scopes(g: &mut Gen, all: &[&str]) -> Value {
    json!(g.rng.subset(all, 0))
}

/// Upper-case letters and digits, as Apple's team and key ids.
fn apple_id(g: &mut Gen) -> String {
    (0..10)
        .map(|_| char::from(b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"[g.rng.below(34)]))
        .collect()
}

/// A PEM certificate as base64 (Go's `[]byte`): a few hundred bytes to a
/// few KB.
fn certificate(g: &mut Gen) -> String {
    let n = g.rng.range(300, 1600);
    let body = text::base64(&text::bytes(&mut g.rng, n));
    let pem = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
    text::base64(pem.as_bytes())
}

/// The SAML metadata of an identity provider at `host`, base64 encoded.
fn saml_metadata(g: &mut Gen, host: &str) -> String {
    let n = g.rng.range(200, 1200);
    let cert = text::base64(&text::bytes(&mut g.rng, n));
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor \
         xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"https://{host}/saml\">\
         <md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\
         <md:KeyDescriptor use=\"signing\"><ds:KeyInfo \
         xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data><ds:X509Certificate>\
         {cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\
         <md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" \
         Location=\"https://{host}/saml/sso\"/></md:IDPSSODescriptor></md:EntityDescriptor>\n"
    );
    text::base64(xml.as_bytes())
}

/// The host of an IdP of tenant `t` run by the customer itself.
pub(crate) fn own_host(g: &mut Gen, t: usize) -> String {
    let domain = g.tenants[t].primary_domain();
    let label = g.rng.one(&["sso", "login", "auth", "idp", "id"]);
    match g.rng.below(6) {
        0 => "auth.bücher.example".to_owned(),
        1 => format!("{label}.corp.example:8443"),
        _ => format!("{label}.{domain}"),
    }
}

/// The LDAP attribute mappings, each set now and then.
const LDAP_ATTRIBUTES: [(&str, &[&str]); 13] = [
    ("idAttribute", &["uid", "objectGUID", "entryUUID"]),
    ("firstNameAttribute", &["givenName"]),
    ("lastNameAttribute", &["sn"]),
    ("displayNameAttribute", &["displayName", "cn"]),
    ("nickNameAttribute", &["nickname", "uid"]),
    (
        "preferredUsernameAttribute",
        &["uid", "sAMAccountName", "userPrincipalName"],
    ),
    ("emailAttribute", &["mail", "userPrincipalName"]),
    ("emailVerifiedAttribute", &["emailVerified", ""]),
    ("phoneAttribute", &["telephoneNumber", "mobile"]),
    ("phoneVerifiedAttribute", &["phoneVerified"]),
    ("preferredLanguageAttribute", &["preferredLanguage", "lang"]),
    ("avatarURLAttribute", &["jpegPhoto", "thumbnailPhoto"]),
    ("profileAttribute", &["labeledURI", "wWWHomePage"]),
];

/// The provider's fields of an IdP of tenant `t`, every one with a value
/// (false flags and empty texts and lists included; an added event leaves
/// those out). The SAML name id format is there only now and then (a Go
/// pointer).
fn fields(g: &mut Gen, t: usize, provider: Provider) -> Vec<(&'static str, Value)> {
    match provider {
        Provider::OAuth => {
            let host = own_host(g, t);
            vec![
                ("clientId", json!(text::hex(&mut g.rng, 24))),
                ("clientSecret", secret(g)),
                (
                    "authorizationEndpoint",
                    json!(format!("https://{host}/oauth/authorize")),
                ),
                (
                    "tokenEndpoint",
                    json!(format!("https://{host}/oauth/token")),
                ),
                ("userEndpoint", json!(format!("https://{host}/userinfo"))),
                (
                    "scopes",
                    scopes(g, &["openid", "profile", "email", "read:user"]),
                ),
                (
                    "idAttribute",
                    json!(g.rng.one(&["id", "sub", "user_id", ""])),
                ),
                ("usePKCE", json!(g.rng.coin())),
            ]
        }
        Provider::Oidc => {
            let host = own_host(g, t);
            vec![
                ("issuer", json!(format!("https://{host}"))),
                ("clientId", json!(text::hex(&mut g.rng, 20))),
                ("clientSecret", secret(g)),
                (
                    "scopes",
                    scopes(
                        g,
                        &["openid", "profile", "email", "offline_access", "groups"],
                    ),
                ),
                ("idTokenMapping", json!(g.rng.coin())),
                ("usePKCE", json!(g.rng.coin())),
            ]
        }
        Provider::Jwt => {
            let host = own_host(g, t);
            vec![
                ("issuer", json!(format!("https://{host}"))),
                ("jwtEndpoint", json!(format!("https://{host}/jwt"))),
                (
                    "keysEndpoint",
                    json!(format!("https://{host}/.well-known/jwks.json")),
                ),
                (
                    "headerName",
                    json!(g.rng.one(&["Authorization", "x-auth-token", ""])),
                ),
                (
                    "audience",
                    json!(g.rng.one(&["portal", "", "api://default"])),
                ),
            ]
        }
        Provider::AzureAd => {
            let tenant = match g.rng.below(4) {
                0 => String::new(),
                1 => g
                    .rng
                    .one(&["common", "organizations", "consumers"])
                    .to_owned(),
                _ => uuid(g),
            };
            vec![
                ("client_id", json!(uuid(g))),
                ("client_secret", secret(g)),
                (
                    "scopes",
                    scopes(g, &["openid", "profile", "email", "User.Read"]),
                ),
                ("tenant", json!(tenant)),
                ("isEmailVerified", json!(g.rng.coin())),
            ]
        }
        Provider::GitHub => vec![
            (
                "clientId",
                json!(format!("Iv1.{}", text::hex(&mut g.rng, 16))),
            ),
            ("clientSecret", secret(g)),
            (
                "scopes",
                scopes(g, &["read:user", "user:email", "read:org"]),
            ),
        ],
        Provider::GitHubEnterprise => {
            let host = format!("github.{}", g.tenants[t].primary_domain());
            vec![
                (
                    "clientId",
                    json!(format!("Iv1.{}", text::hex(&mut g.rng, 16))),
                ),
                ("clientSecret", secret(g)),
                (
                    "authorizationEndpoint",
                    json!(format!("https://{host}/login/oauth/authorize")),
                ),
                (
                    "tokenEndpoint",
                    json!(format!("https://{host}/login/oauth/access_token")),
                ),
                ("userEndpoint", json!(format!("https://{host}/api/v3/user"))),
                ("scopes", scopes(g, &["read:user", "user:email"])),
            ]
        }
        Provider::GitLab => vec![
            ("client_id", json!(text::hex(&mut g.rng, 64))),
            ("client_secret", secret(g)),
            (
                "scopes",
                scopes(g, &["openid", "profile", "email", "read_user"]),
            ),
        ],
        Provider::GitLabSelfHosted => vec![
            (
                "issuer",
                json!(format!("https://gitlab.{}", g.tenants[t].primary_domain())),
            ),
            ("client_id", json!(text::hex(&mut g.rng, 64))),
            ("client_secret", secret(g)),
            ("scopes", scopes(g, &["openid", "profile", "email", "api"])),
        ],
        Provider::Google => {
            let number = g.rng.range(100_000_000_000, 999_999_999_999);
            let client = format!(
                "{number}-{}.apps.googleusercontent.com",
                text::hex(&mut g.rng, 32)
            );
            vec![
                ("clientId", json!(client)),
                ("clientSecret", secret(g)),
                ("scopes", scopes(g, &["openid", "profile", "email"])),
            ]
        }
        Provider::Ldap => ldap(g),
        Provider::Apple => {
            let app = g.rng.one(&["portal", "shop", "app"]);
            vec![
                ("clientId", json!(format!("com.example.{app}.signin"))),
                ("teamId", json!(apple_id(g))),
                ("keyId", json!(apple_id(g))),
                ("privateKey", secret(g)),
                ("scopes", scopes(g, &["name", "email"])),
            ]
        }
        Provider::Saml => saml(g, t),
        Provider::Zitadel => {
            let issuer = format!(
                "https://{}-{}.zitadel.cloud",
                g.rng.one(&["parent", "corp", "acme"]),
                text::hex(&mut g.rng, 6)
            );
            let mut out = vec![
                ("issuer", json!(issuer)),
                ("clientId", json!(format!("{}@zitadel", g.id()))),
                ("clientSecret", secret(g)),
                (
                    "scopes",
                    scopes(
                        g,
                        &[
                            "openid",
                            "profile",
                            "email",
                            "urn:zitadel:iam:org:project:id:zitadel:aud",
                        ],
                    ),
                ),
            ];
            if g.rng.coin() {
                let roles: Vec<Value> = (0..g.rng.range(1, 3))
                    .map(|_| {
                        let label = g.rng.one(&["acme", "müller", "dept-a", "部門"]);
                        json!({
                            "organizationId": g.id(),
                            "organizationDomain": format!("{label}.zitadel.cloud"),
                        })
                    })
                    .collect();
                out.push(("instanceRolesInfo", Value::Array(roles)));
            }
            out
        }
    }
}

/// The fields of an LDAP IdP.
fn ldap(g: &mut Gen) -> Vec<(&'static str, Value)> {
    let base = g.rng.one(&[
        "dc=corp,dc=example",
        "DC=Ünïcødé,DC=example",
        "ou=Müller\\, Söhne,dc=example,dc=org",
        "o=社内,c=JP",
    ]);
    let servers = g.rng.subset(
        &[
            "ldaps://ldap1.corp.example:636",
            "ldap://ldap2.corp.example:389",
            "ldaps://[2001:db8::1]:636",
        ],
        1,
    );
    let timeout: i64 = g.rng.one(&[0, 10, 30, 90]) * 1_000_000_000;
    let mut out = vec![
        ("servers", json!(servers)),
        ("startTLS", json!(g.rng.coin())),
        ("baseDN", json!(base)),
        (
            "bindDN",
            json!(format!(
                "cn={},{base}",
                g.rng.one(&["admin", "zitadel", "svc-sso"])
            )),
        ),
        ("bindPassword", secret(g)),
        (
            "userBase",
            json!(g.rng.one(&["dn", "uid", "sAMAccountName"])),
        ),
        (
            "userObjectClasses",
            json!(g.rng.subset(
                &["inetOrgPerson", "person", "user", "organizationalPerson"],
                1
            )),
        ),
        (
            "userFilters",
            json!(g.rng.subset(
                &[
                    "uid",
                    "mail",
                    "sAMAccountName",
                    "(&(objectClass=user)(memberOf=cn=Ärzte,ou=groups))",
                ],
                1
            )),
        ),
        ("timeout", json!(timeout)),
    ];
    if g.rng.chance(40) {
        out.push(("rootCA", json!(certificate(g))));
    }
    for (key, values) in LDAP_ATTRIBUTES {
        if g.rng.chance(60) {
            out.push((key, json!(g.rng.one(values))));
        }
    }
    out
}

/// The fields of a SAML IdP.
fn saml(g: &mut Gen, t: usize) -> Vec<(&'static str, Value)> {
    let host = own_host(g, t);
    let mut out = vec![
        ("metadata", json!(saml_metadata(g, &host))),
        ("key", secret(g)),
        ("certificate", json!(certificate(g))),
        (
            "binding",
            json!(g.rng.one(&[
                "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
                "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
                "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact",
                "",
            ])),
        ),
        ("withSignedRequest", json!(g.rng.coin())),
        (
            "signatureAlgorithm",
            json!(g.rng.one(&[
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
                "",
            ])),
        ),
        (
            "transientMappingAttributeName",
            json!(
                g.rng
                    .one(&["", "urn:oid:0.9.2342.19200300.100.1.1", "employeeNumber"])
            ),
        ),
        ("federatedLogoutEnabled", json!(g.rng.coin())),
    ];
    if g.rng.coin() {
        out.push(("nameIDFormat", json!(g.rng.below(4))));
    }
    out
}

/// Whether Go's `omitempty` leaves `value` out: false, an empty text or
/// list, a zero number (the SAML name id format, a pointer, stays).
fn omitted(key: &str, value: &Value) -> bool {
    match value {
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Number(n) => key != "nameIDFormat" && n.as_i64() == Some(0),
        _ => false,
    }
}

/// The option flags of a template.
const OPTION_FLAGS: [&str; 4] = [
    "isCreationAllowed",
    "isLinkingAllowed",
    "isAutoCreation",
    "isAutoUpdate",
];

/// The payload of an added event of `provider` (and of a migration to it):
/// the id, the name, the options that are set and the provider's fields
/// that are not empty.
pub(crate) fn added(g: &mut Gen, t: usize, id: &str, provider: Provider) -> Value {
    let mut p = Map::new();
    p.insert("id".to_owned(), json!(id));
    let name = name(g, provider);
    if !name.is_empty() {
        p.insert("name".to_owned(), json!(name));
    }
    for (key, value) in fields(g, t, provider) {
        if !omitted(key, &value) {
            p.insert(key.to_owned(), value);
        }
    }
    for (flag, percent) in OPTION_FLAGS.into_iter().zip([80, 80, 40, 30]) {
        if g.rng.chance(percent) {
            p.insert(flag.to_owned(), json!(true));
        }
    }
    let linking = g.rng.below(3);
    if linking > 0 {
        p.insert("autoLinkingOption".to_owned(), json!(linking));
    }
    Value::Object(p)
}

/// The payload of a changed event of `provider`: the id and some of the
/// name, the options and the provider's fields; only the id when `none`.
pub(crate) fn changed(g: &mut Gen, t: usize, id: &str, provider: Provider, none: bool) -> Value {
    let mut p = Map::new();
    p.insert("id".to_owned(), json!(id));
    if none {
        return Value::Object(p);
    }
    if g.rng.chance(30) {
        p.insert("name".to_owned(), json!(name(g, provider)));
    }
    for flag in OPTION_FLAGS {
        if g.rng.chance(20) {
            p.insert(flag.to_owned(), json!(g.rng.coin()));
        }
    }
    if g.rng.chance(15) {
        p.insert("autoLinkingOption".to_owned(), json!(g.rng.below(3)));
    }
    let all = fields(g, t, provider);
    let share = g.rng.one(&[20, 40, 70]);
    for (key, value) in all {
        let empty_list = matches!(&value, Value::Array(items) if items.is_empty());
        if !empty_list && g.rng.chance(share) {
            p.insert(key.to_owned(), value);
        }
    }
    if p.len() == 1 {
        p.insert("name".to_owned(), json!(name(g, provider)));
    }
    Value::Object(p)
}
