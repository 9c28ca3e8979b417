//! Waiting: every wait polls real state against a deadline; none sleeps a fixed time.

use std::time::{Duration, Instant};

/// The deadline for a group to become available, an event to appear, a node to follow.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// How long to rest between two probes.
const POLL: Duration = Duration::from_millis(5);

/// Polls `probe` every few milliseconds until it returns `Some`, or panics with `what`.
pub async fn wait_until<T, F, Fut>(what: &str, deadline: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = Instant::now() + deadline;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < until,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// The blocking form of [`wait_until`], for code outside a runtime: `None` when `deadline`
/// passes first (the caller decides whether that is a failure).
pub fn poll_blocking<T>(deadline: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let until = Instant::now() + deadline;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= until {
            return None;
        }
        std::thread::sleep(POLL);
    }
}

/// The blocking form of [`wait_until`]: polls `probe` until it returns `Some`, or panics with
/// `what` after `deadline`.
pub fn wait_blocking<T>(what: &str, deadline: Duration, probe: impl FnMut() -> Option<T>) -> T {
    poll_blocking(deadline, probe)
        .unwrap_or_else(|| panic!("timed out after {deadline:?} waiting for {what}"))
}
