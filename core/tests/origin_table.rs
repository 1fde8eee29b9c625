//! The origin model as a table: `window.postMessage(msg, targetOrigin, [port])` from a window at
//! `https://sender.test` to a target window → delivered, dropped, or `SyntaxError`.
//!
//! Where the expected results come from: the WHATWG URL Standard's parser and "origin of a URL"
//! rules, plus the HTML window post message steps (`"*"` matches anything, `"/"` is the
//! sender's origin, an opaque origin matches nothing it was not created as). Every row was
//! checked against Node 20's WHATWG URL implementation: `new URL(x).origin` for the target
//! string (a throw means `SyntaxError`, `"null"` means opaque and therefore dropped) and for
//! the target window's URL (after navigation, if any); delivered means the two serializations
//! are equal and not `"null"`. They are not derived from this crate.

use webmessaging_core::{Error, MessageChannel, Origin, Window};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Delivered,
    Dropped,
    SyntaxError,
}
use Expect::*;

/// The sender's origin (what `"/"` means).
const SENDER: &str = "https://sender.test";
/// In the window and navigation columns: a window with a fresh opaque origin (a sandboxed
/// document); `""` in the navigation column means no navigation.
const OPAQUE: &str = "opaque";

/// (targetOrigin, target window URL, URL the target navigates to between post and delivery,
/// expected result).
const TABLE: &[(&str, &str, &str, Expect)] = &[
    // "*" and "/".
    ("*", "https://a.test", "", Delivered),
    ("*", OPAQUE, "", Delivered),
    ("*", "file:///home/a.html", "", Delivered),
    ("/", "https://sender.test", "", Delivered),
    ("/", "https://sender.test:443/other/page", "", Delivered),
    ("/", "https://a.test", "", Dropped),
    ("/", "http://sender.test", "", Dropped),
    ("/", OPAQUE, "", Dropped),
    // Plain tuple origins; path, query, fragment and userinfo are ignored.
    ("https://a.test", "https://a.test", "", Delivered),
    (
        "https://a.test/",
        "https://a.test/index.html",
        "",
        Delivered,
    ),
    ("https://a.test/p?q#f", "https://a.test", "", Delivered),
    ("https://a.test:443/p?q#f", "https://a.test", "", Delivered),
    ("https://user:pw@a.test/", "https://a.test", "", Delivered),
    ("https://b.test", "https://a.test", "", Dropped),
    ("https://sub.a.test", "https://a.test", "", Dropped),
    ("https://a.test", "https://sub.a.test", "", Dropped),
    ("https://a.test.", "https://a.test", "", Dropped),
    // Default and explicit ports.
    ("https://a.test:443", "https://a.test", "", Delivered),
    ("https://a.test", "https://a.test:443", "", Delivered),
    ("http://a.test:80", "http://a.test", "", Delivered),
    ("http://a.test:080", "http://a.test", "", Delivered),
    ("https://a.test:8443", "https://a.test", "", Dropped),
    ("https://a.test:8443", "https://a.test:8443", "", Delivered),
    ("http://a.test:443", "https://a.test", "", Dropped),
    ("https://a.test:0", "https://a.test", "", Dropped),
    ("http://a.test:65535", "http://a.test:65535", "", Delivered),
    ("https://a.test:65536", "https://a.test", "", SyntaxError),
    // Case: schemes and hosts are case-insensitive, paths do not matter.
    ("HTTPS://A.TEST", "https://a.test", "", Delivered),
    ("https://A.Test/Some/Path", "https://a.test", "", Delivered),
    ("hTtPs://a.TeSt:443", "HTTPS://A.TEST/", "", Delivered),
    // Scheme mismatches.
    ("http://a.test", "https://a.test", "", Dropped),
    ("ws://a.test", "http://a.test", "", Dropped),
    ("wss://a.test", "wss://a.test:443/socket", "", Delivered),
    ("ftp://a.test", "ftp://a.test", "", Delivered),
    // IPv4 and IPv6 hosts, in their canonical forms.
    ("https://127.0.0.1", "https://127.0.0.1", "", Delivered),
    ("https://0x7f.0.0.1", "https://127.0.0.1", "", Delivered),
    ("https://2130706433", "https://127.0.0.1", "", Delivered),
    ("https://[::1]", "https://[::1]", "", Delivered),
    (
        "https://[0:0:0:0:0:0:0:1]:443",
        "https://[::1]",
        "",
        Delivered,
    ),
    ("https://[::1]:8443", "https://[::1]", "", Dropped),
    (
        "https://[::ffff:127.0.0.1]",
        "https://[::ffff:7f00:1]",
        "",
        Delivered,
    ),
    ("https://[::1", "https://[::1]", "", SyntaxError),
    // IDN hosts: IDNA maps Unicode and case to punycode.
    (
        "https://bücher.test",
        "https://xn--bcher-kva.test",
        "",
        Delivered,
    ),
    ("https://BÜCHER.test", "https://bücher.test", "", Delivered),
    (
        "https://xn--bcher-kva.test/",
        "https://bücher.test",
        "",
        Delivered,
    ),
    ("https://bucher.test", "https://bücher.test", "", Dropped),
    ("https://a%2Etest", "https://a.test", "", Delivered),
    // The URL parser's leniencies for special schemes.
    (" https://a.test ", "https://a.test", "", Delivered),
    ("https:a.test", "https://a.test", "", Delivered),
    ("https:/a.test", "https://a.test", "", Delivered),
    ("https:\\\\a.test\\p", "https://a.test", "", Delivered),
    // Opaque origins (file:, data:, about:blank, javascript:, non-special schemes) never match.
    ("file:///home/a.html", "https://a.test", "", Dropped),
    ("file:///home/a.html", "file:///home/a.html", "", Dropped),
    ("data:text/html,<p>x", "https://a.test", "", Dropped),
    ("data:text/html,<p>x", OPAQUE, "", Dropped),
    ("about:blank", "https://a.test", "", Dropped),
    ("about:blank", OPAQUE, "", Dropped),
    ("javascript:void(0)", "https://a.test", "", Dropped),
    ("custom://a.test", "https://a.test", "", Dropped),
    ("https://a.test", OPAQUE, "", Dropped),
    ("https://a.test", "data:text/html,x", "", Dropped),
    // blob: URLs take the origin of the URL inside, for http(s) and file only.
    (
        "blob:https://a.test/0e9c3b2a",
        "https://a.test",
        "",
        Delivered,
    ),
    ("blob:ftp://a.test/x", "ftp://a.test", "", Dropped),
    ("blob:null/0e9c3b2a", OPAQUE, "", Dropped),
    // Not URLs at all: SyntaxError, before anything is transferred.
    ("null", "https://a.test", "", SyntaxError),
    ("null", OPAQUE, "", SyntaxError),
    ("", "https://a.test", "", SyntaxError),
    (" *", "https://a.test", "", SyntaxError),
    ("* ", "https://a.test", "", SyntaxError),
    ("**", "https://a.test", "", SyntaxError),
    ("//a.test", "https://a.test", "", SyntaxError),
    ("a.test", "https://a.test", "", SyntaxError),
    ("/a.test", "https://a.test", "", SyntaxError),
    ("https://", "https://a.test", "", SyntaxError),
    ("https://a b.test", "https://a.test", "", SyntaxError),
    ("http://[::1]x", "http://[::1]", "", SyntaxError),
    // Navigation between post and delivery: the check uses the origin at delivery.
    (
        "https://a.test",
        "https://a.test",
        "https://b.test",
        Dropped,
    ),
    (
        "https://b.test",
        "https://a.test",
        "https://b.test",
        Delivered,
    ),
    (
        "https://a.test",
        "https://a.test",
        "https://a.test:443/next",
        Delivered,
    ),
    ("https://a.test", "https://a.test", OPAQUE, Dropped),
    ("*", "https://a.test", OPAQUE, Delivered),
    ("/", "https://sender.test", "https://evil.test", Dropped),
    ("/", "https://a.test", "https://sender.test", Delivered),
];

