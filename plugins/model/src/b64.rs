//! Go encodes `[]byte` payload fields as standard base64.

use ::base64::Engine as _;
use ::base64::engine::general_purpose::STANDARD;

/// Decode standard base64; `None` when the text is not base64.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}
