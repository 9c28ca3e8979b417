//! AWS's two windows: `PreferredMaintenanceWindow` (weekly, `ddd:hh24:mi-ddd:hh24:mi`) and
//! `SnapshotWindow` (daily, `hh24:mi-hh24:mi`), both UTC, both at least 60 minutes, and never
//! overlapping. Automatic snapshots use [`SnapshotWindow::contains`] to know when to run.

use chrono::{NaiveTime, Timelike};

use crate::protocol::ApiError;

/// What AWS assigns a cache cluster when none is given (a weekly one-hour window).
pub const DEFAULT_MAINTENANCE_WINDOW: &str = "sun:05:00-sun:06:00";

const DAY: u32 = 24 * 60;
const WEEK: u32 = 7 * DAY;
const MINIMUM_MINUTES: u32 = 60;
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

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
