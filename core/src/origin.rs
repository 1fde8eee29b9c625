//! Origins (HTML "origin", WHATWG URL "origin of a URL").
//!
//! An origin is either a (scheme, host, port) tuple or an opaque origin that is only ever the
//! same as itself. Every string is parsed by the `url` crate, which implements the WHATWG URL
//! parser (default ports, IDNA to punycode, IPv4 and IPv6 hosts, case folding); this module only
//! applies the standard's "origin of a URL" table on top of the parsed URL.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::error::{Error, Result};

/// An origin: a (scheme, host, port) tuple, or opaque.
///
/// Equality is the standard's *same origin*: two tuples are the same when scheme, host and port
/// are identical (a default port counts as that port: `https://a.test` and
/// `https://a.test:443` are the same origin); an opaque origin is the same only as itself and
/// its clones. `Display` gives the ASCII serialization (`"null"` for an opaque origin).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Origin(url::Origin);

impl Origin {
    /// The origin of the URL `url`, parsed by the WHATWG URL parser with no base URL.
    ///
    /// `http`, `https`, `ws`, `wss` and `ftp` URLs give a tuple origin; `blob:` URLs give the
    /// origin of the URL in their path when that is `http`, `https` or `file`; anything else
    /// (`file:`, `data:`, `about:blank`, `javascript:`...) gives a new opaque origin.
    ///
    /// Errors: [`Error::SyntaxError`] when `url` does not parse (`"null"`, `""`, `"a.test"`,
    /// `"//a.test"`, `" *"`).
    pub fn parse(url: &str) -> Result<Origin> {
        let parsed = Url::parse(url)
            .map_err(|e| Error::SyntaxError(format!("{url:?} is not a valid URL: {e}")))?;
        Ok(Origin::of_url(&parsed))
    }

    /// The origin of an already parsed URL (WHATWG URL, "origin" getter).
    pub(crate) fn of_url(url: &Url) -> Origin {
        match url.scheme() {
            // The `url` crate recurses into any blob path; the standard stops at these schemes.
            "blob" => match Url::parse(url.path()) {
                Ok(inner) if matches!(inner.scheme(), "http" | "https" | "file") => {
                    Origin::of_url(&inner)
                }
                _ => Origin::opaque(),
            },
            _ => Origin(url.origin()),
        }
    }

    /// A new opaque origin, the same only as itself and its clones (a sandboxed document's
    /// origin, or a `data:` URL's).
    pub fn opaque() -> Origin {
        Origin(url::Origin::new_opaque())
    }

    /// Whether this is an opaque origin (it serializes as `"null"`).
    pub fn is_opaque(&self) -> bool {
        !self.0.is_tuple()
    }

    /// The standard's *same origin* check; the same as `==`.
    pub fn same_origin(&self, other: &Origin) -> bool {
        self == other
    }

    /// The scheme of a tuple origin (lower case), `None` when opaque.
    pub fn scheme(&self) -> Option<&str> {
        match &self.0 {
            url::Origin::Tuple(scheme, _, _) => Some(scheme),
            url::Origin::Opaque(_) => None,
        }
    }

    /// The host of a tuple origin as it serializes (punycode for IDN, `[...]` for IPv6),
    /// `None` when opaque.
    pub fn host(&self) -> Option<String> {
        match &self.0 {
            url::Origin::Tuple(_, host, _) => Some(host.to_string()),
            url::Origin::Opaque(_) => None,
        }
    }

    /// The port of a tuple origin, with the scheme's default filled in (`443` for `https`),
    /// `None` when opaque.
    pub fn port(&self) -> Option<u16> {
        match &self.0 {
            url::Origin::Tuple(_, _, port) => Some(*port),
            url::Origin::Opaque(_) => None,
        }
    }

    /// The ASCII serialization (`"https://a.test"`, `"http://a.test:8080"`, `"null"`): what a
    /// `MessageEvent`'s `origin` attribute shows.
    pub fn ascii_serialization(&self) -> String {
        self.0.ascii_serialization()
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.ascii_serialization())
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            url::Origin::Tuple(..) => write!(f, "Origin({})", self.ascii_serialization()),
            // Opaque origins print alike; their identity is what tells them apart.
            url::Origin::Opaque(id) => write!(f, "Origin(opaque {id:?})"),
        }
    }
}

impl FromStr for Origin {
    type Err = Error;

    /// The same as [`Origin::parse`].
    fn from_str(url: &str) -> Result<Origin> {
        Origin::parse(url)
    }
}
