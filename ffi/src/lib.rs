//! # libwebmessaging: the C ABI of webmessaging
//!
//! The HTML Standard's web messaging model (`MessageChannel`, `MessagePort`, structured clone)
//! for C and C++, over the `webmessaging-core` crate. The header `include/webmessaging.h` is
//! generated from this crate by cbindgen; every item documented here appears there.
//!
//! Design rules (see docs/architecture.md):
//! - every object is an opaque handle checked against a generational table (`src/handle.rs`): NULL
//!   gives `WM_ERR_NULL_ARG`, and a freed, double-freed or never-issued handle gives
//!   `WM_ERR_INVALID_HANDLE`, never undefined behaviour;
//! - every export runs its body in one guard (`status::guard`) that catches panics
//!   (`WM_ERR_PANIC`) and records a thread-local last-error message;
//! - callbacks take `void *userdata` plus a finalizer and run with no library lock held;
//! - `*_free` functions accept NULL.
//!
//! All unsafe code of the project that touches C lives in this crate; each block says why it
//! is sound.

#![warn(missing_docs)]
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)] // the C docs on each export state the contract

pub mod broadcast;
pub mod event_loop;
mod handle;
mod hazard;
pub mod ipc;
pub mod json;
pub mod limits;
pub mod message;
pub mod port;
mod receive;
pub mod status;
pub mod value;
pub mod window;

use std::ffi::c_char;

/// Major version of the library. The SONAME carries it (`libwebmessaging.so.0`); the ABI of
/// everything in this header only changes incompatibly with it.
pub const WM_VERSION_MAJOR: u32 = 0;
/// Minor version: new functions, new status codes.
pub const WM_VERSION_MINOR: u32 = 1;
/// Patch version: fixes only.
pub const WM_VERSION_PATCH: u32 = 0;

/// Returns the library version as a static NUL-terminated string, e.g. `"0.1.0"`. Compare with
/// the `WM_VERSION_*` macros of the header you compiled against to detect a mismatched library.
///
/// Ownership: static; never free it. Thread safety: any thread. Never fails.
#[no_mangle]
pub extern "C" fn wm_version() -> *const c_char {
    static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}

/// Returns how many handles of all kinds (ports, messages, values, loops...) are live in the
/// process. Meant for tests and leak checks: it is 0 once a program has freed everything.
///
/// Thread safety: any thread (the count can change as soon as it is read). Never fails.
#[no_mangle]
pub extern "C" fn wm_live_handles() -> usize {
    status::guard_value(status::here!(), 0, || {
        port::live()
            + message::live()
            + value::live()
            + event_loop::live()
            + window::live()
            + broadcast::live()
            + ipc::live()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_macros_match_the_crate_version() {
        let v = format!(
            "{}.{}.{}",
            super::WM_VERSION_MAJOR,
            super::WM_VERSION_MINOR,
            super::WM_VERSION_PATCH
        );
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
    }
}
