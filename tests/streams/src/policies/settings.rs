//! The settings of the policy events: every setting of a kind in an added
//! event (Zitadel's `omitempty` mostly drops the ones with Go's zero
//! value), some of them in a changed event, and the defaults an instance's
//! set-up writes.

use serde_json::{Map, Value, json};

use super::Kind;
use crate::generator::Gen;
use crate::projects::unchanged;
use crate::text;

/// An hour in nanoseconds (the lifetimes are Go durations).
const HOUR: i64 = 3_600_000_000_000;

/// Links of the privacy policy, some empty.
const LINKS: &[&str] = &[
    "",
    "https://example.com/legal/privacy",
    "https://acme.ch/de/datenschutz?lang=de&ref=login",
    "https://例え.jp/利用規約",
    "http://localhost:8080/tos",
    "https://docs.example.org/help#\"faq\"",
];

/// Support addresses, one empty.
const EMAILS: &[&str] = &[
    "",
    "support@example.com",
    "hilfe@müller.de",
    "it+login@acme.ch",
];

/// Default redirect URIs of the login policy, one empty.
const REDIRECTS: &[&str] = &[
    "",
    "https://app.example.com/",
    "https://portal.example.org/login?next=%2Fhome",
    "http://localhost:3000/callback",
    "https://例え.jp/ホーム",
];

