//! Who the client is and which address they typed, believing `X-Forwarded-*` headers only from
//! the proxies the operator named: behind a TLS proxy every connection comes from the proxy,
//! and from anyone else those headers are whatever the client wants them to be.

use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// One address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`, `127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for IpRange {
    type Err = String;

    fn from_str(text: &str) -> Result<IpRange, String> {
        let text = text.trim();
        let bad = || format!("{text:?} is not an IP address or CIDR block (such as 10.0.0.0/8)");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network = IpAddr::from_str(address).map_err(|_| bad())?.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(IpRange { network, prefix })
    }
}

impl std::fmt::Display for IpRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl IpRange {
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(address)) => same_prefix(
                network.to_bits().into(),
                address.to_bits().into(),
                32,
                self.prefix,
            ),
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                same_prefix(network.to_bits(), address.to_bits(), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn same_prefix(a: u128, b: u128, width: u8, prefix: u8) -> bool {
    let host_bits = u32::from(width - prefix);
    a.checked_shr(host_bits).unwrap_or(0) == b.checked_shr(host_bits).unwrap_or(0)
}

/// The proxies whose `X-Forwarded-For`, `-Host` and `-Proto` are believed; none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpRange>);

impl TrustedProxies {
    pub fn new(ranges: Vec<IpRange>) -> TrustedProxies {
        TrustedProxies(ranges)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn ranges(&self) -> &[IpRange] {
        &self.0
    }

    fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(address))
    }

    /// The client behind `peer`: walking `X-Forwarded-For` from the right, each hop a trusted
    /// proxy added is skipped, and the first address no trusted proxy vouches for is the client.
    /// Entries further left were written by the client itself and prove nothing.
    pub fn client_address(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        for hop in forwarded_for(headers).rev() {
            // A trusted proxy wrote this entry; if it is unreadable, the proxy before it is
            // the best we know.
            let Ok(hop) = IpAddr::from_str(hop) else {
                break;
            };
            client = hop.to_canonical();
            if !self.trusts(client) {
                break;
            }
        }
        client
    }

    /// The host and scheme the browser used: the request's own `Host`, or what a trusted proxy
    /// says it received (`X-Forwarded-Host`, `X-Forwarded-Proto`).
    pub fn requested_origin(&self, peer: Option<IpAddr>, parts: &Parts) -> RequestedOrigin {
        let own_host = parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()));
        let behind_trusted_proxy = peer.is_some_and(|p| self.trusts(p.to_canonical()));
        if !behind_trusted_proxy {
            return RequestedOrigin {
                host: own_host,
                scheme: None,
            };
        }
        RequestedOrigin {
            host: last_value(&parts.headers, "x-forwarded-host").or(own_host),
            scheme: last_value(&parts.headers, "x-forwarded-proto"),
        }
    }
}

/// Every `X-Forwarded-For` entry in order, across repeated headers.
fn forwarded_for(headers: &HeaderMap) -> impl DoubleEndedIterator<Item = &str> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>()
        .into_iter()
}

/// The entry the nearest proxy added to a comma-separated header.
fn last_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|v| !v.is_empty())
        .map(str::to_ascii_lowercase)
}

/// Where the browser thinks it is talking to. The scheme is known only from a trusted proxy:
/// the server itself speaks plain HTTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedOrigin {
    pub host: Option<String>,
    pub scheme: Option<String>,
}

