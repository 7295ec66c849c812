//! Clock rules in the store's own time zone: opening hours, time windows (breakfast-only),
//! and the business date that a late-night order belongs to.

use crate::validation::{FieldErrors, Problem};
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// A wall-clock time of day, minute precision, written "HH:MM". "24:00" means end of day.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "11:00", pattern = "^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(24 * 60);

    /// Exactly "HH:MM", as the document's pattern says: no "9:00", no spaces, no "+9:00".
    pub fn parse(text: &str) -> Result<TimeOfDay, Problem> {
        let digits = |part: &str| {
            (part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<u16>().ok())
                .flatten()
                .ok_or(Problem::InvalidTime)
        };
        let (h, m) = text.split_once(':').ok_or(Problem::InvalidTime)?;
        let (h, m) = (digits(h)?, digits(m)?);
        if m >= 60 || h > 24 || (h == 24 && m != 0) {
            return Err(Problem::InvalidTime);
        }
        Ok(TimeOfDay(h * 60 + m))
    }

    pub fn from_minutes(minutes: u16) -> Option<TimeOfDay> {
        (minutes <= 24 * 60).then_some(TimeOfDay(minutes))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }

    fn of(time: Time) -> TimeOfDay {
        TimeOfDay(time.hour() as u16 * 60 + time.minute() as u16)
    }
}

impl std::fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        TimeOfDay::parse(&text).map_err(|_| serde::de::Error::custom("expected a time as HH:MM"))
    }
}

/// Days of the week as a set; serialized as ISO weekday numbers (1 = Monday … 7 = Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Weekdays(u8);

/// At least one day, each 1–7: a window without days is refused (`TimeWindow::validate`).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Weekdays {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        let day = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(7));
        ArrayBuilder::new()
            .items(day)
            .min_items(Some(1))
            .description(Some(
                "Days of the week as ISO weekday numbers (1 = Monday … 7 = Sunday).",
            ))
            .examples([serde_json::json!([1, 2, 3, 4, 5])])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Weekdays {}

impl Weekdays {
    pub const ALL: Weekdays = Weekdays(0b111_1111);
    pub const MON_TO_FRI: Weekdays = Weekdays(0b001_1111);

