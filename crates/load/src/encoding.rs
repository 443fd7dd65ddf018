//! Response bodies as a browser gets them: fogg asks for gzip and brotli
//! (`Accept-Encoding: gzip, br`, unless the scenario names its own),
//! decodes a compressed body as its chunks arrive, and counts its bytes
//! both on the wire and decoded. Checks and captures read the decoded
//! text; nothing is held but what they keep, so memory stays bounded
//! however far a body inflates.

use std::io::Write;

use reqwest::header::{CONTENT_ENCODING, HeaderMap};

use super::capture;
use super::customer::StreamSearch;

/// The `Accept-Encoding` fogg sends unless the scenario names one: what
/// it can decode.
pub const ACCEPT_ENCODING: &str = "gzip, br";

/// Where decoded bytes go: the search for `expect_body`, the head kept
/// for captures and failure samples, and the count.
#[derive(Debug)]
pub(super) struct Sink<'a> {
    search: Option<StreamSearch<'a>>,
    keep: bool,
    /// The body's first [`capture::MAX_CAPTURE_BODY`] decoded bytes, when
    /// kept.
    pub kept: Vec<u8>,
    /// Decoded bytes.
    pub decoded: u64,
}

impl Sink<'_> {
    /// Whether the body held the needle (always true without one).
    pub(super) fn found(&self) -> bool {
        self.search.as_ref().is_none_or(|s| s.found)
    }
}

impl Write for Sink<'_> {
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<usize> {
        if let Some(s) = &mut self.search {
            s.feed(chunk);
        }
        if self.keep && self.kept.len() < capture::MAX_CAPTURE_BODY {
            let room = capture::MAX_CAPTURE_BODY - self.kept.len();
            self.kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        self.decoded += chunk.len() as u64;
        Ok(chunk.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A body being decoded, chunk by chunk, into a [`Sink`].
pub(super) enum Decoder<'a> {
    /// No content coding, or one fogg did not ask for: the bytes as sent.
    Identity(Sink<'a>),
    /// `Content-Encoding: gzip` (or `x-gzip`).
    Gzip(Box<flate2::write::GzDecoder<Sink<'a>>>),
    /// `Content-Encoding: br`.
    Brotli(Box<brotli_decompressor::DecompressorWriter<Sink<'a>>>),
}

impl<'a> Decoder<'a> {
    /// A decoder for a response with `headers`, looking for `needle` and
    /// keeping the body's head when `keep`.
    pub(super) fn new(headers: &HeaderMap, needle: Option<&'a str>, keep: bool) -> Decoder<'a> {
        let sink = Sink { search: needle.map(StreamSearch::new), keep, kept: Vec::new(), decoded: 0 };
        let coding = headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok()).map(str::trim);
        match coding {
            Some(c) if c.eq_ignore_ascii_case("gzip") || c.eq_ignore_ascii_case("x-gzip") => {
                Decoder::Gzip(Box::new(flate2::write::GzDecoder::new(sink)))
            }
            Some(c) if c.eq_ignore_ascii_case("br") => {
                Decoder::Brotli(Box::new(brotli_decompressor::DecompressorWriter::new(sink, 4096)))
            }
            _ => Decoder::Identity(sink),
        }
    }

    /// Takes the next chunk from the wire.
    pub(super) fn feed(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self {
            Decoder::Identity(sink) => sink.write_all(chunk),
            Decoder::Gzip(d) => d.write_all(chunk),
            Decoder::Brotli(d) => d.write_all(chunk),
        }
    }

    /// The decoded body's sink, once the wire is done; an error when the
    /// compressed stream is cut short or corrupt.
    pub(super) fn finish(self) -> std::io::Result<Sink<'a>> {
        match self {
            Decoder::Identity(sink) => Ok(sink),
            Decoder::Gzip(d) => d.finish(),
            Decoder::Brotli(d) => d.into_inner().map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the brotli stream ended early")
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(coding: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_ENCODING, coding.parse().unwrap());
        h
    }

    /// A gzip body fed a byte at a time decodes to the text, finds a
    /// needle and counts its decoded bytes.
    #[test]
    fn gzip_decodes_across_chunks() {
        let text = "<title>Site administration</title>".repeat(50);
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text.as_bytes()).unwrap();
        let wire = e.finish().unwrap();
        let mut d = Decoder::new(&headers("gzip"), Some("Site administration"), true);
        for b in &wire {
            d.feed(std::slice::from_ref(b)).unwrap();
        }
        let sink = d.finish().unwrap();
        assert!(sink.found());
        assert_eq!(sink.decoded, text.len() as u64);
        assert_eq!(sink.kept, text.as_bytes());
        assert!((wire.len() as u64) < sink.decoded);
    }

    /// A cut-off gzip stream is an error, not a short body.
    #[test]
    fn a_truncated_gzip_body_is_an_error() {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&[7u8; 10_000]).unwrap();
        let wire = e.finish().unwrap();
        let mut d = Decoder::new(&headers("gzip"), None, false);
        d.feed(&wire[..wire.len() / 2]).unwrap();
        assert!(d.finish().is_err());
    }

    /// An encoding fogg did not ask for is read as it came.
    #[test]
    fn an_unknown_coding_passes_through() {
        let mut d = Decoder::new(&headers("zstd"), Some("abc"), true);
        d.feed(b"xxabcxx").unwrap();
        let sink = d.finish().unwrap();
        assert!(sink.found());
        assert_eq!(sink.decoded, 7);
    }
}