/// Go's zero value of a setting.
fn zero(value: &Value) -> bool {
    match value {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0),
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// A colour as the label policy writes it: `#rrggbb`, now and then empty.
fn color(g: &mut Gen) -> Value {
    if g.rng.chance(10) {
        json!("")
    } else {
        json!(format!("#{}", text::hex(&mut g.rng, 6)))
    }
}

/// The settings of `kind` with random values, in Zitadel's field order.
fn random(g: &mut Gen, kind: Kind) -> Vec<(&'static str, Value)> {
    match kind {
        Kind::Complexity => vec![
            ("minLength", json!(g.rng.one(&[1, 6, 8, 8, 10, 12, 16, 72]))),
            ("hasLowercase", json!(g.rng.chance(70))),
            ("hasUppercase", json!(g.rng.chance(70))),
            ("hasNumber", json!(g.rng.chance(70))),
            ("hasSymbol", json!(g.rng.chance(50))),
        ],
        Kind::Age => vec![
            ("expireWarnDays", json!(g.rng.one(&[0, 0, 5, 7, 14]))),
            ("maxAgeDays", json!(g.rng.one(&[0, 30, 90, 180, 365]))),
        ],
        Kind::Login => login(g),
        Kind::Lockout => vec![
            ("maxPasswordAttempts", json!(g.rng.one(&[0, 3, 5, 10]))),
            ("maxOTPAttempts", json!(g.rng.one(&[0, 3, 5]))),
            ("showLockOutFailures", json!(g.rng.coin())),
        ],
        Kind::Privacy => {
            let mut values: Vec<(&'static str, Value)> = ["tosLink", "privacyLink", "helpLink"]
                .into_iter()
                .map(|key| (key, json!(g.rng.one(LINKS))))
                .collect();
            values.push(("supportEmail", json!(g.rng.one(EMAILS))));
            values.push(("docsLink", json!(g.rng.one(LINKS))));
            values.push(("customLink", json!(g.rng.one(LINKS))));
            let custom = match g.rng.below(4) {
                0 => String::new(),
                1 => "Hilfe & Kontakt".to_owned(),
                2 => "お問い合わせ".to_owned(),
                _ => text::words(&mut g.rng, 3),
            };
            values.push(("customLinkText", json!(custom)));
            values
        }
        Kind::Label => label(g),
        Kind::Notification => vec![("passwordChange", json!(g.rng.coin()))],
    }
}

/// Random login policy settings.
fn login(g: &mut Gen) -> Vec<(&'static str, Value)> {
    let mut values: Vec<(&'static str, Value)> = [
        ("allowUsernamePassword", 85),
        ("allowRegister", 50),
        ("allowExternalIdp", 50),
        ("forceMFA", 25),
        ("forceMFALocalOnly", 15),
        ("hidePasswordReset", 20),
        ("ignoreUnknownUsernames", 30),
        ("allowDomainDiscovery", 30),
        ("disableLoginWithEmail", 10),
        ("disableLoginWithPhone", 20),
    ]
    .into_iter()
    .map(|(key, percent)| (key, json!(g.rng.chance(percent))))
    .collect();
    values.push(("passwordlessType", json!(g.rng.below(2))));
    values.push(("defaultRedirectURI", json!(g.rng.one(REDIRECTS))));
    let lifetimes: [(&'static str, &[i64]); 5] = [
        ("passwordCheckLifetime", &[240, 24, 720, 1]),
        ("externalLoginCheckLifetime", &[240, 12, 0]),
        ("mfaInitSkipLifetime", &[720, 0, 168]),
        ("secondFactorCheckLifetime", &[18, 8, 1]),
        ("multiFactorCheckLifetime", &[12, 8, 0]),
    ];
    for (key, hours) in lifetimes {
        values.push((key, json!(g.rng.one(hours) * HOUR)));
    }
    values
}

/// Random label policy settings (the added event's names).
fn label(g: &mut Gen) -> Vec<(&'static str, Value)> {
    let mut values: Vec<(&'static str, Value)> = [
        "primaryColor",
        "backgroundColor",
        "warnColor",
        "fontColor",
        "primaryColorDark",
        "backgroundColorDark",
        "warnColorDark",
        "fontColorDark",
    ]
    .into_iter()
    .map(|key| (key, color(g)))
    .collect();
    for key in ["hideLoginNameSuffix", "errorMsgPopup", "disableMsgPopup"] {
        values.push((key, json!(g.rng.coin())));
    }
    values.push(("themeMode", json!(g.rng.below(3))));
    values
}

/// Zitadel's default settings of an instance.
fn default_values(kind: Kind) -> Vec<(&'static str, Value)> {
    let hours = |h: i64| json!(h * HOUR);
    match kind {
        Kind::Complexity => vec![
            ("minLength", json!(8)),
            ("hasLowercase", json!(true)),
            ("hasUppercase", json!(true)),
            ("hasNumber", json!(true)),
            ("hasSymbol", json!(true)),
        ],
        Kind::Age => vec![("expireWarnDays", json!(0)), ("maxAgeDays", json!(0))],
        Kind::Login => vec![
            ("allowUsernamePassword", json!(true)),
            ("allowRegister", json!(true)),
            ("allowExternalIdp", json!(true)),
            ("forceMFA", json!(false)),
            ("hidePasswordReset", json!(false)),
            ("passwordlessType", json!(1)),
            ("passwordCheckLifetime", hours(240)),
            ("externalLoginCheckLifetime", hours(240)),
            ("mfaInitSkipLifetime", hours(720)),
            ("secondFactorCheckLifetime", hours(18)),
            ("multiFactorCheckLifetime", hours(12)),
        ],
        Kind::Lockout => vec![
            ("maxPasswordAttempts", json!(0)),
            ("maxOTPAttempts", json!(0)),
            ("showLockOutFailures", json!(true)),
        ],
        Kind::Privacy => vec![
            (
                "tosLink",
                json!("https://zitadel.com/docs/legal/terms-of-service"),
            ),
            (
                "privacyLink",
                json!("https://zitadel.com/docs/legal/policies/privacy-policy"),
            ),
            ("helpLink", json!("")),
            ("supportEmail", json!("")),
            ("docsLink", json!("https://zitadel.com/docs")),
            ("customLink", json!("")),
            ("customLinkText", json!("")),
        ],
        Kind::Label => vec![
            ("primaryColor", json!("#5469d4")),
            ("backgroundColor", json!("#fafafa")),
            ("warnColor", json!("#cd3d56")),
            ("fontColor", json!("#000000")),
            ("primaryColorDark", json!("#2073c4")),
            ("backgroundColorDark", json!("#111827")),
            ("warnColorDark", json!("#ff3b5b")),
            ("fontColorDark", json!("#ffffff")),
            ("hideLoginNameSuffix", json!(false)),
            ("errorMsgPopup", json!(false)),
            ("disableMsgPopup", json!(false)),
            ("themeMode", json!(0)),
        ],
        Kind::Notification => vec![("passwordChange", json!(true))],
    }
}

/// An added event's payload of `values`: a setting with Go's zero value is
/// mostly left out (`omitempty`), else written.
fn added_payload(g: &mut Gen, values: Vec<(&'static str, Value)>) -> Value {
    let mut p = Map::new();
    for (key, value) in values {
        if !zero(&value) || g.rng.chance(20) {
            p.insert(key.to_owned(), value);
        }
    }
    Value::Object(p)
}

/// The payload of an org's added policy of `kind`: random settings.
pub(super) fn added(g: &mut Gen, kind: Kind) -> Value {
    let values = random(g, kind);
    added_payload(g, values)
}

/// The payload of the instance's default policy of `kind` at set-up:
/// Zitadel's defaults, a setting or two configured otherwise now and then.
pub(super) fn defaults(g: &mut Gen, kind: Kind) -> Value {
    let mut values = default_values(kind);
    if g.rng.chance(30) {
        let other = random(g, kind);
        let (key, value) = other[g.rng.below(other.len())].clone();
        match values.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => values.push((key, value)),
        }
    }
    added_payload(g, values)
}

/// The payload of a changed policy of `kind` (`event_type`): a few
/// settings, now and then none. The label policy's watermark flag is named
/// `disableWatermark` here.
pub(super) fn changed(g: &mut Gen, kind: Kind, event_type: &str) -> Value {
    let mut p = Map::new();
    if unchanged(g, event_type, 5) {
        return Value::Object(p);
    }
    let values = random(g, kind);
    let always = g.rng.below(values.len());
    for (i, (key, value)) in values.into_iter().enumerate() {
        if i == always || g.rng.chance(30) {
            let key = if key == "disableMsgPopup" {
                "disableWatermark"
            } else {
                key
            };
            p.insert(key.to_owned(), value);
        }
    }
    Value::Object(p)
}
