//! Status codes, the thread-local last-error message, and the one guard every export runs in.

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use webmessaging_core::Error as CoreError;

/// The result of every fallible `wm_*` call.
///
/// `WM_OK` is 0; every other value is an error with a fixed number that is never reused or
/// renumbered (new codes only get new numbers). `wm_status_str` names a code and
/// `wm_last_error` gives the details of the most recent failure on the calling thread.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum wm_status {
    /// Success.
    WM_OK = 0,
    /// A required pointer argument was NULL.
    WM_ERR_NULL_ARG = 1,
    /// A handle was never issued, already freed, or of the wrong type.
    WM_ERR_INVALID_HANDLE = 2,
    /// An argument is out of range or malformed (bad index, invalid UTF-8, budget 0...).
    WM_ERR_INVALID_ARG = 3,
    /// The standard's `DataCloneError`: a value or transfer list cannot be cloned or transferred,
    /// or a value has no JSON form.
    WM_ERR_DATA_CLONE = 4,
    /// The standard's `InvalidStateError`: the object is in the wrong state for the call (for
    /// example receiving on a port that was transferred away).
    WM_ERR_INVALID_STATE = 5,
    /// The standard's `SyntaxError`: a string did not parse (malformed JSON, a bad origin).
    WM_ERR_SYNTAX = 6,
    /// A blocking call's timeout ran out.
    WM_ERR_TIMEOUT = 7,
    /// Nothing to receive right now (non-blocking receive on an empty queue). Only receive calls
    /// return it.
    WM_ERR_EMPTY = 8,
    /// The port's queue reached its close record: nothing more will ever arrive.
    WM_ERR_CLOSED = 9,
    /// The receiving queue is at its configured capacity.
    WM_ERR_FULL = 10,
    /// Serialized bytes are malformed or exceed the decoder's limits.
    WM_ERR_DECODE = 11,
    /// A Rust panic was caught at the ABI boundary (a bug in the library: please report it).
    WM_ERR_PANIC = 12,
    /// An operating-system call failed (for example creating the event loop's eventfd).
    WM_ERR_IO = 13,
    /// A value accessor was used on a value of another type (`wm_value_get_number` on a string).
    WM_ERR_WRONG_TYPE = 14,
    /// What was looked up is not there: an object has no property of that key
    /// (`wm_value_object_get`), a message has no source window (`wm_message_source`).
    WM_ERR_NOT_FOUND = 15,
    /// A socket path is already taken (`wm_listen` on a path that exists: `EADDRINUSE`).
    WM_ERR_ADDRESS_IN_USE = 16,
    /// The operating system refused access: a socket path or its directory may not be written
    /// or read (`EACCES`, `EPERM`).
    WM_ERR_PERMISSION = 17,
    /// The other side refused the connection: nothing accepts at the path any more, the
    /// listener refused this user id, or it is not a webmessaging endpoint (`ECONNREFUSED`).
    WM_ERR_REFUSED = 18,
    /// The process or the system ran out of file descriptors (`EMFILE`, `ENFILE`).
    WM_ERR_DESCRIPTORS = 19,
    /// The other process broke the cross-process protocol (bad handshake, malformed frame): the
    /// connection or port it concerned is given up; nothing else is affected.
    WM_ERR_PROTOCOL = 20,
}

pub use wm_status::*;

/// An error on its way to C: a status plus a message for `wm_last_error`. Boxed, so that a
/// `Res` is one word and the success path of every call moves nothing but a null pointer.
#[derive(Debug)]
pub(crate) struct Failure(Box<FailureInner>);

/// What a [`Failure`] carries.
#[derive(Debug)]
pub(crate) struct FailureInner {
    pub(crate) status: wm_status,
    pub(crate) message: String,
}

impl std::ops::Deref for Failure {
    type Target = FailureInner;
    fn deref(&self) -> &FailureInner {
        &self.0
    }
}

pub(crate) type Res<T = ()> = Result<T, Failure>;

