//! A Prometheus histogram with fixed buckets: counts per bucket, their sum
//! and count; rendered cumulative (see [`super::exposition`]).

use std::time::Duration;

/// Upper bounds, in seconds, of the batch apply histogram's buckets (a
/// last bucket, `+Inf`, takes the rest): from a single-row SQLite commit to
/// a large batch waiting on a busy PostgreSQL.
pub const BATCH_APPLY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Observations counted by bucket.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative); one more than `bounds`,
    /// the last for `+Inf`.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    /// An empty histogram over `bounds` (ascending).
    pub(crate) fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    /// Count one observation.
    pub(crate) fn observe(&mut self, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = self
            .bounds
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(self.bounds.len());
        if let Some(n) = self.counts.get_mut(bucket) {
            *n += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }

    /// `(upper bound, observations at or below it)` for each bucket, `None`
    /// standing for `+Inf`.
    pub(crate) fn cumulative(&self) -> Vec<(Option<f64>, u64)> {
        let mut total = 0;
        self.counts
            .iter()
            .enumerate()
            .map(|(i, n)| {
                total += n;
                (self.bounds.get(i).copied(), total)
            })
            .collect()
    }

    /// The sum of all observations, in seconds.
    pub(crate) fn sum(&self) -> f64 {
        self.sum
    }

    /// How many observations.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_end_with_every_observation() {
        let mut h = Histogram::new(&[0.01, 0.1]);
        for ms in [1, 10, 50, 2000] {
            h.observe(Duration::from_millis(ms));
        }
        assert_eq!(h.cumulative(), [(Some(0.01), 2), (Some(0.1), 3), (None, 4)]);
        assert_eq!(h.count(), 4);
        assert!((h.sum() - 2.061).abs() < 1e-9);
    }
}
