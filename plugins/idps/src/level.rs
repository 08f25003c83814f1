//! The two levels of an IdP: the instance's and an org's (reference §6.9).
//!
//! Every IdP event exists twice, on aggregate `instance` (`instance.idp.*`,
//! and `iam.idp.*` for the legacy configs) and on aggregate `org`
//! (`org.idp.*`). Which one an event is decides the `owner_type` of an IdP
//! and the `provider_type` of a login policy link ([`owner_type`]), and a
//! pair of event type lists ([`EventTypes`]) states both forms of one event.

use projection_sdk::{Event, Handler, Reducer, on};

/// `owner_type` / `provider_type`: an instance-level (system) IdP.
pub(crate) const SYSTEM: i64 = 0;

/// `owner_type` / `provider_type`: an org's IdP.
pub(crate) const ORG: i64 = 1;

/// The owner type of an event's IdP: [`ORG`] for `org.` event types,
/// [`SYSTEM`] for the instance's (`instance.`, `iam.`).
pub(crate) fn owner_type(event: &Event) -> i64 {
    if event.event_type.starts_with("org.") {
        ORG
    } else {
        SYSTEM
    }
}

/// One event in its instance-level and its org-level form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventTypes {
    /// The event types under aggregate `instance`.
    pub(crate) instance: &'static [&'static str],
    /// The event types under aggregate `org`.
    pub(crate) org: &'static [&'static str],
}

impl EventTypes {
    /// No event at all (a declaration that does not use the event).
    pub(crate) const NONE: EventTypes = EventTypes {
        instance: &[],
        org: &[],
    };

    /// `reduce` takes both forms: a handler per aggregate type.
    pub(crate) const fn on(self, reduce: Reducer) -> [Handler; 2] {
        [
            on("instance", self.instance, reduce),
            on("org", self.org, reduce),
        ]
    }
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;

    use super::{ORG, SYSTEM, owner_type};

    #[test]
    fn org_events_are_org_owned_and_the_rest_system_owned() {
        for (event_type, expected) in [
            ("org.idp.github.added", ORG),
            ("org.policy.login.idpprovider.added", ORG),
            ("instance.idp.github.added", SYSTEM),
            ("iam.idp.config.added", SYSTEM),
        ] {
            assert_eq!(
                owner_type(&event("x", event_type, None)),
                expected,
                "{event_type}"
            );
        }
    }
}
