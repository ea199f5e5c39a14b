//! Who a request comes from. The socket's peer is the client unless it is one of our own trusted
//! proxies (`TRUSTED_PROXIES`); then the client is the rightmost address of `X-Forwarded-For` that
//! is not a trusted proxy — the hop our own proxies saw — so a client cannot choose its address
//! by sending the header itself.

use std::net::IpAddr;

use poem::Request;

/// An address block (`10.0.0.0/8`, `::1/128`, or a bare address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `address/prefix` or a bare address.
    ///
    /// # Errors
    /// A message naming what is wrong.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?}: the prefix must be 0 to {max}"))?,
        };
        Ok(Cidr { network, prefix })
    }

    /// True when `ip` is in the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> Option<(u128, u32)> {
            match ip {
                IpAddr::V4(v4) => Some((u128::from(u32::from(v4)), 32)),
                IpAddr::V6(v6) => Some((u128::from(v6), 128)),
            }
        };
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            other => other,
        };
        match (bits(self.network), bits(ip)) {
            (Some((network, width)), Some((address, other))) if width == other => {
                let host_bits = width.saturating_sub(u32::from(self.prefix));
                let mask = if host_bits >= 128 {
                    0
                } else {
                    u128::MAX.checked_shl(host_bits).unwrap_or(0)
                };
                network & mask == address & mask
            }
            _ => false,
        }
    }
}

/// Our own proxies, whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Parses a comma-separated list of CIDR blocks (empty: trust no proxy).
    ///
    /// # Errors
    /// A message naming the entry that is not an address or block.
    pub fn parse(text: &str) -> Result<TrustedProxies, String> {
        text.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(Cidr::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(ip))
    }

    /// The client of a connection from `peer` carrying `forwarded_for` (every
    /// `X-Forwarded-For` line, joined in order): the rightmost hop that is not one of our
    /// proxies. A hop that cannot be read stops the walk at the last address we can vouch for —
    /// never skipped, or a client could hide behind it the address it chose.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut vouched = peer;
        for hop in forwarded_for.unwrap_or_default().rsplit(',') {
            let Some(ip) = hop_address(hop) else {
                return vouched;
            };
            if !self.trusts(ip) {
                return ip;
            }
            vouched = ip;
        }
        vouched
    }
}

/// The address of one `X-Forwarded-For` hop: a bare address, `[v6]`, or either with a port.
fn hop_address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Ok(socket) = hop.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    hop.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse().ok())
}

/// The client address of a request, as text (`unknown` for a connection without one).
pub fn client_address(request: &Request) -> String {
    let Some(peer) = request.remote_addr().as_socket_addr().map(|a| a.ip()) else {
        return "unknown".to_owned();
    };
    let proxies = request.data::<TrustedProxies>();
    // Proxies may add a header line rather than append to the first: read them all, in order.
    let forwarded: Vec<&str> = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let forwarded = forwarded.join(",");
    match proxies {
        Some(proxies) => proxies
            .client_ip(peer, (!forwarded.is_empty()).then_some(forwarded.as_str()))
            .to_string(),
        None => peer.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let block = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(block.contains(ip("10.200.3.4")));
        assert!(!block.contains(ip("11.0.0.1")));
        assert!(block.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped IPv6");
        assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("proxy.local").is_err());
        assert!(TrustedProxies::parse(" ").unwrap().0.is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/8, nope").is_err());
    }

    #[test]
    fn the_client_is_the_rightmost_hop_that_is_not_ours() {
        let proxies = TrustedProxies::parse("10.0.0.0/8,192.168.1.5").unwrap();
        // A direct client cannot pick its address with the header.
        assert_eq!(
            proxies.client_ip(ip("203.0.113.9"), Some("1.2.3.4")),
            ip("203.0.113.9")
        );
        // Through our proxies: the hop they saw, whatever the client put before it.
        assert_eq!(
            proxies.client_ip(ip("10.0.0.2"), Some("6.6.6.6, 198.51.100.7, 192.168.1.5")),
            ip("198.51.100.7")
        );
        assert_eq!(
            proxies.client_ip(ip("10.0.0.2"), Some("garbage, 198.51.100.7")),
            ip("198.51.100.7")
        );
        assert_eq!(proxies.client_ip(ip("10.0.0.2"), None), ip("10.0.0.2"));
        // A hop that cannot be read is never stepped over: the last address we vouch for wins.
        assert_eq!(
            proxies.client_ip(ip("10.0.0.2"), Some("6.6.6.6, unknown")),
            ip("10.0.0.2")
        );
        assert_eq!(
            proxies.client_ip(ip("10.0.0.2"), Some("6.6.6.6, 198.51.100.7:4711")),
            ip("198.51.100.7"),
            "a hop with a port"
        );
        assert_eq!(
            proxies.client_ip(ip("10.0.0.2"), Some("6.6.6.6, [2001:db8::1]")),
            ip("2001:db8::1")
        );
        assert_eq!(
            proxies.client_ip(ip("10.0.0.2"), Some("6.6.6.6,10.0.0.9")),
            ip("6.6.6.6"),
            "through two of our proxies"
        );
        // No proxies trusted: the header means nothing.
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(ip("10.0.0.2"), Some("1.2.3.4")),
            ip("10.0.0.2")
        );
    }
}
