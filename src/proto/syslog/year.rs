//! Year resolution for stamps that carry no year (BSD `Mmm dd hh:mm:ss`, Cisco without
//! `service timestamps ... year`).
//!
//! The sender's year is whichever of last year, this year or next year puts the stamp closest
//! to `now`; that survives New Year in both directions (a December line received in January, or a
//! device whose clock runs slightly ahead across midnight on 31 December), which a plain
//! "current year" rule does not.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// Picks the year for a stamp without one. Falls back to `now`'s year when no candidate forms a
/// valid date (e.g. `Feb 30`), so the caller's own date validation reports the problem.
pub(crate) fn resolve(
    now: DateTime<Utc>,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> i32 {
    let year = now.year();
    let now_naive = now.naive_utc();
    let mut best = year;
    let mut best_distance = i64::MAX;
    for candidate in [year - 1, year, year + 1] {
        // Clamping keeps leap seconds and junk hours from disqualifying a candidate; only the
        // year is decided here.
        let Some(stamp) = NaiveDate::from_ymd_opt(candidate, month, day)
            .and_then(|d| d.and_hms_opt(hour.min(23), minute.min(59), second.min(59)))
        else {
            continue;
        };
        let distance = (stamp - now_naive).num_seconds().abs();
        if distance < best_distance {
            best = candidate;
            best_distance = distance;
        }
    }
    best
}

/// The resolver in the shape `syslog_loose` wants (`FnOnce(IncompleteDate) -> i32 + Copy`).
pub(crate) fn resolver(now: DateTime<Utc>) -> impl Fn(syslog_loose::IncompleteDate) -> i32 + Copy {
    move |(month, day, hour, minute, second)| resolve(now, month, day, hour, minute, second)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid test date")
    }

    #[test]
    fn december_line_received_just_after_new_year_is_last_year() {
        assert_eq!(resolve(at(2027, 1, 1, 0, 10), 12, 31, 23, 59, 0), 2026);
    }

    #[test]
    fn january_line_received_just_before_new_year_is_next_year() {
        assert_eq!(resolve(at(2026, 12, 31, 23, 59), 1, 1, 0, 0, 10), 2027);
    }

    #[test]
    fn mid_year_is_current_year() {
        assert_eq!(resolve(at(2026, 8, 14, 10, 0), 8, 14, 9, 21, 7), 2026);
        // Six and a half months back is closer than five and a half ahead.
        assert_eq!(resolve(at(2026, 8, 14, 10, 0), 3, 1, 0, 4, 12), 2026);
    }

    #[test]
    fn leap_day_picks_a_leap_year_or_falls_back() {
        assert_eq!(resolve(at(2028, 3, 1, 0, 0), 2, 29, 12, 0, 0), 2028);
        // Neither 2026 nor 2027 has a 29 February; 2028 does.
        assert_eq!(resolve(at(2027, 3, 1, 0, 0), 2, 29, 12, 0, 0), 2028);
        // Nothing valid: fall back to now's year.
        assert_eq!(resolve(at(2026, 3, 1, 0, 0), 2, 30, 12, 0, 0), 2026);
    }

    #[test]
    fn junk_components_do_not_panic() {
        assert_eq!(resolve(at(2026, 3, 1, 0, 0), 13, 99, 99, 99, 99), 2026);
        assert_eq!(resolve(at(2026, 3, 1, 0, 0), 0, 0, 0, 0, 0), 2026);
    }
}
