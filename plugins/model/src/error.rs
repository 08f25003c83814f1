//! Why a family could not handle an event, and the levels of its log.

use serde::{Deserialize, Serialize};

/// Why a family could not handle an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum ProjectionError {
    /// The family does not handle this event type.
    #[error("unhandled event: {0}")]
    UnhandledEvent(String),
    /// The payload is not what the event type promises.
    #[error("invalid payload: {0}")]
    InvalidPayload(String),
    /// A looked-up fact is missing.
    #[error("not found: {0}")]
    NotFound(String),
    /// Anything else.
    #[error("{0}")]
    Failed(String),
}

/// Levels of the host's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Verbose detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected.
    Warn,
    /// A failure.
    Error,
}
