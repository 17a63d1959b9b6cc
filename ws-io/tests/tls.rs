//! wss:// against a local TLS echo server with a generated certificate, blocking and on
//! tokio.
#![cfg(all(feature = "tokio", feature = "rustls"))]

use std::net::TcpListener;
use std::sync::Arc;
use std::thread;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_io::std::Options;
use ws_io::{CloseCode, Message};

/// A certificate for `localhost`, and TLS settings for a server presenting it and for a
/// client trusting it.
fn tls_pair() -> (Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let der = CertificateDer::from(cert.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], key)
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

/// A blocking TLS echo server for one connection; returns its `wss://` URL.
fn tls_echo_once(server: Arc<rustls::ServerConfig>) -> (String, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("wss://localhost:{}/secure", listener.local_addr().unwrap().port());
    let handle = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let tls = rustls::StreamOwned::new(rustls::ServerConnection::new(server).unwrap(), tcp);
        let mut ws = ws_io::std::accept(tls).unwrap();
        let mut buf = Vec::new();
        while let Some(message) = ws.recv(&mut buf).unwrap() {
            let owned = ws_io::OwnedMessage::from(message);
            ws.send(owned.as_message()).unwrap();
        }
    });
    (url, handle)
}

#[test]
fn blocking_wss_round_trip() {
    let (server, client) = tls_pair();
    let (url, handle) = tls_echo_once(server);
    let mut ws = ws_io::std::connect_with(&url, &Options::new().tls(client)).unwrap();
    let big = vec![42u8; 200_000];
    let mut buf = Vec::new();
    for message in [Message::text("over TLS"), Message::binary(&big)] {
        ws.send(message).unwrap();
        assert_eq!(ws.recv(&mut buf).unwrap(), Some(message));
    }
    ws.close(CloseCode::NORMAL, "").unwrap();
    handle.join().unwrap();
}

#[tokio::test]
async fn tokio_wss_round_trip() {
    let (server, client) = tls_pair();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("wss://localhost:{}/", listener.local_addr().unwrap().port());
    let acceptor = tokio_rustls::TlsAcceptor::from(server);
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let tls = acceptor.accept(tcp).await.unwrap();
        let mut ws = ws_io::tokio::accept(tls).await.unwrap();
        while let Some(message) = ws.recv_owned().await.unwrap() {
            ws.send(message.as_message()).await.unwrap();
        }
    });
    let mut ws = ws_io::tokio::connect_with(&url, &Options::new().tls(client)).await.unwrap();
    let mut buf = Vec::new();
    let big = "TLS ".repeat(50_000);
    for message in [Message::text("hello"), Message::text(&big)] {
        ws.send(message).await.unwrap();
        assert_eq!(ws.recv(&mut buf).await.unwrap(), Some(message));
    }
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    task.await.unwrap();
}

#[test]
fn an_untrusted_certificate_is_refused() {
    let (server, _) = tls_pair();
    let (url, handle) = tls_echo_once(server);
    // The default roots do not include the test certificate.
    let result = ws_io::std::connect(&url);
    assert!(matches!(result, Err(ws_io::Error::Io(_))), "{:?}", result.err());
    drop(handle);
}
