//! TLS between devices and the prover service (in process, no proving
//! keys): a client trusting the service's CA gets answers over
//! `https://`; one that does not is refused at the handshake; with
//! `tls_client_ca` the service refuses clients without a certificate signed
//! by that CA and serves those with one. Unusable PEM is a typed error.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use depin_crypto::eddsa::PrivateKey;
use depin_crypto::Fr;
use depin_device_sdk::client::{
    ClientConfig, ClientError, ClientTls, OperatorClient, ProverClient, RecordOutcome, UptimeChain,
};
use depin_service::{start, Config, RunningService};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

use depin_testkit::service as support;

const BIN: &str = env!("CARGO_BIN_EXE_depin-device");
const TOKEN: &str = "tls-test-operator-token-0123456";
const EPOCH: u32 = 4;
const BEACON: u64 = 777_000_111;

/// A certificate authority and the certificates it signs (PEM).
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = p.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    fn pem(&self) -> String {
        self.cert.pem()
    }

    /// `(certificate, key)` for `names` (DNS names or IP addresses), or a
    /// client certificate when `names` is empty.
    fn issue(&self, cn: &str, names: &[&str]) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let server = !names.is_empty();
        let mut p = CertificateParams::new(names).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        let cert = p.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

struct Tls {
    ca: Ca,
    dir: tempfile::TempDir,
}

impl Tls {
    /// A CA, and the service's certificate for `localhost` and 127.0.0.1
    /// written with the CA under a temporary directory.
    fn new() -> Tls {
        let ca = Ca::new("depin test CA");
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = ca.issue("prover", &["localhost", "127.0.0.1"]);
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.path().join("server.pem"), cert).unwrap();
        std::fs::write(dir.path().join("server.key"), key).unwrap();
        Tls { ca, dir }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }
}

fn service_config(data: &Path, tls: &Tls, mutual: bool) -> Config {
    Config {
        tls_cert: Some(tls.path("server.pem")),
        tls_key: Some(tls.path("server.key")),
        tls_client_ca: mutual.then(|| tls.path("ca.pem")),
        ..support::ingest_config(data, TOKEN)
    }
}

fn url(addr: SocketAddr) -> String {
    format!("https://localhost:{}", addr.port())
}

fn client_config(tls: Option<ClientTls>) -> ClientConfig {
    ClientConfig {
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        retries: 0,
        tls,
        ..ClientConfig::default()
    }
}

/// Publishes the epoch, registers a device, submits three heartbeats and
/// reads the policy back, all over `cfg`'s connection.
async fn round_trip(addr: SocketAddr, cfg: &ClientConfig, seed: u8) {
    let url = url(addr);
    let mut op = OperatorClient::connect(&url, TOKEN, cfg.clone())
        .await
        .unwrap();
    // A second publication of the same epoch is an error; one is enough.
    let _ = op
        .publish_epoch(support::publish_request_with_beacon(EPOCH, BEACON))
        .await;
    let key = PrivateKey::from_bytes([seed; 32]);
    op.register_device(&key.public_key()).await.unwrap();

    let mut client = ProverClient::connect(&url, cfg.clone()).await.unwrap();
    let policy = client.get_policy(EPOCH).await.unwrap();
    assert_eq!(policy.epoch, EPOCH);
    assert_eq!(policy.beacon, BEACON.to_string());

    let mut chain = UptimeChain::new(key, EPOCH);
    let heartbeats = chain.heartbeats(Fr::from(BEACON), &[0, 1, 2], 20);
    let resp = client.submit(&chain.batch(&heartbeats)).await.unwrap();
    assert_eq!(resp.verdicts.len(), 3);
    for v in &resp.verdicts {
        assert_eq!(RecordOutcome::try_from(v).unwrap(), RecordOutcome::Accepted);
    }
}

