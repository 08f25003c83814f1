//! `user_auth_methods_projection`: a user's authentication methods
//! (reference §4.8).

use projection_sdk::{
    ColumnType, Event, Mutation, ProjectionError, RowBuilder, Table, TableModule,
    aggregate_removed, delete, insert, instance_removed, on, update, upsert,
};

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

use Effect::{Activate, Add, AddRecoveryCodes, Init, Remove};

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("user", &["user.human.passwordless.token.added"], |e, _| {
            method(e, Init(PASSWORDLESS, WebAuthn))
        }),
        on("user", &["user.human.mfa.u2f.token.added"], |e, _| {
            method(e, Init(U2F, WebAuthn))
        }),
        on("user", &["user.human.mfa.otp.added"], |e, _| {
            method(e, Init(TOTP, NoToken))
        }),
        on(
            "user",
            &["user.human.passwordless.token.verified"],
            |e, _| method(e, Activate(PASSWORDLESS, WebAuthn)),
        ),
        on("user", &["user.human.mfa.u2f.token.verified"], |e, _| {
            method(e, Activate(U2F, WebAuthn))
        }),
        on("user", &["user.human.mfa.otp.verified"], |e, _| {
            method(e, Activate(TOTP, NoToken))
        }),
        on("user", &["user.human.mfa.otp.sms.added"], |e, _| {
            method(e, Add(OTP_SMS))
        }),
        on("user", &["user.human.mfa.otp.email.added"], |e, _| {
            method(e, Add(OTP_EMAIL))
        }),
        on("user", &["user.human.mfa.recoverycode.added"], |e, _| {
            method(e, AddRecoveryCodes)
        }),
        on(
            "user",
            &["user.human.passwordless.token.removed"],
            |e, _| method(e, Remove(PASSWORDLESS, WebAuthn)),
        ),
        on("user", &["user.human.mfa.u2f.token.removed"], |e, _| {
            method(e, Remove(U2F, WebAuthn))
        }),
        on("user", &["user.human.mfa.otp.removed"], |e, _| {
            method(e, Remove(TOTP, NoToken))
        }),
        on(
            "user",
            &[
                "user.human.mfa.otp.sms.removed",
                "user.human.phone.removed",
                "user.phone.removed",
            ],
            |e, _| method(e, Remove(OTP_SMS, NoToken)),
        ),
        on("user", &["user.human.mfa.otp.email.removed"], |e, _| {
            method(e, Remove(OTP_EMAIL, NoToken))
        }),
        on("user", &["user.human.mfa.recoverycode.removed"], |e, _| {
            method(e, Remove(RECOVERY_CODE, NoToken))
        }),
        on("user", &["user.removed"], |event, _| {
            Ok(vec![
                delete(TABLE)
                    .eq("resource_owner", &event.owner)
                    .eq("user_id", &event.aggregate_id)
                    .build(),
            ])
        }),
        aggregate_removed("org", &["org.removed"], &["resource_owner"]),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
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

/// The mutations of a method event.
fn method(event: &Event, effect: Effect) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![method_mutation(event, effect)?])
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

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    #[test]
    fn every_method_event_has_an_effect() {
        let ctx = Context::new(&NoEvents);
        for handler in MODULE.handlers() {
            for event_type in handler.event_types() {
                let e = event(handler.aggregate_type(), event_type, Some("{}"));
                let reduced = MODULE.reduce(&e, &ctx);
                assert!(
                    matches!(reduced, Ok(Some(ref m)) if m.len() == 1),
                    "{event_type}"
                );
            }
        }
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
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