/// The socket peer, when the server runs on a real socket (absent in in-process tests).
pub fn peer_address(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The real client address, as every per-address limit must see it. `None` only when there is
/// no socket at all (in-process tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// The key a per-address counter uses. IPv6 clients are counted per /64, the block one
    /// household or phone is given, so a client cannot escape its limit by changing addresses.
    pub fn throttle_key(&self, counter: &str) -> Option<String> {
        self.0.map(|address| match address {
            IpAddr::V4(v4) => format!("{counter}:{v4}"),
            IpAddr::V6(v6) => {
                let block = std::net::Ipv6Addr::from_bits(v6.to_bits() & !((1u128 << 64) - 1));
                format!("{counter}:{block}/64")
            }
        })
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(peer_address(parts).map(|peer| {
            state
                .config
                .trusted_proxies
                .client_address(peer, &parts.headers)
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|r| r.parse().unwrap()).collect())
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ranges_parse_addresses_and_blocks_and_refuse_the_rest() {
        let block: IpRange = "10.1.0.0/16".parse().unwrap();
        assert!(block.contains(ip("10.1.255.3")));
        assert!(!block.contains(ip("10.2.0.1")));
        assert!(block.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped peers");
        let single: IpRange = "127.0.0.1".parse().unwrap();
        assert!(single.contains(ip("127.0.0.1")) && !single.contains(ip("127.0.0.2")));
        let v6: IpRange = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::1")) && !v6.contains(ip("2001:db9::1")));
        assert!(
            "0.0.0.0/0"
                .parse::<IpRange>()
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "proxy.local",
            "10.0.0/8",
            "10.0.0.0/-1",
        ] {
            assert!(bad.parse::<IpRange>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let headers = forwarded("203.0.113.7");
        assert_eq!(
            TrustedProxies::default().client_address(ip("10.0.0.1"), &headers),
            ip("10.0.0.1")
        );
        assert_eq!(
            proxies(&["10.0.0.1"]).client_address(ip("198.51.100.9"), &headers),
            ip("198.51.100.9"),
            "a client talking to us directly cannot name another address"
        );
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let trusted = proxies(&["10.0.0.0/8"]);
        // The client prepended a fake address; the proxy appended the real one.
        let headers = forwarded("1.2.3.4, 203.0.113.7");
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &headers),
            ip("203.0.113.7")
        );
        // Two proxies in a row: the CDN's hop is skipped as well.
        let headers = forwarded("1.2.3.4, 203.0.113.7, 10.9.9.9");
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &headers),
            ip("203.0.113.7")
        );
        // Repeated headers read as one list.
        let mut headers = forwarded("1.2.3.4");
        headers.append("x-forwarded-for", "203.0.113.8".parse().unwrap());
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &headers),
            ip("203.0.113.8")
        );
    }

    #[test]
    fn without_a_readable_hop_the_nearest_proxy_stands_for_the_client() {
        let trusted = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        assert_eq!(
            trusted.client_address(ip("10.0.0.1"), &forwarded("unknown, 10.0.0.2")),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_block() {
        let a = ClientIp(Some(ip("2001:db8:1:2:aaaa::1"))).throttle_key("login-ip");
        let b = ClientIp(Some(ip("2001:db8:1:2:bbbb::2"))).throttle_key("login-ip");
        let other = ClientIp(Some(ip("2001:db8:1:3::1"))).throttle_key("login-ip");
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert_eq!(
            ClientIp(Some(ip("203.0.113.7")))
                .throttle_key("login-ip")
                .as_deref(),
            Some("login-ip:203.0.113.7")
        );
        assert_eq!(ClientIp(None).throttle_key("login-ip"), None);
    }

    #[test]
    fn forwarded_host_and_scheme_count_only_from_a_trusted_proxy() {
        let request = axum::http::Request::post("/api/v1/x")
            .header("host", "10.0.0.5:8080")
            .header("x-forwarded-host", "shop.example")
            .header("x-forwarded-proto", "https")
            .body(())
            .unwrap();
        let (parts, _) = request.into_parts();
        let trusted = proxies(&["10.0.0.1"]);
        assert_eq!(
            trusted.requested_origin(Some(ip("10.0.0.1")), &parts),
            RequestedOrigin {
                host: Some("shop.example".into()),
                scheme: Some("https".into())
            }
        );
        assert_eq!(
            trusted.requested_origin(Some(ip("198.51.100.9")), &parts),
            RequestedOrigin {
                host: Some("10.0.0.5:8080".into()),
                scheme: None
            }
        );
    }
}
