//! The relay terminating TLS itself (`serve --tls-cert --tls-key`): a client that trusts the
//! relay's CA gets through, one that does not is refused, and a renewed certificate is served
//! without a restart.

use std::path::Path;
use std::time::{Duration, Instant};

use linedesk_relay::ServeConfig;

// The same test CA as the end-to-end tests. Through `#[path]`, not a dev-dependency: the
// `linedesk-tests` crate depends on this one.
#[allow(dead_code)]
#[path = "../../../../tests/src/tls.rs"]
mod pki;

use pki::TestPki;

/// A relay serving HTTPS with the pair in `pki`, until the returned sender is dropped or fired.
async fn serve_tls(
    dir: &Path,
    pki: &TestPki,
) -> (
    u16,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let mut config = ServeConfig::local(dir.join("data"));
    config.tls_cert = Some(pki.cert_file());
    config.tls_key = Some(pki.key_file());
    let (bound_tx, bound_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(linedesk_relay::serve(config, Some(bound_tx), async move {
        let _ = stop_rx.await;
    }));
    let addr = bound_rx.await.expect("the relay binds");
    (addr.port(), stop_tx, server)
}

/// The certificate the relay presents to a full handshake, and the health check's status, as
/// seen by a client that trusts only `ca_pem`. A new client each time: a client that resumed
/// an earlier TLS session would be shown no certificate and report the earlier one.
async fn presented(ca_pem: &str, port: u16) -> (Vec<u8>, u16) {
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA pem");
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .tls_info(true)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let resp = client
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await
        .expect("the relay answers over https");
    let der = resp
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("the peer certificate is recorded")
        .to_vec();
    (der, resp.status().as_u16())
}

#[tokio::test]
async fn https_is_served_with_the_given_certificate_and_a_renewal_is_picked_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pki = TestPki::new(dir.path());
    let first = pki.server_der().to_vec();
    let (port, stop, server) = serve_tls(dir.path(), &pki).await;
    let ca_pem = pki.ca_pem();

    let (der, status) = presented(&ca_pem, port).await;
    assert_eq!(status, 200, "GET /healthz over https");
    assert_eq!(der, first, "the configured certificate is served");

    // An ordinary client (public roots only) does not trust a private CA.
    let stranger = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let refused = stranger
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a client without the CA must fail the handshake: {refused:?}"
    );

    // Renewal: new key and serial written over the same files; no restart.
    let second = pki.renew();
    assert_ne!(second, first, "the renewal is a different certificate");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (der, status) = presented(&ca_pem, port).await;
        assert_eq!(status, 200, "the relay keeps serving during a renewal");
        if der == second {
            break;
        }
        assert_eq!(
            der, first,
            "until the switch, the old certificate is served"
        );
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was not served within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let _ = stop.send(());
    server
        .await
        .expect("server task")
        .expect("the relay shuts down cleanly");
}

#[tokio::test]
async fn a_certificate_without_its_key_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = TestPki::new(dir.path());
    let mut config = ServeConfig::local(dir.path().join("data"));
    config.tls_cert = Some(pki.cert_file());
    let result = tokio::time::timeout(
        Duration::from_secs(5),
        linedesk_relay::serve(config, None, std::future::pending()),
    )
    .await
    .expect("refused at once, not served");
    let err = result.expect_err("one of the pair is a mistake");
    assert!(
        err.to_string().contains("--tls-key"),
        "the error names the missing setting: {err:#}"
    );
}
