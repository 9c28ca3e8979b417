//! AWS's two windows: `PreferredMaintenanceWindow` (weekly, `ddd:hh24:mi-ddd:hh24:mi`) and
//! `SnapshotWindow` (daily, `hh24:mi-hh24:mi`), both UTC, both at least 60 minutes, and never
//! overlapping. Automatic snapshots use [`SnapshotWindow::contains`] to know when to run.

use chrono::{DateTime, Datelike, NaiveTime, Timelike, Utc};

use crate::protocol::ApiError;

const DAY: u32 = 24 * 60;
const WEEK: u32 = 7 * DAY;
const MINIMUM_MINUTES: u32 = 60;
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// The weekly window a group or cluster created without `PreferredMaintenanceWindow` gets. AWS
/// picks one per region at random; a fixed one keeps runs repeatable.
pub const DEFAULT_MAINTENANCE_WINDOW: &str = "sun:05:00-sun:06:00";
/// The others, for a resource whose given `SnapshotWindow` overlaps the first.
const OTHER_MAINTENANCE_WINDOWS: [&str; 2] = ["sun:09:00-sun:10:00", "sun:01:00-sun:02:00"];
/// The daily windows a Redis or Valkey group or cluster created without `SnapshotWindow` gets:
/// the first that does not overlap its maintenance window (AWS assigns one even with a
/// retention of 0, as its CLI examples show, and never one overlapping maintenance).
const DEFAULT_SNAPSHOT_WINDOWS: [&str; 3] = ["06:00-07:00", "08:00-09:00", "03:00-04:00"];

/// A daily window in minutes of the day; `end` may be before `start` (across midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotWindow {
    start: u32,
    end: u32,
}

/// A weekly window in minutes of the week (Sunday 00:00 = 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaintenanceWindow {
    start: u32,
    end: u32,
}

fn minute_of_day(text: &str) -> Option<u32> {
    if text.len() != 5 {
        return None;
    }
    let time = NaiveTime::parse_from_str(text, "%H:%M").ok()?;
    Some(time.hour() * 60 + time.minute())
}

fn minute_of_week(text: &str) -> Option<u32> {
    let (day, time) = text.split_once(':')?;
    let day = DAYS.iter().position(|d| d.eq_ignore_ascii_case(day))? as u32;
    Some(day * DAY + minute_of_day(time)?)
}

/// Length of `[start, end)` on a circle of `period` minutes.
fn length(start: u32, end: u32, period: u32) -> u32 {
    (end + period - start) % period
}

fn invalid(member: &str, value: &str, format: &str) -> ApiError {
    ApiError::InvalidParameterValue(format!(
        "Invalid {member}: '{value}'. It must be in the format {format} (UTC) and last at least {MINIMUM_MINUTES} minutes."
    ))
}

impl SnapshotWindow {
    pub fn parse(value: &str) -> Result<Self, ApiError> {
        let bad = || invalid("SnapshotWindow", value, "hh24:mi-hh24:mi");
        let (start, end) = value.split_once('-').ok_or_else(bad)?;
        let (start, end) = (
            minute_of_day(start).ok_or_else(bad)?,
            minute_of_day(end).ok_or_else(bad)?,
        );
        if length(start, end, DAY) < MINIMUM_MINUTES {
            return Err(bad());
        }
        Ok(Self { start, end })
    }

    /// Whether `time` (UTC) is inside the window, its last minute included.
    pub fn contains(&self, time: NaiveTime) -> bool {
        let minute = time.hour() * 60 + time.minute();
        length(self.start, minute, DAY) <= length(self.start, self.end, DAY)
    }
}

impl MaintenanceWindow {
    pub fn parse(value: &str) -> Result<Self, ApiError> {
        let bad = || {
            invalid(
                "PreferredMaintenanceWindow",
                value,
                "ddd:hh24:mi-ddd:hh24:mi",
            )
        };
        let (start, end) = value.split_once('-').ok_or_else(bad)?;
        let (start, end) = (
            minute_of_week(start).ok_or_else(bad)?,
            minute_of_week(end).ok_or_else(bad)?,
        );
        if length(start, end, WEEK) < MINIMUM_MINUTES {
            return Err(bad());
        }
        Ok(Self { start, end })
    }

    fn contains_minute(&self, minute: u32) -> bool {
        length(self.start, minute, WEEK) < length(self.start, self.end, WEEK)
    }

    /// Whether the daily snapshot window meets this weekly window on any day.
    pub fn overlaps(&self, snapshot: &SnapshotWindow) -> bool {
        let daily = length(snapshot.start, snapshot.end, DAY);
        (0..7).any(|day| {
            (0..daily).any(|m| self.contains_minute((day * DAY + snapshot.start + m) % WEEK))
        })
    }
}

impl MaintenanceWindow {
    /// Whether `at` (UTC) is inside the window, its last minute included.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let minute = at.weekday().num_days_from_sunday() * DAY + at.hour() * 60 + at.minute();
        length(self.start, minute, WEEK) <= length(self.start, self.end, WEEK)
    }
}

/// The maintenance window given to a resource created without one, beside `snapshot` (its
/// given, already checked, snapshot window): the first default that does not overlap it.
pub fn default_maintenance_window(snapshot: Option<&str>) -> &'static str {
    let snapshot = snapshot.and_then(|s| SnapshotWindow::parse(s).ok());
    std::iter::once(DEFAULT_MAINTENANCE_WINDOW)
        .chain(OTHER_MAINTENANCE_WINDOWS)
        .find(|candidate| {
            let candidate = MaintenanceWindow::parse(candidate).expect("a valid default");
            !snapshot.is_some_and(|s| candidate.overlaps(&s))
        })
        .unwrap_or(DEFAULT_MAINTENANCE_WINDOW)
}

