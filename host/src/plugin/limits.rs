//! Sandbox limits for one plugin call.

use std::time::Duration;

/// What one plugin may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Linear-memory cap of a plugin instance, in bytes.
    pub memory_bytes: usize,
    /// Fuel (roughly, WASM instructions) per event of a call; deterministic,
    /// so a replay fails at the same event.
    pub fuel_per_event: u64,
    /// Wall-clock backstop per call.
    pub call_timeout: Duration,
    /// Most mutations one event may return.
    pub max_mutations_per_event: usize,
    /// Most bytes of values one call may return.
    pub max_output_bytes: usize,
    /// Most `find-events` calls one event may make (each is a query).
    pub max_lookups_per_event: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 128 << 20,
            fuel_per_event: 50_000_000,
            call_timeout: Duration::from_secs(10),
            max_mutations_per_event: 10_000,
            max_output_bytes: 64 << 20,
            max_lookups_per_event: 1000,
        }
    }
}

/// How often the engine's epoch advances (the time-out's resolution).
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

impl Limits {
    /// Epoch ticks a call may run.
    pub fn deadline_ticks(&self) -> u64 {
        let ticks = self.call_timeout.as_millis() / EPOCH_TICK.as_millis().max(1);
        u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
    }
}
