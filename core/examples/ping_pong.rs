//! Two threads play ping-pong over a channel; then one hands its port to a third thread, which
//! carries on the game with the same peer — nothing lost, nothing reordered.

use std::thread;
use std::time::Duration;

use webmessaging_core::{Error, MessageChannel, MessagePort};

const PATIENCE: Option<Duration> = Some(Duration::from_secs(5));

fn text(port: &MessagePort) -> Result<String, Error> {
    let m = port.recv(PATIENCE)?;
    Ok(String::from_utf8_lossy(&m.data).into_owned())
}

fn main() -> Result<(), Error> {
    let (alice, bob) = MessageChannel::new().into_ports();
    let (to_carol, carol_inbox) = MessageChannel::new().into_ports();

    let bob_thread = thread::spawn(move || -> Result<(), Error> {
        for round in 1..=3 {
            let ping = text(&bob)?;
            println!("[bob]   got {ping:?}, answering pong {round}");
            bob.post_message(format!("pong {round}").as_str(), &[])?;
        }
        // Bob is done: he hands his end of the channel to Carol, backlog and all.
        println!(
            "[bob]   handing my port to carol ({} message(s) still queued)",
            bob.metrics().depth
        );
        to_carol.post_message("here is bob's port", &[bob])?;
        Ok(())
    });

    let carol_thread = thread::spawn(move || -> Result<(), Error> {
        let mut m = carol_inbox.recv(PATIENCE)?;
        println!(
            "[carol] got {:?} with {} port(s)",
            String::from_utf8_lossy(&m.data),
            m.ports.len()
        );
        let port = m.ports.remove(0);
        port.start();
        loop {
            match text(&port) {
                Ok(msg) => {
                    println!("[carol] got {msg:?} on bob's old port");
                    port.post_message(format!("carol answers {msg}").as_str(), &[])?;
                }
                Err(Error::Closed(notice)) => {
                    println!("[carol] channel ended: {notice}");
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
    });

    for round in 1..=3 {
        alice.post_message(format!("ping {round}").as_str(), &[])?;
        println!("[alice] got {:?}", text(&alice)?);
    }
    // These may reach bob's port before or after it moves: either way carol gets them, in order.
    alice.post_message("ping 4", &[])?;
    alice.post_message("ping 5", &[])?;
    println!("[alice] got {:?}", text(&alice)?);
    println!("[alice] got {:?}", text(&alice)?);
    let metrics = alice.metrics();
    println!(
        "[alice] posted {} and received {} messages; closing",
        metrics.posted, metrics.delivered
    );
    alice.close();

    bob_thread.join().expect("bob's thread panicked")?;
    carol_thread.join().expect("carol's thread panicked")?;
    Ok(())
}
