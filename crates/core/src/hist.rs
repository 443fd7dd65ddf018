//! Histograms in results: HdrHistogram's V2 serialisation, deflate-
//! compressed and base64-encoded, the form HdrHistogram's own tools read.
//! A histogram decoded from a result merges and answers percentiles
//! exactly like the one recorded.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::{Counter, Histogram};

/// Highest latency a latency histogram holds exactly: one hour, in
/// microseconds.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Encodes `h` as base64 of its compressed V2 serialisation.
pub fn encode<T: Counter>(h: &Histogram<T>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut bytes).expect("serialising into memory cannot fail");
    STANDARD.encode(bytes)
}

/// Why a stored histogram could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The text is not base64.
    #[error("histogram is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    /// The bytes are not a V2 histogram.
    #[error("histogram does not decode: {0:?}")]
    Histogram(hdrhistogram::serialization::DeserializeError),
}

/// Decodes what [`encode`] wrote.
pub fn decode<T: Counter>(text: &str) -> Result<Histogram<T>, DecodeError> {
    let bytes = STANDARD.decode(text.trim())?;
    Deserializer::new().deserialize(&mut std::io::Cursor::new(bytes)).map_err(DecodeError::Histogram)
}

/// `#[serde(with = "crate::hist::serde_b64")]` for a `Histogram` field.
pub mod serde_b64 {
    use hdrhistogram::{Counter, Histogram};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises a histogram as a base64 string.
    pub fn serialize<T: Counter, S: Serializer>(h: &Histogram<T>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::encode(h))
    }

    /// Reads a histogram from a base64 string. It grows as values come
    /// (`auto`), so merging one read from a file, whatever bounds the file
    /// gave it, cannot fail.
    pub fn deserialize<'de, T: Counter, D: Deserializer<'de>>(d: D) -> Result<Histogram<T>, D::Error> {
        let text = String::deserialize(d)?;
        let mut h = super::decode(&text).map_err(serde::de::Error::custom)?;
        h.auto(true);
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exactly() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for v in [1u64, 20_000, 20_500, 1_000_000, 3_000_000_000] {
            h.record_n(v, v % 7 + 1).unwrap();
        }
        let back: Histogram<u64> = decode(&encode(&h)).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.value_at_quantile(0.99), h.value_at_quantile(0.99));
        assert!(decode::<u64>("not base64!").is_err());
    }
}
