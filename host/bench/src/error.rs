//! What a bench can fail on.

use host::runtime::RuntimeError;
use host::store::StoreError;

/// A bench that could not finish, or whose paths disagree.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The host failed.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The generated stream cannot be measured as it is.
    #[error("the generated stream: {0}")]
    Stream(String),
    /// A child process of the bench failed or printed no figures.
    #[error("{what}: {detail}")]
    Child {
        /// Which child.
        what: String,
        /// What went wrong.
        detail: String,
    },
}