    pub fn from_iso_numbers(numbers: &[u8]) -> Result<Weekdays, Problem> {
        let mut bits = 0u8;
        for &n in numbers {
            if !(1..=7).contains(&n) {
                return Err(Problem::OutOfRange { min: 1, max: 7 });
            }
            bits |= 1 << (n - 1);
        }
        Ok(Weekdays(bits))
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << (day.to_monday_one_offset() - 1)) != 0
    }

    pub fn iso_numbers(self) -> Vec<u8> {
        (1..=7).filter(|n| self.0 & (1 << (n - 1)) != 0).collect()
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl Serialize for Weekdays {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.iso_numbers().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Weekdays {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let numbers = Vec::<u8>::deserialize(d)?;
        Weekdays::from_iso_numbers(&numbers)
            .map_err(|_| serde::de::Error::custom("weekdays are numbers 1 (Monday) to 7 (Sunday)"))
    }
}

/// A daily window on some weekdays. `end` before `start` crosses midnight (17:00–02:00):
/// the part after midnight still belongs to the weekday the window started on. `end` equal to
/// `start` is an empty window that adds nothing to its schedule: a slip shows as hours that
/// never open, never as a store open around the clock.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    pub weekdays: Weekdays,
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

impl TimeWindow {
    pub fn validate(&self, errors: &mut FieldErrors, field: &str) {
        if self.weekdays.is_empty() {
            errors.add(format!("{field}.weekdays"), Problem::Empty);
        }
    }

    fn crosses_midnight(&self) -> bool {
        self.end < self.start
    }

    fn contains(&self, at: DateTime) -> bool {
        let minute = TimeOfDay::of(at.time());
        if self.crosses_midnight() {
            (self.weekdays.contains(at.weekday()) && minute >= self.start)
                || (self.weekdays.contains(at.weekday().previous()) && minute < self.end)
        } else {
            self.weekdays.contains(at.weekday()) && minute >= self.start && minute < self.end
        }
    }
}

/// When something is available: no windows means always.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Schedule(Vec<TimeWindow>);

impl Schedule {
    pub const MAX_WINDOWS: usize = 14;

    pub fn always() -> Schedule {
        Schedule(Vec::new())
    }

    pub fn new(windows: Vec<TimeWindow>) -> Schedule {
        Schedule(windows)
    }

    pub fn windows(&self) -> &[TimeWindow] {
        &self.0
    }

    pub fn is_always(&self) -> bool {
        self.0.is_empty()
    }

    pub fn validate(&self, errors: &mut FieldErrors, field: &str) {
        if self.0.len() > Self::MAX_WINDOWS {
            errors.add(
                field,
                Problem::TooLarge {
                    max: Self::MAX_WINDOWS as i64,
                },
            );
        }
        for (i, window) in self.0.iter().enumerate() {
            window.validate(errors, &format!("{field}[{i}]"));
        }
    }

    pub fn contains(&self, at: DateTime) -> bool {
        self.is_always() || self.0.iter().any(|w| w.contains(at))
    }

    /// The first minute after `at`, within the coming week, at which `contains` changes:
    /// a cache of "what is orderable now" is valid until then.
    pub fn next_change_after(&self, at: DateTime) -> Option<DateTime> {
        if self.is_always() {
            return None;
        }
        let now = self.contains(at);
        let start = at.with().second(0).subsec_nanosecond(0).build().ok()?;
        (1..=7 * 24 * 60)
            .filter_map(|m| start.checked_add(m.minutes()).ok())
            .find(|candidate| self.contains(*candidate) != now)
    }

    /// The next time at or after `at` when the schedule is in force (for "opens at 11:00").
    pub fn next_start_at_or_after(&self, at: DateTime) -> Option<DateTime> {
        if self.contains(at) {
            return Some(at);
        }
        self.next_change_after(at)
    }
}

/// A store's trading day. Orders placed before the day's start cut-off (say 04:00)
/// belong to the previous business date, so a 01:30 supper order counts for yesterday.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Date))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BusinessDate(Date);

impl BusinessDate {
    pub fn of(at: Timestamp, zone: &TimeZone, day_starts_at: TimeOfDay) -> BusinessDate {
        let local = at.to_zoned_datetime(zone.clone()).datetime();
        let date = local.date();
        if TimeOfDay::of(local.time()) < day_starts_at {
            BusinessDate(date.yesterday().unwrap_or(date))
        } else {
            BusinessDate(date)
        }
    }

    pub fn date(self) -> Date {
        self.0
    }

    pub fn from_date(date: Date) -> BusinessDate {
        BusinessDate(date)
    }
}

impl std::fmt::Display for BusinessDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A store's time zone: its IANA name, parsed once when it enters the system (a request, a
/// stored row), so business dates and hours never re-parse it or meet an unknown name.
#[derive(Clone)]
pub struct StoreTimeZone {
    name: String,
    zone: TimeZone,
}

impl StoreTimeZone {
    pub fn parse(name: &str) -> Result<StoreTimeZone, Problem> {
        let name = name.trim();
        if name.len() > 64 {
            return Err(Problem::TooLong { max: 64 });
        }
        Ok(StoreTimeZone {
            zone: parse_time_zone(name)?,
            name: name.to_owned(),
        })
    }

    /// Shanghai, the zone of the demo and of most of our stores.
    pub fn shanghai() -> StoreTimeZone {
        StoreTimeZone::parse("Asia/Shanghai").expect("bundled zone")
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The business day `at` falls in when the day rolls over at `day_starts_at`.
    pub fn business_date(&self, at: Timestamp, day_starts_at: TimeOfDay) -> BusinessDate {
        BusinessDate::of(at, &self.zone, day_starts_at)
    }
}

impl std::fmt::Debug for StoreTimeZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.name)
    }
}

impl PartialEq for StoreTimeZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl serde::Serialize for StoreTimeZone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.name)
    }
}

