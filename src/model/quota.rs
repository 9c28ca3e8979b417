//! The TestFailover quota: at most `limit` accepted calls per account in any rolling window.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct FailoverQuota {
    #[serde(skip)]
    limit: usize,
    #[serde(skip)]
    window: Duration,
    /// Times of accepted calls per account, oldest first. Rejected calls are not recorded.
    accepted: HashMap<String, VecDeque<DateTime<Utc>>>,
}

impl FailoverQuota {
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            accepted: HashMap::new(),
        }
    }

    /// Takes the accepted calls of a quota loaded from a data dir (keeping this run's limit
    /// and window).
    pub fn adopt_history(&mut self, loaded: FailoverQuota) {
        self.accepted = loaded.accepted;
    }

    /// True when `account` may make one more call at `now`.
    pub fn has_room(&mut self, account: &str, now: DateTime<Utc>) -> bool {
        let window = self.window;
        let Some(times) = self.accepted.get_mut(account) else {
            return self.limit > 0;
        };
        while times.front().is_some_and(|t| *t <= now - window) {
            times.pop_front();
        }
        times.len() < self.limit
    }

    pub fn record(&mut self, account: &str, now: DateTime<Utc>) {
        self.accepted
            .entry(account.to_string())
            .or_default()
            .push_back(now);
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    pub fn clear(&mut self) {
        self.accepted.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn the_window_slides_rather_than_resetting() {
        let mut quota = FailoverQuota::new(2, Duration::seconds(100));
        assert!(quota.has_room("a", at(0)));
        quota.record("a", at(0));
        quota.record("a", at(50));
        assert!(!quota.has_room("a", at(99)));
        assert!(quota.has_room("b", at(99)), "accounts are separate");
        assert!(
            quota.has_room("a", at(100)),
            "the call at 0 left the window"
        );
        quota.record("a", at(100));
        assert!(
            !quota.has_room("a", at(149)),
            "the call at 50 is still inside"
        );
    }
}