fn origin_of(url: &str) -> Origin {
    if url == OPAQUE {
        return Origin::opaque();
    }
    match Origin::parse(url) {
        Ok(o) => o,
        Err(e) => panic!("table window URL {url:?} does not parse: {e}"),
    }
}

/// Runs one row; returns what happened, checking the side effects that go with it.
fn run(target_origin: &str, window: &str, navigate: &str) -> Expect {
    let sender = Window::new(origin_of(SENDER));
    let target = Window::new(origin_of(window));
    let (keep, travel) = MessageChannel::new().into_ports();
    let posted = target.post_message("row", target_origin, std::slice::from_ref(&travel), &sender);
    if let Err(e) = posted {
        assert!(matches!(e, Error::SyntaxError(_)), "unexpected error {e:?}");
        assert!(
            !travel.is_detached(),
            "a SyntaxError must come before any transfer"
        );
        assert_eq!(target.metrics().queue.enqueued, 0);
        return SyntaxError;
    }
    assert!(
        travel.is_detached(),
        "transfers happen at post time (R-WIN-11)"
    );
    if !navigate.is_empty() {
        target.navigate(origin_of(navigate));
    }
    match target.try_recv() {
        Some(event) => {
            assert_eq!(event.data, b"row");
            assert_eq!(event.origin, SENDER);
            assert_eq!(event.ports.len(), 1);
            assert!(target.try_recv().is_none());
            Delivered
        }
        None => {
            assert_eq!(target.metrics().origin_mismatches, 1);
            // The transferred port was lost with the message: its peer sees it close.
            assert!(!keep.is_entangled());
            Dropped
        }
    }
}

