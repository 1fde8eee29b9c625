//! Helpers shared by the `entry_*` tests: temporary directories, re-running the test binary as
//! a child process in a named role (optionally as another user), and descriptor counts.
#![allow(dead_code)] // each test file uses a different subset

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Names the role a re-executed test binary plays (see [`role_command`]).
pub const ROLE_ENV: &str = "WM_ENTRY_ROLE";
/// The user id the credential tests switch to: `nobody`.
pub const NOBODY: u32 = 65534;

/// A directory removed (with its contents) on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new directory with mode 0755 (so another user can reach sockets inside it).
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "wm-entry-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("create temp dir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The role this process was started in, if it is a re-executed child.
pub fn role() -> Option<String> {
    std::env::var(ROLE_ENV).ok()
}

/// Whether this process runs as root (the credential tests need it to switch user).
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Whether every other user may execute `path` (the file and each directory above it).
fn others_may_execute(path: &Path) -> bool {
    path.ancestors().all(|p| {
        p.as_os_str().is_empty()
            || std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o001 != 0)
    })
}

/// A command re-running this test binary's `role_entry_point` test in `role`. With `as_uid`,
/// the child switches to that user and group before it starts; if that user could not execute
/// the binary where the build put it, it runs a copy made in `dir`.
pub fn role_command(role: &str, as_uid: Option<(u32, &TempDir)>) -> Command {
    let exe = std::env::current_exe().expect("current_exe");
    let program = match as_uid {
        Some((_, dir)) if !others_may_execute(&exe) => {
            // One copy at a time: a child forked while a copy is open for writing would keep
            // it busy (ETXTBSY) for the next exec.
            static COPYING: Mutex<()> = Mutex::new(());
            let _one = COPYING.lock().unwrap_or_else(|e| e.into_inner());
            let copy = dir.join("test-binary");
            if !copy.exists() {
                std::fs::copy(&exe, &copy).expect("copy the test binary");
                std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755))
                    .expect("chmod the test binary");
            }
            copy
        }
        _ => exe,
    };
    let mut cmd = Command::new(program);
    cmd.args([
        "--exact",
        "role_entry_point",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(ROLE_ENV, role)
    .stdin(Stdio::null())
    .stdout(Stdio::null());
    if let Some((uid, _)) = as_uid {
        cmd.uid(uid).gid(uid);
    }
    cmd
}

/// Spawns `cmd`, retrying while its program is briefly busy (a copy just written, see
/// [`role_command`]).
pub fn spawn_retrying(cmd: &mut Command) -> std::process::Child {
    for _ in 0..100 {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(26) => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => return other.expect("spawn the child"),
        }
    }
    panic!("the test binary stayed busy (ETXTBSY)");
}

/// Runs `cmd` to completion, printing its output if it failed.
pub fn run(mut cmd: Command) -> Output {
    let out = spawn_retrying(cmd.stdout(Stdio::piped()).stderr(Stdio::piped()))
        .wait_with_output()
        .expect("run the child");
    if !out.status.success() {
        eprintln!(
            "child {:?} exited {:?}\n--- stdout\n{}\n--- stderr\n{}",
            cmd,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// The number of descriptors this process has open.
pub fn fd_count() -> usize {
    // The directory handle read_dir holds is counted each time, so it cancels out.
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// The descriptors (above stdio) of this process that are sockets.
pub fn open_sockets() -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Ok(target) = std::fs::read_link(entry.path()) {
            let target = target.to_string_lossy().into_owned();
            if name.parse::<i32>().is_ok_and(|n| n > 2) && target.starts_with("socket:") {
                found.push(format!("{name} -> {target}"));
            }
        }
    }
    found
}

/// The descriptors of this process, except the one listing them.
fn own_fds() -> Vec<i32> {
    let mut fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .flatten()
        .filter(|e| {
            // The directory handle doing the listing.
            !std::fs::read_link(e.path()).is_ok_and(|t| t.starts_with("/proc"))
        })
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    fds.sort_unstable();
    fds
}

/// The descriptors a child started now may inherit: stdio and those without close-on-exec.
/// Pass it in [`INHERITABLE_ENV`] to a `clean` role, which checks [`unexpected_fds`].
pub fn inheritable_fds() -> String {
    own_fds()
        .into_iter()
        .filter(|&fd| {
            fd <= 2 || {
                // SAFETY: only inspected; the descriptor is ours for the duration.
                let b = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
                rustix::io::fcntl_getfd(b).is_ok_and(|f| !f.contains(rustix::io::FdFlags::CLOEXEC))
            }
        })
        .map(|fd| fd.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Names the variable that carries [`inheritable_fds`] to a child.
pub const INHERITABLE_ENV: &str = "WM_ENTRY_INHERITABLE";

/// In a child: the descriptors it has beyond what its parent said it may inherit.
pub fn unexpected_fds() -> Vec<String> {
    let allowed: Vec<i32> = std::env::var(INHERITABLE_ENV)
        .unwrap_or_default()
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    own_fds()
        .into_iter()
        .filter(|fd| !allowed.contains(fd))
        .map(|fd| {
            let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap_or_default();
            format!("{fd} -> {}", target.display())
        })
        .collect()
}
