//! `#[catch_panics]`: the one guard every Python entry point of the binding goes through.
//!
//! pyo3 turns a Rust panic into `PanicException`, a `BaseException`, so `except Exception` in
//! the user's program misses it and a worker loop dies. Placed above `#[pymethods]` (it then
//! guards every method of the block), `#[pyfunction]` or `#[pymodule]`, this attribute runs each
//! body inside `crate::panics::guard`, which catches the unwind and raises
//! `webmessaging.InternalError` (a `RuntimeError`) instead. A body returning a plain `T` is
//! rewritten to return `PyResult<T>`, which pyo3 accepts in every method position.

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, parse_quote, Block, ImplItem, Item, ReturnType, Signature, Type};

/// Guards every function of a `#[pymethods]` block, or one `#[pyfunction]` / `#[pymodule]`
/// function, so a panic reaches Python as `webmessaging.InternalError`.
#[proc_macro_attribute]
pub fn catch_panics(args: TokenStream, input: TokenStream) -> TokenStream {
    if !args.is_empty() {
        return syn::Error::new(
            proc_macro2::Span::call_site(),
            "#[catch_panics] takes no arguments",
        )
        .to_compile_error()
        .into();
    }
    let mut item = parse_macro_input!(input as Item);
    match &mut item {
        Item::Impl(block) => {
            for member in &mut block.items {
                if let ImplItem::Fn(f) = member {
                    guard(&mut f.sig, &mut f.block);
                }
            }
        }
        Item::Fn(f) => guard(&mut f.sig, &mut f.block),
        other => {
            return syn::Error::new_spanned(
                other,
                "#[catch_panics] applies to an impl block or a function",
            )
            .to_compile_error()
            .into()
        }
    }
    quote!(#item).into()
}

/// Whether a return type is already a `PyResult<T>` / `Result<T, E>`.
fn returns_result(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "PyResult" || s.ident == "Result"),
        _ => false,
    }
}

/// Rewrites `fn f(..) -> T { body }` into
/// `fn f(..) -> PyResult<T> { guard(|| -> PyResult<T> { Ok((|| -> T { body })()) }) }`
/// (the inner closure keeps `return` statements of the body meaning what they meant).
fn guard(sig: &mut Signature, block: &mut Block) {
    let body = &*block;
    let (output, new_block): (ReturnType, Block) = match &sig.output {
        ReturnType::Type(arrow, ty) if returns_result(ty) => (
            ReturnType::Type(*arrow, ty.clone()),
            parse_quote!({ crate::panics::guard(|| -> #ty #body) }),
        ),
        ReturnType::Type(arrow, ty) => (
            ReturnType::Type(*arrow, parse_quote!(::pyo3::PyResult<#ty>)),
            parse_quote!({ crate::panics::guard(|| ::pyo3::PyResult::Ok((|| -> #ty #body)())) }),
        ),
        ReturnType::Default => (
            parse_quote!(-> ::pyo3::PyResult<()>),
            parse_quote!({ crate::panics::guard(|| ::pyo3::PyResult::Ok((|| #body)())) }),
        ),
    };
    sig.output = output;
    *block = new_block;
}
