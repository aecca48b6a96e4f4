//! The absolute base URL that links are built from: feeds, the `/log` page's verify instructions,
//! anything that must name this service in full.
//!
//! Request headers are chosen by whoever sends them, so none is trusted as is:
//!
//! 1. With `--public-url` set, every link uses it and no header is read at all. This is what a
//!    deployment should do.
//! 2. Otherwise, only a peer listed in `--trusted-proxies` may say what the client asked for, in
//!    `Forwarded` (RFC 7239) or else `X-Forwarded-Proto` / `X-Forwarded-Host`. Only the last
//!    element counts — the one the trusted proxy itself added; anything before it came from the
//!    client — and it must pass the checks below.
//! 3. Then the `Host` header, if it is a plain `host[:port]` ([`is_authority`]).
//! 4. Then the address the server listens on.
//!
//! A scheme is `http` or `https` and nothing else; a host is letters, digits, `-` and `.` (or a
//! bracketed IPv6 address), with an optional port: no userinfo, path, query or other scheme can
//! slip into a link (`javascript://…`, `evil.example/@x`).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use actix_web::HttpRequest;
use actix_web::http::header;

/// Whether `text` is a plain `host[:port]`: a DNS name or IPv4 address of letters, digits, `-`
/// and `.`, or an IPv6 address in brackets, then optionally `:` and a port of 1 to 65535.
pub fn is_authority(text: &str) -> bool {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => ("[v6]", Some(port)),
                None => return false,
            },
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let host_ok = host == "[v6]"
        || (!host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }));
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok_and(|n| n > 0)
    });
    host_ok && port_ok
}

/// A scheme a link may carry.
fn scheme(text: &str) -> Option<&'static str> {
    if text.eq_ignore_ascii_case("https") {
        Some("https")
    } else if text.eq_ignore_ascii_case("http") {
        Some("http")
    } else {
        None
    }
}

