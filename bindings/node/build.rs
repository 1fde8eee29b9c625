//! Builds the V8 shim (`src/backing.cc`) that lets a transfer move an ArrayBuffer's backing
//! store instead of copying it (see `src/backing.rs`), when Node's headers are found.
//!
//! The headers ship with Node: `<dir of the node binary>/../include/node` for an official
//! build, `/usr/include/node` for Debian's `nodejs`. `WEBMESSAGING_NODE_INCLUDE` names the
//! directory explicitly, and `NODE` (or npm's `npm_node_execpath`) the node binary to ask. Without headers the addon is built
//! without the shim and transferred buffers are copied (a loud warning says so).
//!
//! The shim's object is linked into the cdylib only (`cargo:rustc-link-arg-cdylib`): its V8
//! symbols resolve at load time inside the node process, and nothing else links it (the crate's
//! rlib, used by `cargo clippy`/`cargo test` for the workspace, has no test harness).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(wm_v8_shim)");
    println!("cargo:rerun-if-changed=src/backing.cc");
    println!("cargo:rerun-if-env-changed=WEBMESSAGING_NODE_INCLUDE");
    println!("cargo:rerun-if-env-changed=NODE");
    println!("cargo:rerun-if-env-changed=npm_node_execpath");
    let Some(include) = node_include() else {
        println!(
            "cargo:warning=webmessaging-node: Node's V8 headers (v8.h) were not found (set \
             WEBMESSAGING_NODE_INCLUDE to their directory); building WITHOUT the V8 shim: \
             transferred ArrayBuffers will be copied, not moved"
        );
        return;
    };
    // V8's C++ ABI changes between Node majors: the addon uses the shim only under the major
    // whose headers it was built with (src/backing.rs checks at load time).
    let Some(major) = node_major(&include) else {
        println!(
            "cargo:warning=webmessaging-node: no NODE_MAJOR_VERSION in {}/node_version.h; \
             building WITHOUT the V8 shim: transferred ArrayBuffers will be copied, not moved",
            include.display()
        );
        return;
    };
    println!("cargo:rustc-env=WM_SHIM_NODE_MAJOR={major}");
    let objects = cc::Build::new()
        .cpp(true)
        .std("c++17")
        .include(&include)
        .file("src/backing.cc")
        // As Node itself is built: no exceptions, no RTTI (nothing here needs either).
        .flag_if_supported("-fno-exceptions")
        .flag_if_supported("-fno-rtti")
        .flag_if_supported("-Wno-unused-parameter")
        .warnings(true)
        .compile_intermediates();
    for object in &objects {
        // Only the addon links the shim: V8's symbols are the node process's own.
        println!("cargo:rustc-link-arg-cdylib={}", object.display());
    }
    // The C++ runtime (operator new/delete): node has it loaded already; name it anyway.
    let stdlib = match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("macos" | "ios" | "freebsd") => "c++",
        _ => "stdc++",
    };
    println!("cargo:rustc-link-arg-cdylib=-l{stdlib}");
    println!("cargo:rustc-cfg=wm_v8_shim");
}

/// The directory holding `v8.h`, if any.
fn node_include() -> Option<PathBuf> {
    let has_v8 =
        |dir: &Path| dir.join("v8.h").is_file() && dir.join("js_native_api_types.h").is_file();
    if let Some(dir) = std::env::var_os("WEBMESSAGING_NODE_INCLUDE") {
        let dir = PathBuf::from(dir);
        return has_v8(&dir).then_some(dir);
    }
    // npm names the node running it (`npm install ./bindings/node` runs build.js, then us).
    let node = std::env::var_os("NODE")
        .or_else(|| std::env::var_os("npm_node_execpath"))
        .unwrap_or_else(|| "node".into());
    let exec = Command::new(node)
        .args(["-p", "process.execPath"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok());
    let mut candidates = Vec::new();
    if let Some(exec) = exec {
        if let Some(prefix) = Path::new(exec.trim()).parent().and_then(Path::parent) {
            candidates.push(prefix.join("include").join("node"));
        }
    }
    candidates.push(PathBuf::from("/usr/include/node"));
    candidates.push(PathBuf::from("/usr/local/include/node"));
    candidates.into_iter().find(|d| has_v8(d))
}

/// The Node major version whose headers are in `include`.
fn node_major(include: &Path) -> Option<u32> {
    let header = std::fs::read_to_string(include.join("node_version.h")).ok()?;
    header.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("#define NODE_MAJOR_VERSION")?;
        rest.trim().parse().ok()
    })
}
