//! Time as stores sort and group it: fixed-width UTC timestamps whose string order is their
//! time order (sort keys in DynamoDB and SQLite), and the UTC calendar day of the report;
//! and time as people read it: an event's times on its own clock, for its pages and emails.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use time::{Date, OffsetDateTime};

use super::event::Event;

/// `YYYY-MM-DD` (ISO 8601 calendar date), the report's day and its storage key.
pub const DAY_FORMAT: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

/// `day` as `YYYY-MM-DD`.
pub fn format_day(day: Date) -> String {
    // Writing a Date with its own components cannot fail; the fallback is unreachable.
    day.format(DAY_FORMAT).unwrap_or_default()
}

/// The `YYYY-MM-DD` day in `text`; an error for anything else.
pub fn parse_day(text: &str) -> Result<Date, time::error::Parse> {
    Date::parse(text, DAY_FORMAT)
}

/// A fixed-width UTC timestamp (`2027-03-01T18:00:00.000000000Z`) whose string order is
/// its time order, for sort keys in stores that compare strings.
pub fn sortable_time(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.nanosecond()
    )
}

/// The event's times in its own time zone, as the pages show them (`when.html`).
pub struct When {
    /// The start as the page reads it, e.g. "Monday 1 March 2027, 19:00 CET".
    pub starts: String,
    /// The start as RFC 3339 with the local offset (`<time datetime>`).
    pub starts_iso: String,
    /// The end; only the time when it ends on the day it starts.
    pub ends: Option<String>,
    /// The end as RFC 3339 with the local offset; empty without an end.
    pub ends_iso: String,
}

/// The pages' date and time: "Monday 1 March 2027, 19:00 CET" (chrono's `strftime`).
pub const DAY_AND_TIME: &str = "%A %-d %B %Y, %H:%M %Z";

/// The instant `at` as chrono (which the tz database and iCalendar crates take) holds it.
pub fn chrono_utc(at: OffsetDateTime) -> DateTime<Utc> {
    // Every `time` instant (years ±9999) is within chrono's range: the default is unreachable.
    DateTime::<Utc>::from_timestamp(at.unix_timestamp(), at.nanosecond()).unwrap_or_default()
}

/// `at` on the wall clock of `zone` (chrono-tz applies the tz database's rules for that
/// instant, daylight saving included).
pub fn local_time(at: OffsetDateTime, zone: Tz) -> DateTime<Tz> {
    chrono_utc(at).with_timezone(&zone)
}

impl When {
    /// The start and end of `event` on its own clock.
    pub fn of(event: &Event) -> Self {
        let starts = local_time(event.date, event.timezone);
        let ends = event.end_date.map(|end| local_time(end, event.timezone));
        Self {
            starts: starts.format(DAY_AND_TIME).to_string(),
            starts_iso: starts.to_rfc3339(),
            ends: ends.map(|ends| {
                let format = if ends.date_naive() == starts.date_naive() {
                    "%H:%M %Z"
                } else {
                    DAY_AND_TIME
                };
                ends.format(format).to_string()
            }),
            ends_iso: ends.map(|ends| ends.to_rfc3339()).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn string_order_is_time_order_across_offsets_and_fractions() {
        let earlier = sortable_time(datetime!(2027-03-01 18:00:00 UTC));
        let later = sortable_time(datetime!(2027-03-01 18:00:00.5 UTC));
        let same_instant_other_offset = sortable_time(datetime!(2027-03-01 20:00:00 +2));
        assert!(earlier < later);
        assert_eq!(earlier, same_instant_other_offset);
        assert_eq!(earlier, "2027-03-01T18:00:00.000000000Z");
    }

    #[test]
    fn days_round_trip() {
        let day = time::macros::date!(2027 - 03 - 01);
        assert_eq!(format_day(day), "2027-03-01");
        assert_eq!(parse_day("2027-03-01").unwrap(), day);
        assert!(parse_day("2027-3-1").is_err());
    }
}
