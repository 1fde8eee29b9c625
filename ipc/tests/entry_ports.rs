//! The entry points end to end, with the transport: a spawned child talks over its parent port,
//! listeners hand each client its own port, the notifier, and a client of another user that the
//! listener allows.

mod entry_common;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use entry_common::{
    inheritable_fds, is_root, role, role_command, run, unexpected_fds, TempDir, NOBODY,
};
use webmessaging_core::MessagePort;
use webmessaging_ipc::{
    connect, listen, parent_port, spawn, ErrorKind, ListenOptions, PORT_FD_ENV,
};

const WAIT: Option<Duration> = Some(Duration::from_secs(30));

/// Answers every message on `port` with the same bytes until the port closes.
fn echo_on(port: &MessagePort) -> Result<(), String> {
    loop {
        match port.recv(WAIT) {
            Ok(m) => port
                .post_message(m.data, &[])
                .map_err(|e| format!("post: {e}"))?,
            Err(webmessaging_core::Error::Closed(_)) => return Ok(()),
            Err(e) => return Err(format!("recv: {e}")),
        }
    }
}

/// In a spawned child: take the parent port (once), echo until it closes.
fn echo() -> Result<(), String> {
    let port = parent_port()
        .map_err(|e| format!("parent_port: {e}"))?
        .ok_or("no parent port")?;
    if std::env::var_os(PORT_FD_ENV).is_some() {
        return Err("the variable is still set after parent_port".into());
    }
    if !matches!(parent_port(), Ok(None)) {
        return Err("a second parent_port was not None".into());
    }
    // A grandchild sees neither the variable nor the descriptor.
    let mut grandchild = role_command("clean", None);
    grandchild.env(entry_common::INHERITABLE_ENV, inheritable_fds());
    let out = run(grandchild);
    if !out.status.success() {
        return Err(format!(
            "grandchild: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    echo_on(&port)
}

/// In a child of another user: connect, echo until the listener's side closes.
fn connect_and_echo() -> Result<(), String> {
    let path = std::env::var("WM_ENTRY_PATH").map_err(|e| e.to_string())?;
    let port = connect(&path, WAIT).map_err(|e| format!("connect: {e}"))?;
    echo_on(&port)
}

/// In a child: with stdin and stdout closed, the port's descriptor gets a number the
/// grandchild's stdio setup would overwrite; the grandchild must still get its port.
fn spawn_with_stdio_closed() -> Result<(), String> {
    let talk = |port: &MessagePort| -> Result<(), String> {
        port.post_message(b"x".to_vec(), &[])
            .map_err(|e| e.to_string())?;
        let m = port.recv(WAIT).map_err(|e| format!("recv: {e}"))?;
        (m.data == b"x")
            .then_some(())
            .ok_or("wrong echo".to_string())
    };
    // Start the transport first, so the numbers freed below go to the new socket pair.
    let (mut warm, port) = spawn(&mut role_command("echo", None)).map_err(|e| e.to_string())?;
    talk(&port)?;
    port.close();
    warm.wait().map_err(|e| e.to_string())?;
    // SAFETY: this process owns its stdin and stdout and uses neither again.
    unsafe {
        rustix::io::close(0);
        rustix::io::close(1);
    }
    let (mut child, port) = spawn(&mut role_command("echo", None)).map_err(|e| e.to_string())?;
    talk(&port)?;
    port.close();
    let status = child.wait().map_err(|e| e.to_string())?;
    status
        .success()
        .then_some(())
        .ok_or(format!("grandchild exited {status:?}"))
}

/// Not a test: the entry point of this binary re-run as a child (see `role_command`).
#[test]
fn role_entry_point() {
    let Some(role) = role() else { return };
    let result = match role.as_str() {
        "echo" => echo(),
        "connect-echo" => connect_and_echo(),
        "spawn-with-stdio-closed" => spawn_with_stdio_closed(),
        // Fails if this process inherited a descriptor its parent did not mean it to (or the
        // parent did not say), or the variable.
        "clean" => {
            let extra = unexpected_fds();
            let var = std::env::var_os(PORT_FD_ENV);
            let told = std::env::var_os(entry_common::INHERITABLE_ENV).is_some();
            if extra.is_empty() && var.is_none() && told {
                Ok(())
            } else {
                Err(format!(
                    "inherited {extra:?}, {PORT_FD_ENV}={var:?}, told: {told}"
                ))
            }
        }
        other => Err(format!("unknown role {other}")),
    };
    if let Err(why) = &result {
        eprintln!("role {role}: {why}");
    }
    std::process::exit(if result.is_ok() { 0 } else { 1 });
}

/// Sends `n` numbered messages on `port` and checks they come back in order.
fn round_trip(port: &MessagePort, tag: u8, n: u32) {
    for i in 0..n {
        let mut data = vec![tag];
        data.extend_from_slice(&i.to_le_bytes());
        port.post_message(data, &[]).unwrap();
    }
    for i in 0..n {
        let m = port.recv(WAIT).unwrap();
        let mut want = vec![tag];
        want.extend_from_slice(&i.to_le_bytes());
        assert_eq!(m.data, want);
    }
}

#[test]
fn spawned_child_echoes_over_its_parent_port() {
    let mut cmd = role_command("echo", None);
    let (mut child, port) = spawn(&mut cmd).unwrap();
    round_trip(&port, 1, 100);
    port.close();
    let status = child.wait().unwrap();
    assert!(status.success(), "child exited {status:?}");
}

#[test]
fn a_reused_command_passes_neither_the_descriptor_nor_the_variable() {
    let mut cmd = role_command("echo", None);
    let (mut child, port) = spawn(&mut cmd).unwrap();
    // The same command, spawned plainly while the first child still runs.
    cmd.env(entry_common::ROLE_ENV, "clean")
        .env(entry_common::INHERITABLE_ENV, inheritable_fds());
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    round_trip(&port, 2, 10);
    port.close();
    assert!(child.wait().unwrap().success());
}

#[test]
fn spawning_a_missing_program_is_not_found() {
    let err = spawn(&mut Command::new("/nonexistent/wm-entry-program")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[test]
fn each_client_gets_its_own_port() {
    let dir = TempDir::new("clients");
    let path = dir.join("s");
    let listener = listen(&path).unwrap();
    let clients: Vec<_> = (0..2u8)
        .map(|tag| {
            let path = path.clone();
            std::thread::spawn(move || {
                let port = connect(&path, WAIT).unwrap();
                // Say who this is, then echo.
                port.post_message(vec![tag], &[]).unwrap();
                echo_on(&port).unwrap();
            })
        })
        .collect();
    let mut ports = Vec::new();
    for _ in 0..2 {
        let port = listener.accept(WAIT).unwrap();
        let hello = port.recv(WAIT).unwrap();
        ports.push((hello.data[0], port));
    }
    ports.sort_by_key(|(tag, _)| *tag);
    assert_eq!(ports.iter().map(|(t, _)| *t).collect::<Vec<_>>(), [0, 1]);
    for (tag, port) in &ports {
        round_trip(port, *tag, 50);
    }
    for (_, port) in &ports {
        port.close();
    }
    for c in clients {
        c.join().unwrap();
    }
    assert!(listener.try_accept().unwrap().is_none());
}

#[test]
fn the_notifier_fires_when_a_client_is_ready() {
    let dir = TempDir::new("notify");
    let path = dir.join("s");
    let listener = listen(&path).unwrap();
    let fired = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let tx = std::sync::Mutex::new(tx);
    {
        let fired = fired.clone();
        listener.set_notifier(Some(Arc::new(move || {
            fired.fetch_add(1, Ordering::SeqCst);
            let _ = tx.lock().unwrap().send(());
        })));
    }
    let client = connect(&path, WAIT).unwrap();
    rx.recv_timeout(Duration::from_secs(30)).unwrap();
    let port = listener.try_accept().unwrap().expect("a ready client");
    client.post_message(b"hi".to_vec(), &[]).unwrap();
    assert_eq!(port.recv(WAIT).unwrap().data, b"hi");
    assert!(listener.try_accept().unwrap().is_none());
    assert_eq!(fired.load(Ordering::SeqCst), 1);

    // Installed while a client already waits: fires at once.
    listener.set_notifier(None);
    let second = connect(&path, WAIT).unwrap();
    let waited = listener.accept(WAIT).unwrap();
    let third = connect(&path, WAIT).unwrap();
    // `connect` returns once the listener answered; the port is queued just after that, so
    // install the notifier until it fires (at once, when the port is there).
    let late = Arc::new(AtomicUsize::new(0));
    let mut seen = 0;
    for _ in 0..300 {
        let l2 = late.clone();
        listener.set_notifier(Some(Arc::new(move || {
            l2.fetch_add(1, Ordering::SeqCst);
        })));
        seen = late.load(Ordering::SeqCst);
        if seen > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(seen > 0, "the notifier did not fire for a waiting client");
    assert!(listener.try_accept().unwrap().is_some());
    drop((second, waited, third));
}

#[test]
fn closing_the_listener_closes_ports_nobody_accepted() {
    let dir = TempDir::new("unaccepted");
    let path = dir.join("s");
    let listener = listen(&path).unwrap();
    let client = connect(&path, WAIT).unwrap();
    client.post_message(b"anyone?".to_vec(), &[]).unwrap();
    // Closed without accepting it (whether or not the accept thread has queued it yet).
    listener.close();
    match client.recv(WAIT) {
        Err(webmessaging_core::Error::Closed(_)) => {}
        other => panic!("expected the close notice, got {other:?}"),
    }
}

#[test]
fn a_listener_may_allow_another_user() {
    if !is_root() {
        eprintln!(
            "SKIPPED a_listener_may_allow_another_user: needs root to run a client as uid {NOBODY}"
        );
        return;
    }
    let dir = TempDir::new("allow");
    let path = dir.join("s");
    let listener = ListenOptions::new()
        .mode(0o666)
        .allow_uid(NOBODY)
        .listen(&path)
        .unwrap();
    let mut cmd = role_command("connect-echo", Some((NOBODY, &dir)));
    cmd.env("WM_ENTRY_PATH", &path);
    let mut child = entry_common::spawn_retrying(&mut cmd);
    let port = listener.accept(WAIT).unwrap();
    round_trip(&port, 7, 20);
    port.close();
    assert!(child.wait().unwrap().success());
}

#[test]
fn clients_beyond_the_pending_limit_wait_unanswered() {
    let dir = TempDir::new("pending");
    let path = dir.join("s");
    let listener = ListenOptions::new().pending(2).listen(&path).unwrap();
    let first = connect(&path, WAIT).unwrap();
    let second = connect(&path, WAIT).unwrap();
    // Wait until both are queued (connect returns just before its port is queued).
    let mut queued = Vec::new();
    while queued.len() < 2 {
        queued.push(listener.accept(WAIT).unwrap());
    }
    let third = connect(&path, WAIT).unwrap();
    let fourth = connect(&path, WAIT).unwrap();
    // Two are waiting now; a fifth is left in the backlog with no answer.
    let std::result::Result::Err(err) = connect(&path, Some(Duration::from_millis(300))) else {
        panic!("a client past the pending limit was answered");
    };
    assert_eq!(err.raw_os_error(), Some(110), "{err}"); // ETIMEDOUT
                                                        // Taking one makes room: the next client is answered.
    let _taken = listener.accept(WAIT).unwrap();
    let sixth = connect(&path, WAIT).unwrap();
    sixth.post_message(b"six".to_vec(), &[]).unwrap();
    let _fourth_side = listener.accept(WAIT).unwrap();
    assert_eq!(
        listener.accept(WAIT).unwrap().recv(WAIT).unwrap().data,
        b"six"
    );
    drop((first, second, third, fourth, queued));
}

#[test]
fn a_notifier_may_close_the_listener() {
    let dir = TempDir::new("close-in-notifier");
    let path = dir.join("s");
    let listener = Arc::new(listen(&path).unwrap());
    let weak = Arc::downgrade(&listener);
    listener.set_notifier(Some(Arc::new(move || {
        if let Some(l) = weak.upgrade() {
            l.close(); // on the accept thread: must not wait for itself
        }
    })));
    let client = connect(&path, WAIT).unwrap();
    // The port queued for it was closed with the listener.
    match client.recv(WAIT) {
        Err(webmessaging_core::Error::Closed(_)) => {}
        other => panic!("expected the close notice, got {other:?}"),
    }
    assert!(listener.is_closed());
    assert!(!path.exists());
}

#[test]
fn clients_that_hang_up_or_send_garbage_cost_only_themselves() {
    use std::io::Write;
    let dir = TempDir::new("hostile");
    let path = dir.join("s");
    let listener = listen(&path).unwrap();
    for i in 0..50 {
        let mut raw = std::os::unix::net::UnixStream::connect(&path).unwrap();
        if i % 2 == 0 {
            // Not our protocol at all (and no reading of the answer).
            let _ = raw.write_all(&[0xff; 64]);
        }
        drop(raw);
    }
    // Whatever became of those, a real client is served, and its port works.
    let client = connect(&path, WAIT).unwrap();
    client.post_message(b"real".to_vec(), &[]).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let port = listener.accept(WAIT).unwrap();
        // The hostile ones end at once (lost or closed); the real one says "real".
        match port.recv(WAIT) {
            Ok(m) => {
                assert_eq!(m.data, b"real");
                break;
            }
            Err(webmessaging_core::Error::Closed(_)) => {}
            Err(e) => panic!("{e}"),
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the real client never came"
        );
    }
}

#[test]
fn the_ready_descriptor_polls_readable_while_a_client_waits() {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let readable = |listener: &webmessaging_ipc::Listener, wait: bool| {
        let timeout = Timespec {
            tv_sec: if wait { 30 } else { 0 },
            tv_nsec: 0,
        };
        let fd = listener.ready_fd();
        let mut fds = [PollFd::new(&fd, PollFlags::IN)];
        poll(&mut fds, Some(&timeout)).unwrap() == 1
    };
    let dir = TempDir::new("ready-fd");
    let path = dir.join("s");
    let listener = listen(&path).unwrap();
    assert!(!readable(&listener, false));
    let a = connect(&path, WAIT).unwrap();
    assert!(readable(&listener, true));
    let b = connect(&path, WAIT).unwrap();
    let first = listener.try_accept().unwrap().expect("a waiting client");
    // Whether or not b's port is queued yet, the descriptor tells the truth about the queue.
    let second = match listener.try_accept().unwrap() {
        Some(p) => p,
        None => {
            assert!(readable(&listener, true));
            listener.try_accept().unwrap().expect("b's port")
        }
    };
    assert!(!readable(&listener, false));
    assert!(listener.try_accept().unwrap().is_none());
    listener.close();
    assert!(readable(&listener, false), "readable once closed");
    drop((a, b, first, second));
}

#[test]
fn spawn_works_from_a_parent_with_stdio_closed() {
    let out = run(role_command("spawn-with-stdio-closed", None));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
