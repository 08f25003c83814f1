//! `user_auth_methods_projection`: a user's authentication methods
//! (reference §4.8).

use projection_sdk::{
    ColumnType, Context, Description, Event, Mutation, ProjectionError, RowBuilder, Table, delete,
    insert, update, upsert,
};

use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "user_auth_methods_projection";

/// The primary key, the conflict columns of the upserts.
const KEY: &[&str] = &["instance_id", "user_id", "method_type", "token_id"];

/// `method_type`: TOTP.
const TOTP: i64 = 1;
/// `method_type`: U2F.
const U2F: i64 = 2;
/// `method_type`: passwordless.
const PASSWORDLESS: i64 = 3;
/// `method_type`: OTP via SMS.
const OTP_SMS: i64 = 6;
/// `method_type`: OTP via email.
const OTP_EMAIL: i64 = 7;
/// `method_type`: recovery codes.
const RECOVERY_CODE: i64 = 11;

/// `state`: not ready.
const NOT_READY: i64 = 1;
/// `state`: ready.
const READY: i64 = 2;

/// Which token a method event is about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A WebAuthn token: one row per token, its id in `webAuthNTokenId`.
    WebAuthn,
    /// No token: one row per user and method, `token_id` ''.
    NoToken,
}

use Token::{NoToken, WebAuthn};

/// What a method event does to the table.
#[derive(Clone, Copy)]
enum Effect {
    /// Upsert a not-ready method (WebAuthn methods with their domain).
    Init(i64, Token),
    /// Set a method ready and name it.
    Activate(i64, Token),
    /// Insert a ready method.
    Add(i64),
    /// Upsert ready recovery codes.
    AddRecoveryCodes,
    /// Remove the user's methods of a type (one token for WebAuthn methods).
    Remove(i64, Token),
}

/// The `user` method events of the table.
const EVENTS: &[&str] = &[
    "user.human.passwordless.token.added",
    "user.human.mfa.u2f.token.added",
    "user.human.mfa.otp.added",
    "user.human.passwordless.token.verified",
    "user.human.mfa.u2f.token.verified",
    "user.human.mfa.otp.verified",
    "user.human.mfa.otp.sms.added",
    "user.human.mfa.otp.email.added",
    "user.human.mfa.recoverycode.added",
    "user.human.passwordless.token.removed",
    "user.human.mfa.u2f.token.removed",
    "user.human.mfa.otp.removed",
    "user.human.mfa.otp.sms.removed",
    "user.human.phone.removed",
    "user.phone.removed",
    "user.human.mfa.otp.email.removed",
    "user.human.mfa.recoverycode.removed",
];

/// The effect of a method event (one of [`EVENTS`]).
fn effect(event_type: &str) -> Option<Effect> {
    use Effect::{Activate, Add, AddRecoveryCodes, Init, Remove};
    Some(match event_type {
        "user.human.passwordless.token.added" => Init(PASSWORDLESS, WebAuthn),
        "user.human.mfa.u2f.token.added" => Init(U2F, WebAuthn),
        "user.human.mfa.otp.added" => Init(TOTP, NoToken),
        "user.human.passwordless.token.verified" => Activate(PASSWORDLESS, WebAuthn),
        "user.human.mfa.u2f.token.verified" => Activate(U2F, WebAuthn),
        "user.human.mfa.otp.verified" => Activate(TOTP, NoToken),
        "user.human.mfa.otp.sms.added" => Add(OTP_SMS),
        "user.human.mfa.otp.email.added" => Add(OTP_EMAIL),
        "user.human.mfa.recoverycode.added" => AddRecoveryCodes,
        "user.human.passwordless.token.removed" => Remove(PASSWORDLESS, WebAuthn),
        "user.human.mfa.u2f.token.removed" => Remove(U2F, WebAuthn),
        "user.human.mfa.otp.removed" => Remove(TOTP, NoToken),
        "user.human.mfa.otp.sms.removed" | "user.human.phone.removed" | "user.phone.removed" => {
            Remove(OTP_SMS, NoToken)
        }
        "user.human.mfa.otp.email.removed" => Remove(OTP_EMAIL, NoToken),
        "user.human.mfa.recoverycode.removed" => Remove(RECOVERY_CODE, NoToken),
        _ => return None,
    })
}

