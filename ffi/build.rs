//! Gives the shared library a SONAME that carries the major version (`libwebmessaging.so.0`),
//! so programs linked against one major version never load an incompatible one.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux") | Ok("freebsd") | Ok("netbsd") | Ok("openbsd") | Ok("dragonfly") => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libwebmessaging.so.{major}");
        }
        Ok("macos") => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libwebmessaging.{major}.dylib");
        }
        _ => {}
    }
    println!("cargo:rerun-if-changed=build.rs");
}
