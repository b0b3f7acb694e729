//! Time as stores sort and group it: fixed-width UTC timestamps whose string order is their
//! time order (sort keys in DynamoDB and SQLite), and the UTC calendar day of the report.

use time::{Date, OffsetDateTime};

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
