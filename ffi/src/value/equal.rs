//! `wm_value_equal`: deep structural equality of two values, for programs (and the tests of
//! cross-language round trips) that need to know whether a value came back unchanged. The
//! comparison is the core's `Graph::deep_equal`.

use super::{value_arg, with_graph, wm_value};
use crate::status::*;

/// Writes to `*out` whether `a` and `b` are deeply equal, as JavaScript's
/// `util.isDeepStrictEqual` reads structured-clone values: the same types; primitives, Dates and
/// Number objects by SameValue (NaN equals NaN, -0 differs from 0); strings by code unit;
/// objects' own properties with equal values, in any order; arrays' length, present elements
/// (a hole differs from `undefined`) and extra properties; Map entries and Set members in
/// order; ArrayBuffers by their bytes; typed arrays and DataViews by their kind and the bytes
/// they see (not their offset in the buffer); Errors' name, message, stack and cause. Objects must correspond one to one: a shared object
/// or a cycle on one side must be shared or a cycle the same way on the other. Ports are equal
/// only to themselves. Unlike `wm_value_same` (identity), the two values may come from
/// different messages.
///
/// Thread safety: any thread. Cost: linear in the size of both values.
/// Returns `WM_OK`, `WM_ERR_NULL_ARG`, `WM_ERR_INVALID_HANDLE`, `WM_ERR_PANIC`.
#[no_mangle]
pub unsafe extern "C" fn wm_value_equal(
    a: *const wm_value,
    b: *const wm_value,
    out: *mut bool,
) -> wm_status {
    guard(here!(), || {
        let (a, b) = (value_arg(a, "a")?, value_arg(b, "b")?);
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // Copies, so that no graph lock is held across both (the two may share one graph).
        let (ga, va) = with_graph(&a, |g, v| (g.clone(), v.clone()));
        let (gb, vb) = with_graph(&b, |g, v| (g.clone(), v.clone()));
        let equal = ga.deep_equal(&va, &gb, &vb);
        // SAFETY: checked non-null; the caller promises it is writable.
        unsafe { out.write(equal) };
        Ok(())
    })
}
