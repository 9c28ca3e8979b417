//! The maintenance window: deferred changes (`model::maintenance`) are applied when the group's
//! day clock (scaled by `--time-scale`, as automatic snapshots' is) enters its
//! `PreferredMaintenanceWindow` (`ddd:hh24:mi-ddd:hh24:mi`, UTC), or at once by
//! `POST /_maintenance/{ReplicationGroupId}`. Either way through `workflows::modify`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::automatic_snapshots::day_clock;
use crate::model::catalogue::windows::MaintenanceWindow;
use crate::model::group::GroupStatus;
use crate::protocol::ApiError;
use crate::state::SharedState;

/// Waits for the group's next maintenance window, then applies what is deferred; ends when
/// nothing is deferred any more (applied, fast-forwarded, or the group gone).
pub fn watch(state: SharedState, group_id: String) {
    tokio::spawn(async move {
        let day = state.settings.snapshot_day;
        // One virtual minute per tick, so no window is stepped over.
        let tick = (day / 1440).max(Duration::from_millis(10));
        let started = state.now();
        loop {
            tokio::time::sleep(tick).await;
            let (window, idle) = {
                let model = state.model();
                let Ok(group) = model.group(&group_id) else {
                    return;
                };
                if group.deferred.is_none() || group.status == GroupStatus::Deleting {
                    return;
                }
                let window = group.settings.stored.preferred_maintenance_window.clone();
                (window, group.is_idle())
            };
            let now = day_clock(started, state.now(), day);
            if idle && in_window(now, window.as_deref()) {
                match apply_now(&state, &group_id).await {
                    Ok(_) => return,
                    Err(error) => {
                        tracing::debug!(group = %group_id, %error, "maintenance postponed")
                    }
                }
            }
        }
    });
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
/// end); any time without one (a resource stored before every resource was given one).
pub(crate) fn in_window(now: DateTime<Utc>, window: Option<&str>) -> bool {
    match window.map(MaintenanceWindow::parse) {
        Some(Ok(window)) => window.contains(now),
        _ => true,
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
        assert!(in_window(tuesday(5, 30), Some("tue:05:00-tue:06:00")));
        assert!(!in_window(tuesday(5, 30), Some("wed:05:00-wed:06:00")));
        assert!(!in_window(tuesday(7, 0), Some("tue:05:00-tue:06:00")));
        assert!(in_window(tuesday(1, 0), Some("sun:23:00-tue:02:00")));
        assert!(in_window(tuesday(1, 0), Some("sat:23:00-tue:01:30")));
        assert!(!in_window(tuesday(3, 0), Some("sat:23:00-tue:01:30")));
        assert!(in_window(tuesday(3, 0), None));
    }
}
