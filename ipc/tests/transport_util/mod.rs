//! Shared by the transport tests: child processes are this test binary run again with a role
//! in the environment (the `child_main` test runs it), holding a port imported from an
//! inherited descriptor.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use webmessaging_core::{CloseNotice, CloseReason, Error, Message, MessageChannel, MessagePort};
use webmessaging_ipc::{export_fd, import_fd};

pub const ROLE_ENV: &str = "WM_IPC_TEST_ROLE";
pub const FD_ENV: &str = "WM_IPC_TEST_FD";
/// Every wait in these tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(60);

/// A child process running `role` with a port entangled with the returned one.
pub struct Peer {
    pub child: Child,
    pub port: MessagePort,
    pub stdout: BufReader<ChildStdout>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts this test binary again as `role`, with `fd` inherited (under the same number).
pub fn spawn_with_fd(
    test_exe_filter: &str,
    role: &str,
    fd: OwnedFd,
    env: &[(&str, String)],
) -> (Child, BufReader<ChildStdout>) {
    let raw: RawFd = fd.as_raw_fd();
    let mut cmd = Command::new(std::env::current_exe().expect("test binary path"));
    cmd.args([
        test_exe_filter,
        "--exact",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ])
    .env(ROLE_ENV, role)
    .env(FD_ENV, raw.to_string())
    .stdout(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // SAFETY: only an async-signal-safe fcntl between fork and exec, on a descriptor we own.
    unsafe {
        cmd.pre_exec(move || {
            let fd = std::os::fd::BorrowedFd::borrow_raw(raw);
            rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::empty())?;
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn the child role");
    drop(fd);
    let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    (child, stdout)
}

/// A new channel whose far end lives in a child running `role`.
pub fn spawn_peer(role: &str, env: &[(&str, String)]) -> Peer {
    let (mine, theirs) = MessageChannel::new().into_ports();
    let fd = export_fd(&theirs).expect("export_fd");
    assert!(theirs.is_detached(), "export detaches the port");
    let (child, stdout) = spawn_with_fd("child_main", role, fd, env);
    Peer {
        child,
        port: mine,
        stdout,
    }
}

impl Peer {
    /// The next line the child printed (roles print `ready` and the like).
    pub fn line(&mut self) -> String {
        let mut s = String::new();
        loop {
            s.clear();
            let n = self.stdout.read_line(&mut s).expect("read child stdout");
            assert!(n > 0, "the child exited before printing the expected line");
            let t = s.trim();
            // libtest's own chatter.
            if t.is_empty() || t.starts_with("running ") || t.starts_with("test ") {
                continue;
            }
            return t.to_string();
        }
    }

    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return st;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the child did not exit"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The role's port, from the inherited descriptor.
pub fn child_port() -> Option<(String, MessagePort)> {
    let role = std::env::var(ROLE_ENV).ok()?;
    let fd: RawFd = std::env::var(FD_ENV).ok()?.parse().ok()?;
    // SAFETY: the parent passed us this descriptor number and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    Some((role, import_fd(fd).expect("import_fd in the child")))
}

pub fn recv(port: &MessagePort) -> Message {
    port.recv(Some(WAIT)).expect("a message within the wait")
}

/// Receives until the close notice; returns the messages and the notice.
pub fn recv_all(port: &MessagePort) -> (Vec<Message>, CloseNotice) {
    let mut v = Vec::new();
    loop {
        match port.recv(Some(WAIT)) {
            Ok(m) => v.push(m),
            Err(Error::Closed(n)) => return (v, n),
            Err(e) => panic!("after {} messages: {e:?}", v.len()),
        }
    }
}

pub fn seq(i: u64) -> Vec<u8> {
    i.to_le_bytes().to_vec()
}

pub fn seq_of(m: &Message) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&m.data[..8]);
    u64::from_le_bytes(a)
}

pub fn closed_by_peer(reason: CloseReason) -> CloseNotice {
    CloseNotice {
        reason,
        by_peer: true,
    }
}

/// Open descriptors of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
