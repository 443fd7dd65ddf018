//! The HTTP client of one load thread: hyper's connections over rustls,
//! kept in a pool of fogg's own, with nothing between a customer and the
//! connection. Customers follow redirects, keep cookies and time their
//! requests themselves (see `customer`), so a client that does any of it
//! again would only cost CPU per request (docs/benchmarks.md).
//!
//! **The pool.** Per origin: idle HTTP/1.1 connections, the most recent
//! reused first, at most `max_idle` of them; and one shared HTTP/2
//! connection that every request multiplexes over. A connection goes
//! back to the pool only once its response's body has been read to its
//! end (see [`Lease::reuse`]); one dropped before that closes when its
//! response is done, as a browser's would. Only one HTTP/2 connection is
//! opened at a time per origin known to speak it: the others wait for
//! it. A request that a reused connection dropped before sending it (the
//! server closed it as it idled) is sent again on another.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::{http1, http2};
use hyper_util::client::legacy::connect::{Connection, HttpConnector};
use hyper_util::rt::TokioExecutor;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tower_service::Service;

/// A request's body: whole, in memory (templates render it).
pub(super) type Body = Full<Bytes>;

/// A response whose body is still on the wire.
pub(super) type Response = http::Response<hyper::body::Incoming>;

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// Why an exchange failed before its response head arrived.
#[derive(Debug)]
pub(super) enum Error {
    /// No connection could be opened: TCP or TLS failed.
    Connect(Box<dyn std::error::Error + Send + Sync>),
    /// The connection was opened, and the exchange on it failed.
    Exchange(hyper::Error),
}

impl Error {
    /// Whether the connection could not be opened.
    pub(super) fn is_connect(&self) -> bool {
        matches!(self, Error::Connect(_))
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Connect(_) => f.write_str("connecting to the target failed"),
            Error::Exchange(_) => f.write_str("the exchange with the target failed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect(e) => Some(e.as_ref()),
            Error::Exchange(e) => Some(e),
        }
    }
}

/// One thread's connections: a pool per origin, HTTP/1.1 or HTTP/2
/// (negotiated over TLS, or spoken at once when asked).
#[derive(Debug)]
pub(super) struct HttpClient {
    connector: Connector,
    /// `--http2`: speak HTTP/2 from the first byte over plain TCP.
    http2: bool,
    /// Idle HTTP/1.1 connections kept per origin.
    max_idle: usize,
    /// The origins this thread has spoken to, in the order it met them.
    /// The lock is this thread's alone, held for no await.
    origins: Mutex<Vec<Origin>>,
}

/// The connections to one origin.
#[derive(Debug)]
struct Origin {
    https: bool,
    host: String,
    port: u16,
    /// `Host` as HTTP/1.1 requests send it: the host, and the port when
    /// not the scheme's default.
    host_header: http::HeaderValue,
    /// Idle HTTP/1.1 connections, the most recently used last.
    idle: Vec<http1::SendRequest<Body>>,
    /// The HTTP/2 connection requests share.
    shared: Option<http2::SendRequest<Body>>,
    /// Whether the origin speaks HTTP/2 (asked, or negotiated before).
    speaks_h2: bool,
    /// An HTTP/2 connection being opened: closed when it is done.
    opening: Option<tokio::sync::watch::Receiver<()>>,
}

/// A connection a request was sent on.
enum Conn {
    H1(http1::SendRequest<Body>),
    H2(http2::SendRequest<Body>),
}

/// The connection of a response, held while its body is read.
#[derive(Debug)]
#[must_use = "a connection not given back closes"]
pub(super) struct Lease<'a> {
    client: &'a HttpClient,
    origin: usize,
    /// An HTTP/1.1 connection, to give back; HTTP/2's stays shared.
    h1: Option<http1::SendRequest<Body>>,
}

impl Lease<'_> {
    /// Gives the connection back for the next request: its response's
    /// body has been read to the end. (Dropped instead, an HTTP/1.1
    /// connection closes once its response is done.)
    pub(super) fn reuse(self) {
        let Some(conn) = self.h1 else { return };
        let mut origins = self.client.origins.lock().expect("no thread panics holding its pool");
        let idle = &mut origins[self.origin].idle;
        if idle.len() < self.client.max_idle && !conn.is_closed() {
            idle.push(conn);
        }
    }
}