/// The table declaration.
pub(crate) fn table() -> Table {
    Table::new(TABLE)
        .column("user_id", ColumnType::Text)
        .column("method_type", ColumnType::SmallInt)
        .column("token_id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("state", ColumnType::SmallInt)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("name", ColumnType::Text)
        .nullable("domain", ColumnType::Text)
        .primary_key(KEY)
        .index("resource_owner", &["resource_owner"], &[])
}

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description
        .subscribe("user", EVENTS)
        .subscribe("user", &["user.removed"])
        .subscribe("org", &["org.removed"])
        .subscribe("instance", &["instance.removed"])
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let kind = event.event_type.as_str();
    let user = &event.aggregate_id;
    let mutation = match kind {
        "user.removed" => delete(TABLE)
            .eq("resource_owner", &event.owner)
            .eq("user_id", user)
            .build(),
        "org.removed" => delete(TABLE).eq("resource_owner", user).build(),
        "instance.removed" => delete(TABLE).eq("instance_id", &event.instance_id).build(),
        _ => match effect(kind) {
            Some(effect) => method_mutation(event, effect)?,
            None => return Ok(None),
        },
    };
    Ok(Some(vec![mutation]))
}

/// The mutation of a method event.
fn method_mutation(event: &Event, effect: Effect) -> Result<Mutation, ProjectionError> {
    let payload = event.payload()?;
    let token_id = |token: Token| match token {
        WebAuthn => payload.text_or_empty("webAuthNTokenId"),
        NoToken => Ok(String::new()),
    };
    let row = |method: i64, token: Token| -> Result<RowBuilder, ProjectionError> {
        Ok(upsert(TABLE, KEY)
            .value("user_id", &event.aggregate_id)
            .value("method_type", method)
            .value("token_id", token_id(token)?)
            .value("resource_owner", &event.owner)
            .value("name", "")
            .keep_on_conflict(&["creation_date"]))
    };
    Ok(match effect {
        Effect::Init(method, WebAuthn) => row(method, WebAuthn)?
            .value("state", NOT_READY)
            .value("domain", payload.text_or_empty("rpID")?)
            .build(),
        Effect::Init(method, NoToken) => row(method, NoToken)?.value("state", NOT_READY).build(),
        Effect::AddRecoveryCodes => row(RECOVERY_CODE, NoToken)?.value("state", READY).build(),
        Effect::Add(method) => insert(TABLE)
            .value("user_id", &event.aggregate_id)
            .value("method_type", method)
            .value("token_id", "")
            .value("resource_owner", &event.owner)
            .value("state", READY)
            .value("name", "")
            .build(),
        Effect::Activate(method, token) => {
            let name = match token {
                WebAuthn => payload.text_or_empty("webAuthNTokenName")?,
                NoToken => String::new(),
            };
            update(TABLE)
                .set("state", READY)
                .set("name", name)
                .eq("user_id", &event.aggregate_id)
                .eq("method_type", method)
                .eq("resource_owner", &event.owner)
                .eq("token_id", token_id(token)?)
                .build()
        }
        Effect::Remove(method, token) => {
            let remove = delete(TABLE)
                .eq("user_id", &event.aggregate_id)
                .eq("method_type", method)
                .eq("resource_owner", &event.owner);
            match token {
                WebAuthn => remove.eq("token_id", token_id(token)?),
                NoToken => remove,
            }
            .build()
        }
    })
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, delete};

    use super::{EVENTS, TABLE, effect, reduce};
    use projection_sdk::testing::event;

    #[test]
    fn every_method_event_has_an_effect() {
        assert!(EVENTS.iter().all(|e| effect(e).is_some()));
    }

    #[test]
    fn removing_a_passwordless_token_removes_only_that_token() {
        let e = event(
            "user",
            "user.human.passwordless.token.removed",
            Some(r#"{"webAuthNTokenId":"t1"}"#),
        );
        let expected = delete(TABLE)
            .eq("user_id", "agg-id")
            .eq("method_type", 3)
            .eq("resource_owner", "ro-id")
            .eq("token_id", "t1")
            .build();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