impl Failure {
    #[cold]
    pub(crate) fn new(status: wm_status, message: impl Into<String>) -> Self {
        Failure(Box::new(FailureInner {
            status,
            message: message.into(),
        }))
    }
    pub(crate) fn null(arg: &str) -> Self {
        Failure::new(WM_ERR_NULL_ARG, format!("argument `{arg}` is NULL"))
    }
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Failure::new(WM_ERR_INVALID_ARG, message)
    }
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        let status = match &e {
            CoreError::DataCloneError(_) => WM_ERR_DATA_CLONE,
            CoreError::InvalidStateError(_) => WM_ERR_INVALID_STATE,
            CoreError::SyntaxError(_) => WM_ERR_SYNTAX,
            CoreError::Timeout => WM_ERR_TIMEOUT,
            CoreError::Full => WM_ERR_FULL,
            CoreError::Closed(_) => WM_ERR_CLOSED,
            CoreError::DecodeError(_) => WM_ERR_DECODE,
            // An error newer than this ABI: the message names it.
            _ => WM_ERR_INVALID_STATE,
        };
        Failure::new(status, e.to_string())
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let text = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    // `try_with`: during thread teardown the slot may be gone; the status still says enough.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = text);
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// A marker naming the export it is written in: `here!()` is a function item declared inside
/// the export, whose type name ends in `<export>::here`. The guards take it instead of a typed
/// label, so an error message always names the export that failed (and costs nothing until one
/// does).
macro_rules! here {
    () => {{
        fn here() {}
        here
    }};
}
pub(crate) use here;

/// The name of the export a `here!()` marker of type `F` was written in.
pub(crate) fn export_name<F>() -> &'static str {
    std::any::type_name::<F>()
        .rsplit("::")
        .find(|s| *s != "here" && *s != "{{closure}}")
        .unwrap_or("libwebmessaging")
}

/// Runs an export's body: catches panics (`WM_ERR_PANIC`), turns failures into a status and a
/// last-error message prefixed with the export's name (from `here`, a `here!()` marker). Every
/// status-returning export goes through here.
///
/// Inlined into the export, so a successful call costs the body and a test of the result: the
/// failure and panic paths, which format text, are out of line.
#[inline(always)]
pub(crate) fn guard<F: Fn()>(here: F, body: impl FnOnce() -> Res) -> wm_status {
    let _ = here;
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => WM_OK,
        Ok(Err(f)) => failed::<F>(f),
        Err(payload) => panicked::<F>(payload),
    }
}

/// A failure of export `F` on its way out: its message becomes the last error.
#[cold]
#[inline(never)]
fn failed<F>(f: Failure) -> wm_status {
    set_last_error(&format!("{}: {}", export_name::<F>(), f.message));
    f.status
}

/// A panic caught in export `F`: its message becomes the last error.
#[cold]
#[inline(never)]
fn panicked<F>(payload: Box<dyn std::any::Any + Send>) -> wm_status {
    set_last_error(&format!(
        "{}: panic: {}",
        export_name::<F>(),
        panic_message(payload.as_ref())
    ));
    WM_ERR_PANIC
}

/// Like [`guard`] for the few exports that return a value instead of a status: a panic yields
/// `fallback` (and sets the last error).
pub(crate) fn guard_value<F: Fn(), T>(here: F, fallback: T, body: impl FnOnce() -> T) -> T {
    let _ = here;
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(payload) => {
            panicked::<F>(payload);
            fallback
        }
    }
}

/// Writes `value` through `out` when `out` is not NULL.
///
/// # Safety
/// `out` must be NULL or valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-null, and the caller promises it is valid for writes.
        unsafe { out.write(value) };
    }
}

