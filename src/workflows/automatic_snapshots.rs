//! Automatic snapshots: while a group (or a standalone Redis or Valkey cache cluster) lives, once
//! a day (a real day times `--time-scale`), in its `SnapshotWindow` when it has one, one with
//! `SnapshotRetentionLimit` > 0 gets a snapshot named as AWS names them,
//! `automatic.<id>-YYYY-MM-DD-HH-MM`, and its automatic snapshots are pruned to the limit,
//! oldest first. The date in the name is the group's day clock: real
//! time since the loop began, scaled by `--time-scale`, so a sped-up day has its own date.

use crate::model::catalogue::windows::SnapshotWindow;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::snapshot::SnapshotOf;
use crate::model::cache_cluster::ClusterStatus;
use crate::model::group::GroupStatus;
use crate::model::scope::Scope;
use crate::model::snapshot::SnapshotSource;
use crate::state::SharedState;

const DAY_SECONDS: f64 = 86_400.0;

/// Runs the daily snapshots of `of` until it is gone.
pub fn spawn(state: SharedState, of: SnapshotOf) {
    tokio::spawn(async move {
        let Some(scope) = scope_of(&state, &of) else {
            return;
        };
        let id = match &of {
            SnapshotOf::Group { group_id, .. } => group_id.clone(),
            SnapshotOf::CacheCluster(cluster_id) => cluster_id.clone(),
        };
        let day = state.settings.snapshot_day;
        // One virtual minute per tick, so a window of a few minutes is never stepped over.
        let tick = (day / 1440).max(Duration::from_millis(10));
        let started = state.now();
        let mut last_day: Option<chrono::NaiveDate> = None;
        loop {
            tokio::time::sleep(tick).await;
            let Some((limit, window)) = settings_of(&state, &of) else {
                return;
            };
            let now = day_clock(started, state.now(), day);
            if limit == 0
                || last_day == Some(now.date_naive())
                || !in_window(now, window.as_deref())
            {
                continue;
            }
            // Room is made first, so a Describe never sees more than the limit.
            prune(&state, &id, (limit as usize).saturating_sub(1));
            if take(&state, &of, &id, &scope, now).await {
                last_day = Some(now.date_naive());
            }
        }
    });
}

fn scope_of(state: &SharedState, of: &SnapshotOf) -> Option<Scope> {
    let model = state.model();
    let arn = match of {
        SnapshotOf::Group { group_id, .. } => &model.group(group_id).ok()?.arn,
        SnapshotOf::CacheCluster(cluster_id) => &model.cache_cluster(cluster_id).ok()?.arn,
    };
    Some(Scope::new(&arn.account, &arn.region))
}

/// The retention limit and window, or `None` once the source is gone (or going).
fn settings_of(state: &SharedState, of: &SnapshotOf) -> Option<(i64, Option<String>)> {
    let model = state.model();
    let (deleting, stored) = match of {
        SnapshotOf::Group { group_id, .. } => {
            let group = model.group(group_id).ok()?;
            (
                group.status == GroupStatus::Deleting,
                &group.settings.stored,
            )
        }
        SnapshotOf::CacheCluster(cluster_id) => {
            let cluster = model.cache_cluster(cluster_id).ok()?;
            (
                cluster.status == ClusterStatus::Deleting,
                &cluster.settings.stored,
            )
        }
    };
    (!deleting).then(|| {
        (
            stored.snapshot_retention_limit,
            stored.snapshot_window.clone(),
        )
    })
}

/// The time on the group's day clock: `started` plus the real time since, scaled to days.
pub(crate) fn day_clock(
    started: DateTime<Utc>,
    now: DateTime<Utc>,
    day: Duration,
) -> DateTime<Utc> {
    let elapsed = (now - started).to_std().unwrap_or_default().as_secs_f64();
    let scaled = elapsed * DAY_SECONDS / day.as_secs_f64().max(f64::MIN_POSITIVE);
    started + chrono::Duration::milliseconds((scaled * 1000.0) as i64)
}

/// Inside the `SnapshotWindow` (the catalogue's parser; UTC, possibly across midnight); any
/// time without a window (or with one stored before windows were checked).
fn in_window(now: DateTime<Utc>, window: Option<&str>) -> bool {
    match window.map(SnapshotWindow::parse) {
        Some(Ok(window)) => window.contains(now.time()),
        _ => true,
    }
}

/// Takes one automatic snapshot; false when the source could not take one now (busy).
async fn take(
    state: &SharedState,
    of: &SnapshotOf,
    id: &str,
    scope: &Scope,
    now: DateTime<Utc>,
) -> bool {
    let name = format!("automatic.{id}-{}", now.format("%Y-%m-%d-%H-%M"));
    let source = SnapshotSource::Automated;
    let begun = match of {
        SnapshotOf::Group { .. } => {
            crate::api::begin_group_snapshot(state, id, &name, source, None, scope, &[])
        }
        SnapshotOf::CacheCluster(_) => {
            crate::api::begin_cluster_snapshot(state, id, &name, source, scope, &[])
        }
    };
    match begun {
        Ok(_) => {
            crate::workflows::snapshot::take(state, &name, of).await;
            true
        }
        Err(error) => {
            tracing::debug!(source = %id, %error, "automatic snapshot postponed");
            false
        }
    }
}

/// Deletes the oldest automatic snapshots of `source_id` (a group or a cluster) beyond `limit`.
pub fn prune(state: &SharedState, source_id: &str, limit: usize) {
    let names = state.model().automatic_snapshots_of(source_id);
    let excess = names.len().saturating_sub(limit);
    for name in names.into_iter().take(excess) {
        if state.model().delete_snapshot(&name).is_ok() {
            state.engine.delete_snapshot_files(&name);
            tracing::info!(snapshot = %name, "automatic snapshot pruned");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    #[test]
    fn windows_may_cross_midnight_and_the_day_clock_scales() {
        let at = |h, m| {
            DateTime::from_timestamp(1_700_000_000, 0)
                .unwrap()
                .with_hour(h)
                .unwrap()
                .with_minute(m)
                .unwrap()
        };
        assert!(in_window(at(5, 30), Some("05:00-06:00")));
        assert!(!in_window(at(7, 0), Some("05:00-06:00")));
        assert!(in_window(at(23, 30), Some("23:00-01:00")));
        assert!(in_window(at(0, 30), Some("23:00-01:00")));
        assert!(in_window(at(12, 0), None));
        let start = at(0, 0);
        let later = start + chrono::Duration::seconds(10);
        let clock = day_clock(start, later, Duration::from_secs(10));
        assert_eq!(clock - start, chrono::Duration::days(1));
    }
}
