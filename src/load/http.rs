//! The HTTP client of one load thread: hyper's pooled client over rustls,
//! with nothing between a customer and the connection. Customers follow
//! redirects, keep cookies and time their requests themselves (see
//! `customer`), so a client that does any of it again would only cost
//! CPU per request (docs/benchmarks.md).

use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// A request's body: whole, in memory (templates render it).
pub(super) type Body = Full<Bytes>;

/// A response whose body is still on the wire.
pub(super) type Response = http::Response<hyper::body::Incoming>;

/// Why an exchange failed before its response head arrived.
pub(super) type Error = hyper_util::client::legacy::Error;

/// One thread's connections: keep-alive pools per origin, HTTP/1.1 or
/// HTTP/2 (negotiated over TLS, or spoken at once when asked).
#[derive(Clone, Debug)]
pub(super) struct HttpClient {
    inner: Client<hyper_rustls::HttpsConnector<HttpConnector>, Body>,
}

impl HttpClient {
    /// A client keeping at most `max_idle` idle connections per host;
    /// `insecure` accepts any certificate, `http2` speaks HTTP/2 without
    /// negotiation (h2c).
    pub(super) fn new(insecure: bool, http2: bool, max_idle: usize) -> anyhow::Result<HttpClient> {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(insecure)?)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(tcp);
        let inner = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(max_idle)
            .http2_only(http2)
            .build(connector);
        Ok(HttpClient { inner })
    }

    /// Sends the request `make` builds; the response once its head has
    /// arrived. A request an HTTP/2 server refused without processing it
    /// (`REFUSED_STREAM`, or a graceful `GOAWAY` it came after) is sent
    /// again, at most [`MAX_RESENDS`] times, as a browser does: it never
    /// reached the application, so it is no failure of it.
    pub(super) async fn send<E>(
        &self,
        make: impl Fn() -> Result<http::Request<Body>, E>,
    ) -> Result<Result<Response, Error>, E> {
        let mut resends = 0;
        loop {
            match self.inner.request(make()?).await {
                Err(e) if resends < MAX_RESENDS && refused_unprocessed(&e) => resends += 1,
                answer => return Ok(answer),
            }
        }
    }
}

/// Most times one request refused unprocessed is sent again.
const MAX_RESENDS: usize = 2;

/// Whether an HTTP/2 server refused the request before processing it.
fn refused_unprocessed(e: &Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(h2) = err.downcast_ref::<h2::Error>() {
            let reason = h2.reason();
            return h2.is_remote()
                && (h2.is_go_away() && reason == Some(h2::Reason::NO_ERROR)
                    || h2.is_reset() && reason == Some(h2::Reason::REFUSED_STREAM));
        }
        source = err.source();
    }
    false
}

/// Makes ring the TLS provider of every HTTP client fogg builds (several
/// may be compiled in). Installing twice (a second run in one process) is
/// harmless.
pub(super) fn use_ring_for_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// TLS as a browser checks it (the system's roots), or, when `insecure`,
/// any certificate accepted (self-signed test targets).
fn tls_config(insecure: bool) -> anyhow::Result<rustls::ClientConfig> {
    use_ring_for_tls();
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .context("setting up TLS")?;
    let config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let verifier = rustls_platform_verifier::Verifier::new(provider)
            .context("loading the system's root certificates")?;
        builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth()
    };
    Ok(config)
}

/// Accepts any server certificate (`--insecure`); handshake signatures
/// are still checked, so the connection is a real TLS session.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