impl<'de> serde::Deserialize<'de> for StoreTimeZone {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        StoreTimeZone::parse(&name)
            .map_err(|_| serde::de::Error::custom(format!("unknown time zone {name:?}")))
    }
}

/// Parses an IANA time-zone name such as "Asia/Shanghai" from the bundled database.
pub fn parse_time_zone(name: &str) -> Result<TimeZone, Problem> {
    TimeZone::get(name.trim()).map_err(|_| Problem::InvalidChoice {
        allowed: vec!["Asia/Shanghai".into(), "Asia/Hong_Kong".into(), "…".into()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn window(days: Weekdays, start: &str, end: &str) -> TimeWindow {
        TimeWindow {
            weekdays: days,
            start: TimeOfDay::parse(start).unwrap(),
            end: TimeOfDay::parse(end).unwrap(),
        }
    }

    #[test]
    fn parses_times_of_day() {
        assert_eq!(TimeOfDay::parse("07:30").unwrap().minutes(), 450);
        assert_eq!(TimeOfDay::parse("24:00"), Ok(TimeOfDay::END_OF_DAY));
        assert!(TimeOfDay::parse("24:01").is_err());
        assert!(TimeOfDay::parse("7.30").is_err());
        assert!(TimeOfDay::parse("12:60").is_err());
        // Only what the document's pattern admits: two digits each, nothing around them.
        for loose in ["7:30", " 07:30", "07:30 ", "+7:30", "007:30", "07:5", ""] {
            assert!(TimeOfDay::parse(loose).is_err(), "{loose:?}");
        }
    }

    #[test]
    fn breakfast_window_only_on_weekday_mornings() {
        let breakfast = Schedule::new(vec![window(Weekdays::MON_TO_FRI, "06:30", "10:00")]);
        // 2026-11-23 is a Monday.
        assert!(breakfast.contains(date(2026, 11, 23).at(7, 0, 0, 0)));
        assert!(!breakfast.contains(date(2026, 11, 23).at(10, 0, 0, 0)));
        assert!(
            !breakfast.contains(date(2026, 11, 28).at(7, 0, 0, 0)),
            "Saturday"
        );
        assert_eq!(
            breakfast.next_change_after(date(2026, 11, 23).at(9, 15, 30, 0)),
            Some(date(2026, 11, 23).at(10, 0, 0, 0))
        );
        assert_eq!(
            breakfast.next_start_at_or_after(date(2026, 11, 27).at(11, 0, 0, 0)),
            Some(date(2026, 11, 30).at(6, 30, 0, 0)),
            "Friday noon: next breakfast is Monday"
        );
    }

    #[test]
    fn late_window_crosses_midnight_and_belongs_to_its_start_day() {
        let supper = Schedule::new(vec![window(
            Weekdays::from_iso_numbers(&[5]).unwrap(),
            "22:00",
            "02:00",
        )]);
        assert!(
            supper.contains(date(2026, 11, 27).at(23, 0, 0, 0)),
            "Friday 23:00"
        );
        assert!(
            supper.contains(date(2026, 11, 28).at(1, 0, 0, 0)),
            "Saturday 01:00 is Friday night"
        );
        assert!(
            !supper.contains(date(2026, 11, 29).at(1, 0, 0, 0)),
            "Sunday 01:00 is not"
        );
    }

    #[test]
    fn business_date_rolls_over_at_cutoff() {
        let shanghai = TimeZone::get("Asia/Shanghai").unwrap();
        let four = TimeOfDay::parse("04:00").unwrap();
        // 2026-11-26 17:30 UTC is 2026-11-27 01:30 in Shanghai.
        let late: Timestamp = "2026-11-26T17:30:00Z".parse().unwrap();
        assert_eq!(
            BusinessDate::of(late, &shanghai, four).date(),
            date(2026, 11, 26)
        );
        let morning: Timestamp = "2026-11-26T21:00:00Z".parse().unwrap();
        assert_eq!(
            BusinessDate::of(morning, &shanghai, four).date(),
            date(2026, 11, 27)
        );
    }
}
