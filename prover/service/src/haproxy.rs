//! The load balancer in front of a cluster of nodes: HAProxy's
//! configuration (`depin-prover cluster-config haproxy`).
//!
//! HAProxy balances gRPC (HTTP/2 end to end, `proto h2` on both sides) over
//! the nodes and checks each with the standard gRPC health service
//! (`grpc.health.v1.Health/Check` for the whole server). HAProxy 2.6's
//! `http-check` cannot send a gRPC message (its 5-byte length prefix holds
//! NUL bytes, which the configuration language refuses) nor match the
//! binary answer, so the check is a `tcp-check` that speaks HTTP/2 itself:
//! the connection preface, an empty SETTINGS frame, one HEADERS frame
//! (HPACK literals, no Huffman coding, no dynamic table) and one DATA frame
//! with the empty `HealthCheckRequest`, ending the stream
//! ([`health_check_request`]); it passes when the answer holds the
//! `HealthCheckResponse { status: SERVING }` message
//! ([`SERVING_RESPONSE`]). A node that drains (NOT_SERVING), is frozen
//! (SIGSTOP) or dead fails it: with the defaults a node leaves the pool
//! after two failed checks 300 ms apart, each given 500 ms, about a second.

use std::fmt::Write as _;
use std::net::SocketAddr;

/// The gRPC message a serving node answers the check with, as it appears
/// in the DATA frame: no compression, 2 bytes, field 1 = 1 (SERVING).
pub const SERVING_RESPONSE: [u8; 7] = [0, 0, 0, 0, 2, 0x08, 0x01];

/// The HTTP/2 bytes of one `grpc.health.v1.Health/Check` call for the whole
/// server (service ""), on stream 1.
pub fn health_check_request() -> Vec<u8> {
    /// A literal header field without indexing whose name is static table
    /// entry `index` (RFC 7541, 6.2.2; 4-bit prefix integer).
    fn literal(out: &mut Vec<u8>, index: u8, value: &[u8]) {
        if index < 15 {
            out.push(index);
        } else {
            out.extend_from_slice(&[0x0f, index - 15]);
        }
        out.push(value.len() as u8);
        out.extend_from_slice(value);
    }
    fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, payload: &[u8]) {
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(&[kind, flags]);
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(payload);
    }
    let mut block = vec![0x83, 0x86]; // :method POST, :scheme http
    literal(&mut block, 4, b"/grpc.health.v1.Health/Check"); // :path
    literal(&mut block, 1, b"localhost"); // :authority
    literal(&mut block, 31, b"application/grpc"); // content-type
    block.extend_from_slice(&[0x00, 2]); // te: trailers (a new name)
    block.extend_from_slice(b"te");
    block.push(8);
    block.extend_from_slice(b"trailers");

    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend_from_slice(&[0, 0, 0, 0x04, 0, 0, 0, 0, 0]); // SETTINGS, empty
    frame(&mut out, 0x01, 0x04, &block); // HEADERS, END_HEADERS
    frame(&mut out, 0x00, 0x01, &[0; 5]); // DATA, END_STREAM: empty request
    out
}

/// How HAProxy checks and balances the nodes.
#[derive(Debug, Clone)]
pub struct HaproxyOptions {
    /// Where HAProxy listens for gRPC.
    pub listen: SocketAddr,
    /// The nodes' gRPC addresses.
    pub nodes: Vec<SocketAddr>,
    /// Milliseconds between two checks of a node.
    pub check_interval_ms: u32,
    /// Milliseconds a check waits for the answer.
    pub check_timeout_ms: u32,
    /// Failed checks in a row that take a node out of the pool.
    pub fall: u32,
    /// Passed checks in a row that bring it back.
    pub rise: u32,
    /// HAProxy's statistics socket (for `show servers state`), if any.
    pub stats_socket: Option<std::path::PathBuf>,
}

impl HaproxyOptions {
    /// Checks every 300 ms, 500 ms each, out after 2 failures, back after 2
    /// passes.
    pub fn new(listen: SocketAddr, nodes: Vec<SocketAddr>) -> Self {
        HaproxyOptions {
            listen,
            nodes,
            check_interval_ms: 300,
            check_timeout_ms: 500,
            fall: 2,
            rise: 2,
            stats_socket: None,
        }
    }
}

/// HAProxy's configuration for the cluster.
pub fn haproxy_config(o: &HaproxyOptions) -> String {
    let check: String = health_check_request()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let expect: String = SERVING_RESPONSE
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# depin prover cluster: gRPC over HTTP/2 to {} node(s), each checked with\n\
         # grpc.health.v1.Health/Check (written by `depin-prover cluster-config haproxy`).",
        o.nodes.len()
    );
    let _ = writeln!(s, "global\n    log stderr format raw local0 info");
    if let Some(sock) = &o.stats_socket {
        let _ = writeln!(
            s,
            "    stats socket {} mode 600 level admin",
            sock.display()
        );
    }
    let _ = writeln!(
        s,
        "\ndefaults\n    mode http\n    log global\n    option log-health-checks\n    \
         timeout connect 1s\n    timeout client 10m\n    timeout server 10m\n    \
         timeout check {}ms\n    retries 2\n    option redispatch",
        o.check_timeout_ms
    );
    let _ = writeln!(
        s,
        "\nfrontend grpc\n    bind {} proto h2\n    default_backend provers",
        o.listen
    );
    let _ = writeln!(
        s,
        "\nbackend provers\n    balance roundrobin\n    option tcp-check\n    \
         tcp-check connect\n    tcp-check send-binary {check}\n    \
         tcp-check expect binary {expect}\n    \
         default-server check inter {}ms fall {} rise {} proto h2",
        o.check_interval_ms, o.fall, o.rise
    );
    for (i, n) in o.nodes.iter().enumerate() {
        let _ = writeln!(s, "    server node{} {n}", i + 1);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_is_one_well_formed_http2_call() {
        let b = health_check_request();
        let preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
        assert!(b.starts_with(preface));
        // Frames after the preface: SETTINGS (0), HEADERS, DATA; each
        // frame's length field covers exactly its payload.
        let mut rest = &b[preface.len()..];
        let mut kinds = Vec::new();
        while !rest.is_empty() {
            let len = usize::from(rest[0]) << 16 | usize::from(rest[1]) << 8 | usize::from(rest[2]);
            kinds.push((rest[3], rest[4], len));
            rest = &rest[9 + len..];
        }
        assert_eq!(kinds, vec![(4, 0, 0), (1, 4, 75), (0, 1, 5)]);
    }

    #[test]
    fn the_config_names_every_node_and_the_check() {
        let o = HaproxyOptions::new(
            "127.0.0.1:50050".parse().unwrap(),
            vec![
                "127.0.0.1:50061".parse().unwrap(),
                "127.0.0.1:50062".parse().unwrap(),
            ],
        );
        let c = haproxy_config(&o);
        assert!(c.contains("bind 127.0.0.1:50050 proto h2"));
        assert!(c.contains("server node1 127.0.0.1:50061"));
        assert!(c.contains("server node2 127.0.0.1:50062"));
        assert!(c.contains("tcp-check expect binary 00000000020801"));
        assert!(c.contains("inter 300ms fall 2 rise 2 proto h2"));
    }
}
