//! Operating hours and time-of-day conditions, in the queue's own time zone (jiff).

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::config::Hours;

/// Whether a queue is staffed at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Within a slot.
    Open,
    /// Outside every slot.
    Closed,
    /// A holiday.
    Holiday,
}

/// Looks up an IANA time zone.
pub fn zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name).map_err(|_| format!("unknown time zone {name:?}"))
}

/// Parses `HH:MM` (00:00 to 24:00).
pub fn parse_hhmm(s: &str) -> Result<u32, String> {
    let err = || format!("{s:?} is not a time; use HH:MM");
    let (h, m) = s.split_once(':').ok_or_else(err)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| err())?, m.parse().map_err(|_| err())?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(err());
    }
    Ok(h * 60 + m)
}

/// Parses `mon` … `sun`.
pub fn weekday(s: &str) -> Result<Weekday, String> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return Err(format!("{s:?} is not a day; use mon … sun")),
    })
}

fn minute_of_day(t: Time) -> u32 {
    t.hour() as u32 * 60 + t.minute() as u32
}

/// The queue's status at `now_ms`. Unparseable settings (refused at save) count as open.
pub fn status(hours: &Hours, now_ms: i64) -> Status {
    let (Ok(tz), Ok(ts)) = (zone(&hours.time_zone), Timestamp::from_millisecond(now_ms)) else {
        return Status::Open;
    };
    let local = ts.to_zoned(tz);
    let date = local.date().to_string();
    if hours.holidays.iter().any(|h| h.date == date) {
        return Status::Holiday;
    }
    let minute = minute_of_day(local.time());
    let day = local.weekday();
    let open = hours.weekly.iter().any(|slot| {
        slot.days.iter().any(|d| weekday(d).ok() == Some(day))
            && matches!((parse_hhmm(&slot.from), parse_hhmm(&slot.to)), (Ok(f), Ok(t)) if f <= minute && minute < t)
    });
    if open {
        Status::Open
    } else {
        Status::Closed
    }
}

/// Whether local time in `time_zone` is within `[from, to)` (wrapping past midnight).
pub fn within(time_zone: &str, from: &str, to: &str, now_ms: i64) -> bool {
    let (Ok(tz), Ok(ts), Ok(f), Ok(t)) = (
        zone(time_zone),
        Timestamp::from_millisecond(now_ms),
        parse_hhmm(from),
        parse_hhmm(to),
    ) else {
        return false;
    };
    let m = minute_of_day(ts.to_zoned(tz).time());
    if f <= t {
        f <= m && m < t
    } else {
        m >= f || m < t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::config::{Holiday, Slot};

    fn taipei_ms(s: &str) -> i64 {
        let zdt: jiff::Zoned = format!("{s}[Asia/Taipei]").parse().expect("zoned time");
        zdt.timestamp().as_millisecond()
    }

    #[test]
    fn open_closed_and_holiday_in_the_queue_time_zone() {
        let hours = Hours {
            time_zone: "Asia/Taipei".into(),
            weekly: vec![Slot {
                days: vec!["mon".into(), "tue".into()],
                from: "09:00".into(),
                to: "18:00".into(),
            }],
            holidays: vec![Holiday {
                date: "2026-12-01".into(),
                name: "test".into(),
            }],
        };
        // 2026-11-30 is a Monday.
        assert_eq!(
            status(&hours, taipei_ms("2026-11-30T09:00:00")),
            Status::Open
        );
        assert_eq!(
            status(&hours, taipei_ms("2026-11-30T08:59:00")),
            Status::Closed
        );
        assert_eq!(
            status(&hours, taipei_ms("2026-11-30T18:00:00")),
            Status::Closed
        );
        assert_eq!(
            status(&hours, taipei_ms("2026-12-01T10:00:00")),
            Status::Holiday
        );
        assert_eq!(
            status(&hours, taipei_ms("2026-12-02T10:00:00")),
            Status::Closed
        );
    }

    #[test]
    fn time_of_day_wraps_past_midnight() {
        let at = |s| taipei_ms(s);
        assert!(within(
            "Asia/Taipei",
            "22:00",
            "06:00",
            at("2026-11-30T23:30:00")
        ));
        assert!(within(
            "Asia/Taipei",
            "22:00",
            "06:00",
            at("2026-11-30T05:59:00")
        ));
        assert!(!within(
            "Asia/Taipei",
            "22:00",
            "06:00",
            at("2026-11-30T12:00:00")
        ));
        assert!(parse_hhmm("24:01").is_err() && parse_hhmm("9").is_err());
    }
}