/// The snapshot window given to a resource created without one, beside `maintenance` (its
/// stored, already checked, maintenance window).
pub fn default_snapshot_window(maintenance: &str) -> &'static str {
    let maintenance = MaintenanceWindow::parse(maintenance).ok();
    DEFAULT_SNAPSHOT_WINDOWS
        .into_iter()
        .find(|candidate| {
            let candidate = SnapshotWindow::parse(candidate).expect("a valid default");
            !maintenance.is_some_and(|m| m.overlaps(&candidate))
        })
        .unwrap_or(DEFAULT_SNAPSHOT_WINDOWS[0])
}

/// Both windows of a request parsed, and refused together when they overlap (AWS's rule:
/// "the maintenance window and the snapshot window must not overlap").
pub fn check(maintenance: Option<&str>, snapshot: Option<&str>) -> Result<(), ApiError> {
    let maintenance_window = maintenance.map(MaintenanceWindow::parse).transpose()?;
    let snapshot_window = snapshot.map(SnapshotWindow::parse).transpose()?;
    if let (Some(m), Some(s)) = (maintenance_window, snapshot_window)
        && m.overlaps(&s)
    {
        return Err(ApiError::InvalidParameterCombination(format!(
            "The SnapshotWindow {} overlaps the PreferredMaintenanceWindow {}: they must not overlap.",
            snapshot.unwrap_or_default(),
            maintenance.unwrap_or_default()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_snapshot_window_never_overlaps_the_maintenance_window() {
        assert_eq!(
            default_snapshot_window(DEFAULT_MAINTENANCE_WINDOW),
            "06:00-07:00"
        );
        assert_eq!(
            default_snapshot_window("mon:06:30-mon:07:30"),
            "08:00-09:00"
        );
        assert_eq!(
            default_snapshot_window("tue:05:00-tue:09:30"),
            "03:00-04:00"
        );
        assert_eq!(default_maintenance_window(None), DEFAULT_MAINTENANCE_WINDOW);
        assert_eq!(
            default_maintenance_window(Some("05:00-06:00")),
            "sun:09:00-sun:10:00"
        );
        assert_eq!(
            default_maintenance_window(Some("04:30-09:30")),
            "sun:01:00-sun:02:00"
        );
    }

    #[test]
    fn a_maintenance_window_contains_its_own_minutes_only() {
        let at = |day: u32, hour: u32, minute: u32| {
            // 2026-11-29 is a Sunday.
            (chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap() + chrono::Days::new(day.into()))
                .and_hms_opt(hour, minute, 0)
                .unwrap()
                .and_utc()
        };
        let sunday = MaintenanceWindow::parse(DEFAULT_MAINTENANCE_WINDOW).unwrap();
        assert!(sunday.contains(at(0, 5, 0)) && sunday.contains(at(0, 6, 0)));
        assert!(!sunday.contains(at(0, 4, 59)) && !sunday.contains(at(1, 5, 30)));
        let across = MaintenanceWindow::parse("sat:23:30-sun:00:30").unwrap();
        assert!(across.contains(at(0, 0, 15)) && across.contains(at(6, 23, 45)));
        assert!(!across.contains(at(6, 22, 0)) && !across.contains(at(0, 1, 0)));
    }

    #[test]
    fn maintenance_windows_are_weekly_and_at_least_an_hour() {
        for good in [
            "sun:05:00-sun:06:00",
            "sat:23:30-sun:00:30",
            "Mon:01:00-wed:01:00",
        ] {
            assert!(MaintenanceWindow::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "sun:05:00-sun:05:59",
            "sun:05:00",
            "xyz:05:00-sun:06:00",
            "sun:25:00-mon:01:00",
            "05:00-06:00",
            "sun:5:00-sun:07:00",
        ] {
            let error = MaintenanceWindow::parse(bad).unwrap_err();
            assert_eq!(error.code(), "InvalidParameterValue", "{bad}");
            assert!(error.message().contains(bad), "{bad}");
        }
    }

    #[test]
    fn snapshot_windows_are_daily_and_at_least_an_hour() {
        for good in ["05:00-06:00", "23:30-00:30", "00:00-23:59"] {
            assert!(SnapshotWindow::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "05:00-05:30",
            "5:00-06:00",
            "05:00",
            "sun:05:00-sun:06:00",
            "24:00-01:00",
            "05:00-05:00",
        ] {
            assert_eq!(
                SnapshotWindow::parse(bad).unwrap_err().code(),
                "InvalidParameterValue",
                "{bad}"
            );
        }
        let across = SnapshotWindow::parse("23:30-00:30").unwrap();
        assert!(across.contains(NaiveTime::from_hms_opt(0, 10, 0).unwrap()));
        assert!(!across.contains(NaiveTime::from_hms_opt(12, 0, 0).unwrap()));
    }

    #[test]
    fn the_windows_must_not_overlap() {
        assert!(check(Some("sun:05:00-sun:06:00"), Some("06:00-07:00")).is_ok());
        assert!(check(Some("sat:23:30-sun:00:30"), Some("01:00-02:00")).is_ok());
        for (maintenance, snapshot) in [
            ("sun:05:00-sun:06:00", "05:30-06:30"),
            ("sat:23:30-sun:00:30", "00:00-01:00"),
            ("tue:10:00-tue:12:00", "09:00-10:30"),
        ] {
            let error = check(Some(maintenance), Some(snapshot)).unwrap_err();
            assert_eq!(
                error.code(),
                "InvalidParameterCombination",
                "{maintenance} {snapshot}"
            );
        }
    }
}
