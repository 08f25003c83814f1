//! The checks of a session: the user, then each factor (reference §5.1).
//!
//! Each check event sets its `*_checked_at` column from the payload's
//! `checkedAt` and bumps the session. A check event without `checkedAt`
//! writes Go's zero time (0001-01-01T00:00:00Z), as the reference's decoder
//! leaves it; likewise an absent user id or resource owner is written as ''
//! and an absent `userVerified` as false.

use projection_sdk::time::parse_rfc3339;
use projection_sdk::{Context, Event, Mutation, Payload, ProjectionError, Value};

use super::row;

/// Go's zero `time.Time` in microseconds since the epoch.
const GO_ZERO_TIME: i64 = -62_135_596_800_000_000;

/// `session.user.checked`: the session's user, its resource owner and when
/// it was checked.
pub(super) fn user(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    Ok(vec![
        row(event)
            .set("user_id", payload.text_or_empty("userID")?)
            .set(
                "user_resource_owner",
                payload.text_or_empty("userResourceOwner")?,
            )
            .set("user_checked_at", checked_at(&payload)?)
            .build(),
    ])
}

/// `session.password.checked`.
pub(super) fn password(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    factor(event, "password_checked_at")
}

/// `session.intent.checked`: an external identity provider's intent.
pub(super) fn intent(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    factor(event, "intent_checked_at")
}

/// `session.webAuthN.checked`: when, and whether the user was verified.
pub(super) fn webauthn(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    Ok(vec![
        row(event)
            .set("webauthn_checked_at", checked_at(&payload)?)
            .set(
                "webauthn_user_verified",
                payload.boolean("userVerified")?.unwrap_or(false),
            )
            .build(),
    ])
}

/// `session.totp.checked`.
pub(super) fn totp(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    factor(event, "totp_checked_at")
}

/// `session.otp.sms.checked`.
pub(super) fn otp_sms(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    factor(event, "otp_sms_checked_at")
}

/// `session.otp.email.checked`.
pub(super) fn otp_email(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    factor(event, "otp_email_checked_at")
}

/// `session.recoveryCode.checked`: an MFA recovery code.
pub(super) fn recovery_code(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    factor(event, "mfa_recovery_code_checked_at")
}

/// A factor check: `column` gets the payload's `checkedAt`.
fn factor(event: &Event, column: &str) -> Result<Vec<Mutation>, ProjectionError> {
    let checked_at = checked_at(&event.payload()?)?;
    Ok(vec![row(event).set(column, checked_at).build()])
}

/// The payload's `checkedAt` (RFC 3339), Go's zero time when absent.
fn checked_at(payload: &Payload) -> Result<Value, ProjectionError> {
    let micros = match payload.text("checkedAt")? {
        None => GO_ZERO_TIME,
        Some(text) => parse_rfc3339(&text).ok_or_else(|| {
            ProjectionError::InvalidPayload(format!(
                "field \"checkedAt\" is not an RFC 3339 time: {text:?}"
            ))
        })?,
    };
    Ok(Value::Timestamp(micros))
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{Context, Mutation, NoEvents, ProjectionError, Value, update};

    use super::super::{MODULE, TABLE};
    use super::GO_ZERO_TIME;

    /// 2023-05-04T00:00:00Z.
    const CHECKED_AT: i64 = 1_683_158_400_000_000;

    fn reduce(event_type: &str, payload: &str) -> Result<Option<Vec<Mutation>>, ProjectionError> {
        let e = event("session", event_type, Some(payload));
        MODULE.reduce(&e, &Context::new(&NoEvents))
    }

    #[test]
    fn each_factor_sets_its_own_column() {
        for (event_type, column) in [
            ("session.password.checked", "password_checked_at"),
            ("session.intent.checked", "intent_checked_at"),
            ("session.totp.checked", "totp_checked_at"),
            ("session.otp.sms.checked", "otp_sms_checked_at"),
            ("session.otp.email.checked", "otp_email_checked_at"),
            (
                "session.recoveryCode.checked",
                "mfa_recovery_code_checked_at",
            ),
        ] {
            let expected = update(TABLE)
                .eq("id", "agg-id")
                .set(column, Value::Timestamp(CHECKED_AT))
                .build();
            assert_eq!(
                reduce(event_type, r#"{"checkedAt":"2023-05-04T00:00:00Z"}"#),
                Ok(Some(vec![expected])),
                "{event_type}"
            );
        }
    }

    #[test]
    fn user_checked_sets_the_user() {
        let payload = r#"{"userID":"user-id","userResourceOwner":"org-id",
            "checkedAt":"2023-05-04T00:00:00Z","preferredLanguage":"en"}"#;
        let expected = update(TABLE)
            .eq("id", "agg-id")
            .set("user_id", "user-id")
            .set("user_resource_owner", "org-id")
            .set("user_checked_at", Value::Timestamp(CHECKED_AT))
            .build();
        assert_eq!(
            reduce("session.user.checked", payload),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn absent_fields_are_go_zero_values() {
        let user = update(TABLE)
            .eq("id", "agg-id")
            .set("user_id", "")
            .set("user_resource_owner", "")
            .set("user_checked_at", Value::Timestamp(GO_ZERO_TIME))
            .build();
        assert_eq!(reduce("session.user.checked", "{}"), Ok(Some(vec![user])));
        let webauthn = update(TABLE)
            .eq("id", "agg-id")
            .set("webauthn_checked_at", Value::Timestamp(GO_ZERO_TIME))
            .set("webauthn_user_verified", false)
            .build();
        assert_eq!(
            reduce("session.webAuthN.checked", "{}"),
            Ok(Some(vec![webauthn]))
        );
    }

    #[test]
    fn rejects_a_check_time_that_is_no_time() {
        assert!(matches!(
            reduce("session.password.checked", r#"{"checkedAt":"yesterday"}"#),
            Err(ProjectionError::InvalidPayload(_))
        ));
    }
}