/// Percent-encodes a query value or path segment: every byte outside RFC 3986's unreserved
/// characters.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The public base URL of a deployment: `http` or `https`, a plain `host[:port]`, no path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl FromStr for PublicUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<PublicUrl, String> {
        let refuse = || {
            format!(
                "{text:?} is not a public base URL: give http:// or https:// and a host with an \
                 optional port, without a path, e.g. https://decisions.example.gov.uk"
            )
        };
        let (name, rest) = text.split_once("://").ok_or_else(refuse)?;
        let scheme = scheme(name).ok_or_else(refuse)?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if !is_authority(authority) {
            return Err(refuse());
        }
        Ok(PublicUrl(format!(
            "{scheme}://{}",
            authority.to_ascii_lowercase()
        )))
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IP address or CIDR block, e.g. `10.0.0.7`, `10.0.0.0/8` or `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Whether `ip` lies in the range (an IPv4 address written as IPv4-mapped IPv6 counts as
    /// IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpRange {
    type Err = String;

    fn from_str(text: &str) -> Result<IpRange, String> {
        let text = text.trim();
        let refuse = || format!("{text:?} is not an IP address or CIDR block (e.g. 10.0.0.0/8)");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = address
            .parse::<IpAddr>()
            .map_err(|_| refuse())?
            .to_canonical();
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= bits)
                .ok_or_else(refuse)?,
            Some(_) => return Err(refuse()),
        };
        Ok(IpRange { network, prefix })
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Works out the base URL of each request (see the module documentation for the order).
#[derive(Debug, Clone)]
pub struct BaseUrl {
    public_url: Option<PublicUrl>,
    trusted_proxies: Vec<IpRange>,
    listen: SocketAddr,
}

impl BaseUrl {
    /// The rules for a server listening on `listen`.
    pub fn new(
        public_url: Option<PublicUrl>,
        trusted_proxies: Vec<IpRange>,
        listen: SocketAddr,
    ) -> BaseUrl {
        BaseUrl {
            public_url,
            trusted_proxies,
            listen,
        }
    }

    /// Whether `peer` is one of the trusted proxies (`--trusted-proxies`), whose forwarded
    /// headers and request ids are believed.
    pub fn trusts(&self, peer: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|r| r.contains(peer))
    }

    /// The base URL for links in the answer to `request`: scheme and authority, no trailing `/`.
    pub fn of(&self, request: &HttpRequest) -> String {
        if let Some(url) = &self.public_url {
            return url.to_string();
        }
        let trusted = request
            .peer_addr()
            .is_some_and(|peer| self.trusts(peer.ip()));
        let (proto, host) = if trusted {
            forwarded(request)
        } else {
            (None, None)
        };
        let host = host
            .or_else(|| {
                request
                    .headers()
                    .get(header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .filter(|h| is_authority(h))
                    .map(str::to_ascii_lowercase)
            })
            .unwrap_or_else(|| self.listen.to_string());
        format!("{}://{host}", proto.unwrap_or("http"))
    }
}

/// The scheme and host the trusted proxy in front reports, each only if it passes the checks:
/// from the last element of `Forwarded`, or else the last values of `X-Forwarded-Proto` and
/// `X-Forwarded-Host`.
fn forwarded(request: &HttpRequest) -> (Option<&'static str>, Option<String>) {
    let headers = request.headers();
    let last = |name: &str| {
        headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .map(str::trim)
            .map(str::to_owned)
    };
    if let Some(element) = last("forwarded") {
        let mut proto = None;
        let mut host = None;
        for pair in element.split(';') {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match name.trim().to_ascii_lowercase().as_str() {
                "proto" => proto = scheme(value),
                "host" if is_authority(value) => host = Some(value.to_ascii_lowercase()),
                _ => {}
            }
        }
        return (proto, host);
    }
    let proto = last("x-forwarded-proto").and_then(|p| scheme(&p));
    let host = last("x-forwarded-host")
        .filter(|h| is_authority(h))
        .map(|h| h.to_ascii_lowercase());
    (proto, host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_hosts_with_optional_ports_are_authorities() {
        for good in [
            "decisions.example.gov.uk",
            "localhost:8080",
            "10.0.0.7",
            "[::1]:8443",
            "[fd00::7]",
            "a-b.c",
        ] {
            assert!(is_authority(good), "{good}");
        }
        for bad in [
            "",
            "javascript://x",
            "evil.example/path",
            "user@evil.example",
            "evil.example:0",
            "evil.example:65536",
            "evil.example:",
            "evil..example",
            "-evil.example",
            "evil example",
            "evil.example\r\nX: y",
            "[not-v6]:80",
            "[::1]x",
            "évil.example",
        ] {
            assert!(!is_authority(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_public_url_is_a_scheme_and_an_authority() {
        let url: PublicUrl = "HTTPS://Decisions.Example.gov.uk/".parse().expect("valid");
        assert_eq!(url.to_string(), "https://decisions.example.gov.uk");
        for bad in [
            "decisions.example.gov.uk",
            "javascript://x",
            "ftp://x",
            "https://x/decisions",
            "https://u:p@x",
            "https://x?y",
        ] {
            assert!(bad.parse::<PublicUrl>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_contain_their_addresses_and_no_others() {
        let net: IpRange = "10.0.0.0/8".parse().expect("valid");
        assert!(net.contains("10.200.0.1".parse().expect("ip")));
        assert!(net.contains("::ffff:10.0.0.1".parse().expect("ip")));
        assert!(!net.contains("11.0.0.1".parse().expect("ip")));
        let one: IpRange = " 127.0.0.1 ".parse().expect("valid");
        assert!(one.contains("127.0.0.1".parse().expect("ip")));
        assert!(!one.contains("127.0.0.2".parse().expect("ip")));
        let v6: IpRange = "fd00::/8".parse().expect("valid");
        assert!(v6.contains("fd12::1".parse().expect("ip")));
        assert!(!v6.contains("fe80::1".parse().expect("ip")));
        let all: IpRange = "0.0.0.0/0".parse().expect("valid");
        assert!(all.contains("8.8.8.8".parse().expect("ip")));
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0",
            "fd00::/129",
            "x",
            "10.0.0.0/+8",
        ] {
            assert!(bad.parse::<IpRange>().is_err(), "{bad}");
        }
    }
}
