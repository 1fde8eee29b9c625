//! The plumbing of the hand-written Node-API callbacks on the per-message paths (napi-rs's
//! generated wrappers cost as much as the work they wrap there): reading their two number
//! arguments and putting them on the exports.

use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;

use crate::check;

/// The two `u32` arguments of the callback call described by `info`, or `None` when there are
/// fewer than two or they are not numbers.
///
/// # Safety
/// Called from a Node-API callback on the env's thread, with the `env` and `info` it was given.
pub(crate) unsafe fn two_u32_args(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> Option<(u32, u32)> {
    let mut argc = 2usize;
    let mut argv = [ptr::null_mut(); 2];
    let (mut a, mut b) = (0u32, 0u32);
    // SAFETY: valid `env` and `info` (the caller's contract); `argv` has room for `argc` values.
    let ok = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        ) == sys::Status::napi_ok
            && argc >= 2
            && sys::napi_get_value_uint32(env, argv[0], &mut a) == sys::Status::napi_ok
            && sys::napi_get_value_uint32(env, argv[1], &mut b) == sys::Status::napi_ok
    };
    ok.then_some((a, b))
}

/// Sets `exports[name]` to a new JS function calling `callback`.
pub(crate) fn export_callback(
    env: &Env,
    exports: &mut Object,
    name: &str,
    callback: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value,
) -> Result<()> {
    let mut f = ptr::null_mut();
    // SAFETY: a plain Node-API call on the env's thread; `name` is valid for its length.
    check(unsafe {
        sys::napi_create_function(
            env.raw(),
            name.as_ptr().cast(),
            name.len() as isize,
            Some(callback),
            ptr::null_mut(),
            &mut f,
        )
    })?;
    // SAFETY: `f` is a live function value of this env.
    exports.set_named_property(name, unsafe { Unknown::from_raw_unchecked(env.raw(), f) })
}