async fn stop(server: RunningService) {
    server.shutdown();
    server.wait().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trusting_the_ca_is_served_and_others_are_refused() {
    let tls = Tls::new();
    let data = tempfile::tempdir().unwrap();
    let server = start(service_config(data.path(), &tls, false))
        .await
        .unwrap();

    let trusted = client_config(Some(ClientTls::new(tls.ca.pem())));
    round_trip(server.addr, &trusted, 1).await;

    // The certificate also names 127.0.0.1; another name can be checked
    // instead of the endpoint's host.
    let by_ip = format!("https://127.0.0.1:{}", server.addr.port());
    let mut c = ProverClient::connect(&by_ip, trusted.clone())
        .await
        .unwrap();
    c.get_policy(EPOCH).await.unwrap();
    let wrong_name = client_config(Some(
        ClientTls::new(tls.ca.pem()).with_domain("prover.invalid"),
    ));
    let e = ProverClient::connect(&url(server.addr), wrong_name)
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Transport(_)), "{e:?}");

    // Another CA, and the webpki roots (no TLS settings): the handshake
    // fails.
    let other = client_config(Some(ClientTls::new(Ca::new("another CA").pem())));
    let e = ProverClient::connect(&url(server.addr), other)
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Transport(_)), "{e:?}");
    let e = ProverClient::connect(&url(server.addr), client_config(None))
        .await
        .unwrap_err();
    assert!(matches!(e, ClientError::Transport(_)), "{e:?}");

    // Plain text to a TLS port gets no answer.
    let plain = format!("http://{}", server.addr);
    let r = match ProverClient::connect(&plain, client_config(None)).await {
        Ok(mut c) => c.get_policy(EPOCH).await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(r.is_err());

    // The command-line tool with --ca-cert.
    let out = Command::new(BIN)
        .args(["simulate", "--devices", "2", "--epoch"])
        .arg((EPOCH + 1).to_string())
        .args(["--prover", &url(server.addr), "--operator-token", TOKEN])
        .args(["--slots", "8", "--cheaters", "0", "--json", "--check"])
        .arg("--ca-cert")
        .arg(tls.path("ca.pem"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stop(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_refuses_clients_without_a_certificate_from_the_ca() {
    let tls = Tls::new();
    let data = tempfile::tempdir().unwrap();
    let server = start(service_config(data.path(), &tls, true))
        .await
        .unwrap();
    let ca = tls.ca.pem();

    // No client certificate: refused (at the handshake, or, in TLS 1.3,
    // right after it, on the first call).
    let anonymous = client_config(Some(ClientTls::new(ca.clone())));
    let r = match ProverClient::connect(&url(server.addr), anonymous).await {
        Ok(mut c) => c.get_policy(EPOCH).await.map(|_| ()),
        Err(e) => Err(e),
    };
    let e = r.unwrap_err();
    assert!(
        !matches!(e, ClientError::Tls(_)),
        "the settings are valid; the server refuses: {e:?}"
    );

    // A certificate from another CA: refused.
    let (cert, key) = Ca::new("another CA").issue("device-x", &[]);
    let stranger = client_config(Some(ClientTls::new(ca.clone()).with_identity(cert, key)));
    let r = match ProverClient::connect(&url(server.addr), stranger).await {
        Ok(mut c) => c.get_policy(EPOCH).await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(r.is_err());

    // A certificate from the CA: served.
    let (cert, key) = tls.ca.issue("device-1", &[]);
    let device = client_config(Some(ClientTls::new(ca.clone()).with_identity(cert, key)));
    round_trip(server.addr, &device, 2).await;

    // The command-line tool with --client-cert and --client-key.
    let (cert, key) = tls.ca.issue("device-2", &[]);
    std::fs::write(tls.path("device.pem"), cert).unwrap();
    std::fs::write(tls.path("device.key"), key).unwrap();
    let out = Command::new(BIN)
        .args(["simulate", "--devices", "2", "--epoch"])
        .arg((EPOCH + 1).to_string())
        .args(["--prover", &url(server.addr), "--operator-token", TOKEN])
        .args(["--slots", "8", "--cheaters", "0", "--json", "--check"])
        .arg("--ca-cert")
        .arg(tls.path("ca.pem"))
        .arg("--client-cert")
        .arg(tls.path("device.pem"))
        .arg("--client-key")
        .arg(tls.path("device.key"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stop(server).await;
}

#[test]
fn unusable_tls_settings_are_a_typed_error() {
    let ca = Ca::new("depin test CA");
    let (cert, key) = ca.issue("device-1", &[]);
    let cases = [
        (ClientTls::new("not a certificate"), "CA certificate"),
        (
            ClientTls::new(ca.pem()).with_identity("garbage", key.clone()),
            "client certificate",
        ),
        (
            ClientTls::new(ca.pem()).with_identity(cert.clone(), "garbage"),
            "client key",
        ),
        (
            ClientTls::new(ca.pem()).with_domain("not a name!"),
            "domain",
        ),
    ];
    for (tls, what) in cases {
        let e = ProverClient::connect_lazy("https://localhost:1", client_config(Some(tls)))
            .unwrap_err();
        assert!(
            matches!(&e, ClientError::Tls(m) if m.contains(what)),
            "{what}: {e}"
        );
    }
    // TLS settings with a plain-text endpoint.
    let e = ProverClient::connect_lazy(
        "http://localhost:1",
        client_config(Some(ClientTls::new(ca.pem()))),
    )
    .unwrap_err();
    assert!(matches!(e, ClientError::Tls(_)), "{e}");
    // Missing files.
    let e = ClientTls::from_files(Path::new("/nonexistent/ca.pem"), None).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_refuses_unusable_tls_files() {
    let tls = Tls::new();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(tls.path("empty.pem"), "nothing here\n").unwrap();
    let mut cfg = service_config(data.path(), &tls, false);
    cfg.tls_key = Some(tls.path("empty.pem"));
    let e = start(cfg).await.unwrap_err();
    assert!(e.to_string().contains("empty.pem"), "{e}");
    // A key that is not the certificate's.
    std::fs::write(
        tls.path("other.key"),
        tls.ca.issue("other", &["localhost"]).1,
    )
    .unwrap();
    let mut cfg = service_config(data.path(), &tls, false);
    cfg.tls_key = Some(tls.path("other.key"));
    let e = start(cfg).await.unwrap_err();
    assert!(e.to_string().starts_with("TLS"), "{e}");
    let mut cfg = service_config(data.path(), &tls, false);
    cfg.tls_key = None;
    let e = start(cfg).await.unwrap_err();
    assert!(e.to_string().contains("tls_key"), "{e}");
}
