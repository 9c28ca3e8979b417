//! The maintenance window: deferred changes (`model::maintenance`) are applied when the group's
//! day clock (scaled by `--time-scale`, as automatic snapshots' is) enters its
//! `PreferredMaintenanceWindow` (`ddd:hh24:mi-ddd:hh24:mi`, UTC), or at once by
//! `POST /_maintenance/{ReplicationGroupId}`. Either way through `workflows::modify`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::automatic_snapshots::day_clock;
use crate::model::Model;
use crate::model::catalogue::windows::{DEFAULT_MAINTENANCE_WINDOW, MaintenanceWindow};
use crate::model::group::GroupStatus;
use crate::protocol::ApiError;
use crate::state::SharedState;

/// Waits for the group's next maintenance window, then applies what is deferred; ends when
/// nothing is deferred any more (applied, fast-forwarded, or the group gone).
pub fn watch(state: SharedState, group_id: String) {
    tokio::spawn(async move {
        let started = state.now();
        let probe = |model: &Model| {
            let group = model.group(&group_id).ok()?;
            let deferred = group.deferred.is_some() && group.status != GroupStatus::Deleting;
            let window = group.settings.stored.preferred_maintenance_window.clone();
            deferred.then(|| (window, group.is_idle()))
        };
        while next_window(&state, started, probe).await {
            match apply_now(&state, &group_id).await {
                Ok(_) => return,
                Err(error) => tracing::debug!(group = %group_id, %error, "maintenance postponed"),
            }
        }
    });
}

/// Ticks one virtual minute at a time (so no window is stepped over) on the day clock that
/// began at `started`, until `probe` sees the resource idle in its maintenance window (true),
/// or sees it gone or with nothing deferred (false). `probe` gives the stored window (AWS's
/// default for a resource stored without one: what Describe reports) and whether it is idle.
pub(crate) async fn next_window(
    state: &SharedState,
    started: DateTime<Utc>,
    probe: impl Fn(&Model) -> Option<(Option<String>, bool)>,
) -> bool {
    let day = state.settings.snapshot_day;
    let tick = (day / 1440).max(Duration::from_millis(10));
    loop {
        tokio::time::sleep(tick).await;
        let Some((window, idle)) = probe(&state.model()) else {
            return false;
        };
        let window = window.unwrap_or_else(|| DEFAULT_MAINTENANCE_WINDOW.to_string());
        if idle && in_window(day_clock(started, state.now(), day), &window) {
            return true;
        }
    }
}

/// Applies the deferred changes now and waits until they are; false when nothing was deferred.
pub async fn apply_now(state: &SharedState, group_id: &str) -> Result<bool, ApiError> {
    let Some(mut deferred) = state.model().begin_maintenance(group_id)? else {
        return Ok(false);
    };
    let id = state.model().group(group_id)?.id.to_string();
    super::node_memory::add_to_change(state, &id, &mut deferred.change);
    tracing::info!(group = %id, "applying the changes deferred to the maintenance window");
    super::modify::run(state.clone(), id, deferred.change, deferred.upgrade_binary).await;
    Ok(true)
}

/// Inside the `PreferredMaintenanceWindow` (the catalogue's parser; possibly across the week's
/// end); any time for one that does not parse (stored before windows were checked).
fn in_window(now: DateTime<Utc>, window: &str) -> bool {
    match MaintenanceWindow::parse(window) {
        Ok(window) => window.contains(now),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekly_windows_may_cross_the_weeks_end() {
        // 2023-11-14 was a Tuesday.
        let tuesday = |h, m| {
            DateTime::parse_from_rfc3339(&format!("2023-11-14T{h:02}:{m:02}:00Z"))
                .unwrap()
                .with_timezone(&Utc)
        };
        assert!(in_window(tuesday(5, 30), "tue:05:00-tue:06:00"));
        assert!(!in_window(tuesday(5, 30), "wed:05:00-wed:06:00"));
        assert!(!in_window(tuesday(7, 0), "tue:05:00-tue:06:00"));
        assert!(in_window(tuesday(1, 0), "sun:23:00-tue:02:00"));
        assert!(in_window(tuesday(1, 0), "sat:23:00-tue:01:30"));
        assert!(!in_window(tuesday(3, 0), "sat:23:00-tue:01:30"));
        assert!(in_window(tuesday(3, 0), "not a window"));
    }
}
