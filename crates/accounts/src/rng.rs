//! The random numbers of the Monte Carlo: one ChaCha8 stream per run, derived from the
//! seed and the run's index, so a run draws the same numbers whichever thread runs it
//! and on whichever platform. Normal deviates come from the Box-Muller transform with
//! `libm`'s logarithm and cosine (pure Rust, the same bits everywhere, unlike the
//! platform's C library).

use chacha20::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// A reproducible stream of deviates.
#[derive(Debug)]
pub struct Stream {
    rng: ChaCha8Rng,
    spare: Option<f64>,
}

impl Stream {
    /// Stream `index` of `seed`: ChaCha8 keyed from the seed, with the index as its
    /// stream number (nonce), so streams never overlap.
    pub fn new(seed: u64, index: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index);
        Stream { rng, spare: None }
    }

    /// Uniform on [0, 1), 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box-Muller; the second deviate of each pair is kept for the
    /// next call).
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        // 1 - u is in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        let r = libm::sqrt(-2.0 * libm::log(u1));
        let theta = 2.0 * std::f64::consts::PI * u2;
        self.spare = Some(r * libm::sin(theta));
        r * libm::cos(theta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<f64> = (0..5)
            .map({
                let mut s = Stream::new(7, 3);
                move |_| s.uniform()
            })
            .collect();
        let b: Vec<f64> = (0..5)
            .map({
                let mut s = Stream::new(7, 3);
                move |_| s.uniform()
            })
            .collect();
        let c: Vec<f64> = (0..5)
            .map({
                let mut s = Stream::new(7, 4);
                move |_| s.uniform()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn normal_has_unit_moments() {
        let mut s = Stream::new(1, 0);
        let n = 200_000;
        let v: Vec<f64> = (0..n).map(|_| s.normal()).collect();
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
        let within1 = v.iter().filter(|x| x.abs() < 1.0).count() as f64 / n as f64;
        assert!((within1 - 0.6827).abs() < 0.005, "P(|z|<1) {within1}");
    }
}