/// Returns a static, NUL-terminated name for a status code: `"WM_OK"`, `"WM_ERR_NULL_ARG"`...;
/// `"WM_ERR_UNKNOWN"` for a number that is not a status.
///
/// Ownership: the string is static; never free it. Thread safety: any thread. Never fails.
#[no_mangle]
pub extern "C" fn wm_status_str(status: i32) -> *const c_char {
    let s: &'static std::ffi::CStr = match status {
        0 => c"WM_OK",
        1 => c"WM_ERR_NULL_ARG",
        2 => c"WM_ERR_INVALID_HANDLE",
        3 => c"WM_ERR_INVALID_ARG",
        4 => c"WM_ERR_DATA_CLONE",
        5 => c"WM_ERR_INVALID_STATE",
        6 => c"WM_ERR_SYNTAX",
        7 => c"WM_ERR_TIMEOUT",
        8 => c"WM_ERR_EMPTY",
        9 => c"WM_ERR_CLOSED",
        10 => c"WM_ERR_FULL",
        11 => c"WM_ERR_DECODE",
        12 => c"WM_ERR_PANIC",
        13 => c"WM_ERR_IO",
        14 => c"WM_ERR_WRONG_TYPE",
        15 => c"WM_ERR_NOT_FOUND",
        16 => c"WM_ERR_ADDRESS_IN_USE",
        17 => c"WM_ERR_PERMISSION",
        18 => c"WM_ERR_REFUSED",
        19 => c"WM_ERR_DESCRIPTORS",
        20 => c"WM_ERR_PROTOCOL",
        _ => c"WM_ERR_UNKNOWN",
    };
    s.as_ptr()
}

/// Returns the message of the most recent failing `wm_*` call on the calling thread (for example
/// `"wm_port_post_json: SyntaxError: expected value at line 1 column 1"`), or `""` if none failed yet.
/// Successful calls leave it unchanged, like `errno`.
///
/// Ownership: the string belongs to the library; it stays valid until the next failing `wm_*`
/// call on the same thread. Copy it if you need it longer; never free it.
/// Thread safety: the message is per thread. Never fails.
#[no_mangle]
pub extern "C" fn wm_last_error() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| slot.borrow().as_ptr())
        .unwrap_or(c"".as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn a_panic_becomes_wm_err_panic_with_a_message() {
        let status = guard(here!(), || panic!("boom"));
        assert_eq!(status, WM_ERR_PANIC);
        // SAFETY: wm_last_error returns a valid NUL-terminated string.
        let text = unsafe { CStr::from_ptr(wm_last_error()) }.to_str().unwrap();
        assert_eq!(
            text,
            "a_panic_becomes_wm_err_panic_with_a_message: panic: boom"
        );
        assert_eq!(guard_value(here!(), 7, || -> i32 { panic!("again") }), 7);
    }

    fn wm_a() -> wm_status {
        guard(here!(), || Err(Failure::null("x")))
    }

    #[test]
    fn labels_name_the_function_they_are_written_in() {
        assert_eq!(wm_a(), WM_ERR_NULL_ARG);
        let in_closure = || guard(here!(), || Err(Failure::invalid("y")));
        assert_eq!(in_closure(), WM_ERR_INVALID_ARG);
        // SAFETY: wm_last_error returns a valid NUL-terminated string.
        let text = unsafe { CStr::from_ptr(wm_last_error()) }.to_str().unwrap();
        assert_eq!(text, "labels_name_the_function_they_are_written_in: y");
    }

    #[test]
    fn failures_set_the_last_error_and_successes_keep_it() {
        assert_eq!(wm_a(), WM_ERR_NULL_ARG);
        assert_eq!(guard(here!(), || Ok(())), WM_OK);
        // SAFETY: as above.
        let text = unsafe { CStr::from_ptr(wm_last_error()) }.to_str().unwrap();
        assert_eq!(text, "wm_a: argument `x` is NULL");
        let nul = guard(here!(), || Err(Failure::invalid("a\0b")));
        assert_eq!(nul, WM_ERR_INVALID_ARG);
    }

    #[test]
    fn every_status_has_a_name() {
        for code in 0..=20 {
            // SAFETY: wm_status_str returns a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(wm_status_str(code)) }
                .to_str()
                .unwrap();
            assert!(
                name.starts_with("WM_") && name != "WM_ERR_UNKNOWN",
                "{code}"
            );
        }
        // SAFETY: as above.
        let past = unsafe { CStr::from_ptr(wm_status_str(21)) };
        assert_eq!(past.to_str().unwrap(), "WM_ERR_UNKNOWN");
    }
}