#[test]
fn origin_table_window_post_message() {
    assert!(TABLE.len() >= 60, "the table needs at least 60 rows");
    let mut failures = Vec::new();
    for &(target_origin, window, navigate, expected) in TABLE {
        let got = run(target_origin, window, navigate);
        if got != expected {
            failures.push(format!(
                "targetOrigin {target_origin:?} to window {window:?} (navigate {navigate:?}): \
                 expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The ASCII serializations the table relies on (also checked with Node's `new URL(x).origin`).
#[test]
fn origin_serialization_follows_whatwg_url() {
    let cases = [
        ("https://a.test:443/p?q#f", "https://a.test"),
        ("HTTP://A.TEST:80", "http://a.test"),
        ("http://a.test:8080", "http://a.test:8080"),
        ("https://[0:0::1]:443", "https://[::1]"),
        ("https://BÜCHER.test", "https://xn--bcher-kva.test"),
        ("http://0x7f.1", "http://127.0.0.1"),
        ("wss://a.test:443", "wss://a.test"),
        ("blob:https://a.test:8443/uuid", "https://a.test:8443"),
        ("file:///etc/hosts", "null"),
        ("data:,x", "null"),
        ("about:blank", "null"),
        ("blob:ftp://a.test/x", "null"),
    ];
    for (url, serialized) in cases {
        let origin = Origin::parse(url).unwrap_or_else(|e| panic!("{url:?}: {e}"));
        assert_eq!(
            origin.ascii_serialization(),
            serialized,
            "origin of {url:?}"
        );
        assert_eq!(origin.to_string(), serialized);
        assert_eq!(origin.is_opaque(), serialized == "null");
    }
    let o = Origin::parse("https://a.test:8443/x").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (o.scheme(), o.host().as_deref(), o.port()),
        (Some("https"), Some("a.test"), Some(8443))
    );
    assert_eq!(
        Origin::parse("https://a.test").ok().and_then(|o| o.port()),
        Some(443)
    );
}

#[test]
fn origin_same_origin_rules() {
    let parse = |s: &str| Origin::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
    assert!(parse("https://a.test").same_origin(&parse("https://a.test:443/x")));
    assert!(!parse("https://a.test").same_origin(&parse("http://a.test")));
    // Two opaque origins are never the same, even from the same URL; a clone is the same.
    let data = parse("data:,x");
    assert!(!data.same_origin(&parse("data:,x")));
    assert!(data.same_origin(&data.clone()));
    let opaque = Origin::opaque();
    assert_ne!(opaque, Origin::opaque());
    assert_eq!(opaque, opaque.clone());
    // Not URLs.
    for bad in [
        "",
        "null",
        "*",
        "a.test",
        "//a.test",
        "https://a.test:99999",
    ] {
        assert!(
            matches!(Origin::parse(bad), Err(Error::SyntaxError(_))),
            "{bad:?}"
        );
        assert!(bad.parse::<Origin>().is_err());
    }
}