/// What a request finds in its origin's pool.
enum Found {
    /// The shared HTTP/2 connection.
    Shared(http2::SendRequest<Body>),
    /// An idle HTTP/1.1 connection, perhaps not ready yet.
    Idle(http1::SendRequest<Body>),
    /// Another request is opening the origin's HTTP/2 connection.
    Wait(tokio::sync::watch::Receiver<()>),
    /// Nothing: a new connection is to be opened (and, for HTTP/2, the
    /// others told when it is, by dropping this sender).
    Open(Option<tokio::sync::watch::Sender<()>>),
}

impl HttpClient {
    /// A client keeping at most `max_idle` idle HTTP/1.1 connections per
    /// origin; `insecure` accepts any certificate, `http2` speaks HTTP/2
    /// without negotiation (h2c).
    pub(super) fn new(insecure: bool, http2: bool, max_idle: usize) -> anyhow::Result<HttpClient> {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config(insecure)?)
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(tcp);
        Ok(HttpClient { connector, http2, max_idle, origins: Mutex::new(Vec::new()) })
    }

    /// Sends `request` (to an absolute URI): the response once its head
    /// has arrived, and its connection, to give back once the body is
    /// read. A request an HTTP/2 server refused without processing it
    /// (`REFUSED_STREAM`, or a graceful `GOAWAY` it came after) is sent
    /// again, at most [`MAX_RESENDS`] times, as a browser does: it never
    /// reached the application, so it is no failure of it.
    pub(super) async fn send(
        &self,
        mut request: http::Request<Body>,
    ) -> Result<(Response, Lease<'_>), Error> {
        let target = request.uri().clone();
        let (origin, host) =
            self.origin_of(&target).ok_or_else(|| Error::Connect("the URL names no host".into()))?;
        let mut resends = 0;
        loop {
            let (conn, reused) = self.checkout(origin, &target).await?;
            *request.uri_mut() = target.clone();
            let (mut failed, copy) = match conn {
                Conn::H1(mut conn) => {
                    if !request.headers().contains_key(http::header::HOST) {
                        request.headers_mut().insert(http::header::HOST, host.clone());
                    }
                    origin_form(request.uri_mut());
                    match conn.try_send_request(request).await {
                        Ok(response) => {
                            return Ok((response, Lease { client: self, origin, h1: Some(conn) }));
                        }
                        Err(e) => (e, None),
                    }
                }
                Conn::H2(mut conn) => {
                    // HTTP/2 consumes a request it refuses: a copy is kept
                    // to send again.
                    let copy = (resends < MAX_RESENDS).then(|| copy_of(&request));
                    match conn.try_send_request(request).await {
                        Ok(response) => return Ok((response, Lease { client: self, origin, h1: None })),
                        Err(e) => (e, copy),
                    }
                }
            };
            if let Some(unsent) = failed.take_message()
                && reused
            {
                // A reused connection the server closed as the request was
                // handed to it: the request never left, so it goes on
                // another.
                request = unsent;
                continue;
            }
            let error = failed.into_error();
            match copy {
                Some(copy) if refused_unprocessed(&error) => {
                    resends += 1;
                    request = copy;
                }
                _ => return Err(Error::Exchange(error)),
            }
        }
    }

    fn pools(&self) -> std::sync::MutexGuard<'_, Vec<Origin>> {
        self.origins.lock().expect("no thread panics holding its pool")
    }

    /// The index of `uri`'s origin in the pool (added when new), and the
    /// `Host` its HTTP/1.1 requests send; `None` for a URI without a host.
    fn origin_of(&self, uri: &http::Uri) -> Option<(usize, http::HeaderValue)> {
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        let host = uri.host()?;
        let default_port = if https { 443 } else { 80 };
        let port = uri.port_u16().unwrap_or(default_port);
        let mut origins = self.pools();
        if let Some(i) = origins.iter().position(|o| o.port == port && o.https == https && o.host == host) {
            return Some((i, origins[i].host_header.clone()));
        }
        let host_header = if port == default_port { host.to_owned() } else { format!("{host}:{port}") };
        let host_header = http::HeaderValue::try_from(host_header).ok()?;
        origins.push(Origin {
            https,
            host: host.to_owned(),
            port,
            host_header: host_header.clone(),
            idle: Vec::new(),
            shared: None,
            speaks_h2: self.http2 && !https,
            opening: None,
        });
        Some((origins.len() - 1, host_header))
    }

    /// A connection to origin `origin` (whose URIs `uri` is one of), and
    /// whether it was used before.
    async fn checkout(&self, origin: usize, uri: &http::Uri) -> Result<(Conn, bool), Error> {
        loop {
            match self.find(origin) {
                Found::Shared(conn) => return Ok((Conn::H2(conn), true)),
                Found::Idle(mut conn) => {
                    // Ready once its connection has taken in the end of
                    // the last response; an error: it has closed since.
                    if conn.ready().await.is_ok() {
                        return Ok((Conn::H1(conn), true));
                    }
                }
                Found::Wait(mut opened) => {
                    // Its sender is dropped once the connection is open
                    // (or failed to open): then look again.
                    let _ = opened.changed().await;
                }
                Found::Open(opening) => {
                    // Boxed: opening holds a whole TLS session, and
                    // every request's future would be that large.
                    let conn = Box::pin(self.open(origin, uri)).await;
                    drop(opening);
                    return conn.map(|conn| (conn, false));
                }
            }
        }
    }

    /// What origin `origin`'s pool holds for the next request.
    fn find(&self, origin: usize) -> Found {
        let mut origins = self.pools();
        let o = &mut origins[origin];
        if let Some(shared) = &o.shared {
            if !shared.is_closed() {
                return Found::Shared(shared.clone());
            }
            o.shared = None;
        }
        while let Some(conn) = o.idle.pop() {
            if !conn.is_closed() {
                return Found::Idle(conn);
            }
        }
        if !o.speaks_h2 {
            return Found::Open(None);
        }
        // `has_changed` fails once the sender is gone: no opening then.
        if let Some(opening) = &o.opening
            && opening.has_changed().is_ok()
        {
            return Found::Wait(opening.clone());
        }
        let (opened, opening) = tokio::sync::watch::channel(());
        o.opening = Some(opening);
        Found::Open(Some(opened))
    }

    /// Opens a connection to `uri`'s origin (pool `origin`): HTTP/2 when
    /// TLS negotiated it or `--http2` asks for it over plain TCP, else
    /// HTTP/1.1. Its I/O runs as a task of the thread's runtime; an
    /// HTTP/2 connection becomes the origin's shared one.
    async fn open(&self, origin: usize, uri: &http::Uri) -> Result<Conn, Error> {
        let io = self.connector.clone().call(uri.clone()).await.map_err(Error::Connect)?;
        let h2 =
            io.connected().is_negotiated_h2() || self.http2 && uri.scheme() == Some(&http::uri::Scheme::HTTP);
        if !h2 {
            let (conn, io) = http1::handshake(io).await.map_err(Error::Exchange)?;
            tokio::spawn(io);
            return Ok(Conn::H1(conn));
        }
        let (conn, io) =
            http2::Builder::new(TokioExecutor::new()).handshake(io).await.map_err(Error::Exchange)?;
        tokio::spawn(io);
        let mut origins = self.pools();
        let o = &mut origins[origin];
        o.speaks_h2 = true;
        if o.shared.as_ref().is_none_or(http2::SendRequest::is_closed) {
            o.shared = Some(conn.clone());
        }
        Ok(Conn::H2(conn))
    }
}

/// An HTTP/1.1 request's URI as it is sent to a server (not a proxy):
/// its path and query alone.
fn origin_form(uri: &mut http::Uri) {
    *uri = match uri.path_and_query() {
        Some(path) if path.as_str() != "/" => {
            let mut parts = http::uri::Parts::default();
            parts.path_and_query = Some(path.clone());
            http::Uri::from_parts(parts).expect("a path and query is a URI")
        }
        _ => http::Uri::default(),
    };
}

/// A copy of `request` (its extensions aside: fogg sets none).
fn copy_of(request: &http::Request<Body>) -> http::Request<Body> {
    let mut copy = http::Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    copy
}

/// Most times one request refused unprocessed is sent again.
const MAX_RESENDS: usize = 2;

/// Whether an HTTP/2 server refused the request before processing it.
fn refused_unprocessed(e: &hyper::Error) -> bool {
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
