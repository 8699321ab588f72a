//! Time zones from the system's zoneinfo, and the stretches of constant UTC offset between
//! their transitions, which is all a schedule needs to map wall-clock times to instants.

use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

/// A zone and the name it was given.
#[derive(Clone, Debug)]
pub(crate) struct Zone {
    pub name: String,
    tz: TimeZone,
}

/// A stretch of time with one UTC offset. `start`/`end` are the transitions around it, each
/// with the offset on its far side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub offset: i64,
    pub start: Option<(i64, i64)>,
    pub end: Option<(i64, i64)>,
}

impl Zone {
    /// An IANA name ("America/New_York") or a fixed offset ("+05:30", "-0800").
    pub fn named(name: &str) -> Option<Zone> {
        let tz = fixed_offset(name).or_else(|| TimeZone::get(name).ok())?;
        Some(Zone {
            name: name.to_owned(),
            tz,
        })
    }

    /// The process zone, read now: `TZ` if set (a zone name, a zoneinfo path or a POSIX rule,
    /// as the C library reads it), else /etc/localtime. Read on each call rather than cached,
    /// so that a change of `ENV["TZ"]` in Ruby is seen by the next schedule parsed.
    pub fn process() -> Zone {
        match std::env::var("TZ") {
            Ok(value) if !value.is_empty() => {
                let name = value.strip_prefix(':').unwrap_or(&value);
                let tz = if name.starts_with('/') {
                    std::fs::read(name)
                        .ok()
                        .and_then(|data| TimeZone::tzif(name, &data).ok())
                } else {
                    TimeZone::get(name)
                        .ok()
                        .or_else(|| TimeZone::posix(name).ok())
                };
                // Like the C library, an unreadable TZ means UTC.
                Zone {
                    name: name.to_owned(),
                    tz: tz.unwrap_or(TimeZone::UTC),
                }
            }
            _ => {
                let tz = TimeZone::try_system().unwrap_or(TimeZone::UTC);
                let name = tz.iana_name().unwrap_or("UTC").to_owned();
                Zone { name, tz }
            }
        }
    }

    /// The zone database's own spelling of this zone's name, if it has one.
    pub fn canonical_name(&self) -> Option<&str> {
        self.tz.iana_name()
    }

    /// The segment holding the instant `at` (seconds since the Unix epoch).
    pub fn segment(&self, at: i64) -> Segment {
        let Ok(ts) = Timestamp::from_second(at) else {
            return Segment {
                offset: 0,
                start: None,
                end: None,
            };
        };
        let offset = i64::from(self.tz.to_offset(ts).seconds());
        let start = self
            .tz
            .preceding(Timestamp::from_second(at + 1).unwrap_or(ts))
            .next()
            .map(|t| {
                let at = t.timestamp().as_second();
                let before = self
                    .tz
                    .to_offset(Timestamp::from_second(at - 1).unwrap_or(t.timestamp()));
                (at, i64::from(before.seconds()))
            });
        let end = self
            .tz
            .following(ts)
            .next()
            .map(|t| (t.timestamp().as_second(), i64::from(t.offset().seconds())));
        Segment { offset, start, end }
    }
}

/// fugit's offset zones: `+05:30`, `-0800`, `+05`.
fn fixed_offset(name: &str) -> Option<TimeZone> {
    let (sign, rest) = match name.as_bytes().first()? {
        b'+' => (1, &name[1..]),
        b'-' => (-1, &name[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits.get(2..).map_or(Some(0), |m| m.parse().ok())?;
    if hours > 24 || ![0, 15, 30, 45].contains(&minutes) {
        return None;
    }
    let offset = Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()?;
    Some(TimeZone::fixed(offset))
}
