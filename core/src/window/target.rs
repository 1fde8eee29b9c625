//! The `targetOrigin` argument of `window.postMessage`, resolved before anything is serialized.

use crate::error::{Error, Result};
use crate::origin::Origin;

/// A resolved `targetOrigin` (window post message steps 3 and 4).
///
/// Resolve it with [`TargetOrigin::parse`] *before* serializing the message, so a bad string
/// fails with `SyntaxError` before any value getter runs or any buffer is detached (R-WIN-5),
/// then post with [`Window::post_message_to`](crate::Window::post_message_to).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetOrigin {
    /// `"*"`: no origin check at delivery (R-WIN-4).
    Any,
    /// Deliver only if the target's origin at delivery time is the same as this one.
    Origin(Origin),
}

impl TargetOrigin {
    /// Resolves `target_origin` as the standard does: exactly `"*"` means any origin; exactly
    /// `"/"` means `source_origin`, the posting window's origin now (R-WIN-3); anything else is parsed as a URL with no
    /// base and reduced to its origin, ignoring path, query and fragment (R-WIN-6). A URL with
    /// an opaque origin (`data:`, `about:blank`) resolves to a fresh opaque origin, which no
    /// window has, so such a message is always dropped (R-WIN-7).
    ///
    /// Errors: [`Error::SyntaxError`] when the string is not a URL (`""`, `" *"`, `"a.test"`,
    /// `"//a.test"`, `"null"`), R-WIN-5.
    pub fn parse(target_origin: &str, source_origin: &Origin) -> Result<TargetOrigin> {
        match target_origin {
            "*" => Ok(TargetOrigin::Any),
            "/" => Ok(TargetOrigin::Origin(source_origin.clone())),
            other => Origin::parse(other)
                .map(TargetOrigin::Origin)
                .map_err(|e| match e {
                    Error::SyntaxError(why) => {
                        Error::SyntaxError(format!("invalid targetOrigin: {why}"))
                    }
                    e => e,
                }),
        }
    }

    /// Whether a window whose origin is `origin` may receive the message (the delivery-time
    /// check of step 6.1).
    pub fn matches(&self, origin: &Origin) -> bool {
        match self {
            TargetOrigin::Any => true,
            TargetOrigin::Origin(o) => o.same_origin(origin),
        }
    }
}
