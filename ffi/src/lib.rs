//! C ABI for webmessaging. Filled in by the C ABI issue; for now it only re-exports the version.

/// The library version as a static NUL-terminated string.
#[no_mangle]
pub extern "C" fn wm_version() -> *const std::ffi::c_char {
    c"0.1.0".as_ptr()
}
