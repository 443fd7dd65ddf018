//! Customer random number generators: the only place fogg makes an RNG.
//!
//! Customer `i` of a run with seed `s` always gets the same generator,
//! whatever the thread count, shard or mode. That makes results
//! reproducible and independent of how work is split, and lets what-if
//! variants replay the same customers (common random numbers).

use rand::SeedableRng;
use rand_xoshiro::Xoroshiro128PlusPlus;

/// The generator every customer uses: small (two words of state, cheap to
/// seed, which matters when every journey gets its own), fast, portable.
pub type CustomerRng = Xoroshiro128PlusPlus;

/// Independent random streams of one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The journey itself: segment, entry, steps, dwell times, values.
    Journey = 0,
    /// Anything drawn beside the journey (e.g. load-mode behaviour), so
    /// that it never changes the journey.
    Behaviour = 1,
    /// The arrival times of a load run.
    Arrivals = 2,
    /// The resamples of data behind an interval (the Bayesian bootstrap
    /// of `fogg attribute --intervals`): resample `r` is customer `r`.
    Resample = 3,
    /// The replicates of a forecast: replicate `r` is customer `r`, and
    /// draws the replicate's seed and population.
    Replicate = 4,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a strong 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Makes the generators of one stream of a run; the per-run part of the
/// derivation is done once, here.
#[derive(Debug, Clone, Copy)]
pub struct CustomerRngs {
    key: u64,
}

impl CustomerRngs {
    /// The generators of `stream` in a run seeded with `seed`.
    pub fn new(seed: u64, stream: Stream) -> CustomerRngs {
        CustomerRngs { key: mix(mix(seed) ^ GOLDEN.wrapping_mul(stream as u64 + 1)) }
    }

    /// The generator of customer `customer`: the SplitMix64 sequence at
    /// position `customer` of the run's key seeds xoroshiro128++ (a
    /// period of 2^128 per customer is far more than one journey draws).
    #[inline]
    pub fn customer(&self, customer: u64) -> CustomerRng {
        let base = mix(self.key.wrapping_add(customer.wrapping_mul(GOLDEN)));
        let mut bytes = [0u8; 16];
        for (k, chunk) in bytes.chunks_exact_mut(8).enumerate() {
            let word = mix(base.wrapping_add(GOLDEN.wrapping_mul(k as u64 + 1)));
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        CustomerRng::from_seed(bytes)
    }
}

/// The generator of customer `customer` in a run seeded with `seed`.
pub fn customer_rng(seed: u64, customer: u64, stream: Stream) -> CustomerRng {
    CustomerRngs::new(seed, stream).customer(customer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_inputs_same_stream_and_neighbours_differ() {
        let a = customer_rng(1, 10, Stream::Journey).next_u64();
        assert_eq!(a, customer_rng(1, 10, Stream::Journey).next_u64());
        assert_ne!(a, customer_rng(1, 11, Stream::Journey).next_u64());
        assert_ne!(a, customer_rng(2, 10, Stream::Journey).next_u64());
        assert_ne!(a, customer_rng(1, 10, Stream::Behaviour).next_u64());
    }
}
