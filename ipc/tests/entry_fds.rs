//! Descriptor hygiene of the entry points: many spawns, connections, refusals and listener
//! closes leave this process's descriptor count where it started. (Its own binary: a count of
//! `/proc/self/fd` means nothing while other tests run beside it.)

mod entry_common;

use std::time::{Duration, Instant};

use entry_common::{fd_count, role, role_command, TempDir};
use webmessaging_core::MessagePort;
use webmessaging_ipc::{connect, listen, parent_port, spawn};

const WAIT: Option<Duration> = Some(Duration::from_secs(30));

/// Not a test: the entry point of this binary re-run as a child (see `role_command`).
#[test]
fn role_entry_point() {
    let Some(role) = role() else { return };
    // "echo": answer one message on the parent port, then wait for it to close.
    let ok = role == "echo"
        && match parent_port() {
            Ok(Some(port)) => {
                port.recv(WAIT)
                    .and_then(|m| port.post_message(m.data, &[]))
                    .is_ok()
                    && matches!(port.recv(WAIT), Err(webmessaging_core::Error::Closed(_)))
            }
            _ => false,
        };
    std::process::exit(if ok { 0 } else { 1 });
}

fn ping(port: &MessagePort) {
    port.post_message(b"ping".to_vec(), &[]).unwrap();
    assert_eq!(port.recv(WAIT).unwrap().data, b"ping");
}

fn one_round(dir: &TempDir, i: usize) {
    // A spawned child.
    let (mut child, port) = spawn(&mut role_command("echo", None)).unwrap();
    ping(&port);
    port.close();
    assert!(child.wait().unwrap().success());

    // A listener, a client, a refusal of a stranger, and a close with a client not accepted.
    let path = dir.join(&format!("s{i}"));
    let listener = listen(&path).unwrap();
    let client = connect(&path, WAIT).unwrap();
    let server = listener.accept(WAIT).unwrap();
    client.post_message(b"ping".to_vec(), &[]).unwrap();
    let m = server.recv(WAIT).unwrap();
    server.post_message(m.data, &[]).unwrap();
    assert_eq!(client.recv(WAIT).unwrap().data, b"ping");
    let unaccepted = connect(&path, WAIT).unwrap();
    assert!(connect(dir.join("absent"), WAIT).is_err());
    assert!(listen(&path).is_err());
    client.close();
    server.close();
    listener.close();
    drop(unaccepted);
}

#[test]
fn descriptor_count_is_flat_after_many_spawns_connections_and_closes() {
    let dir = TempDir::new("fds");
    // Warm up: the transport keeps a reactor (and its descriptors) once started.
    one_round(&dir, 0);
    // Ports end asynchronously on the transport's thread: wait until the count stops falling
    // (or reaches `floor`).
    let settle = |floor: usize| {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = fd_count();
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let now = fd_count();
            if now <= floor || (now == last && floor == 0) || Instant::now() > deadline {
                return now;
            }
            last = now;
        }
    };
    let before = settle(0);
    for i in 1..=20 {
        one_round(&dir, i);
    }
    let after = settle(before);
    assert_eq!(after, before, "descriptors leaked");
}
