//! The cron grammar GoodJob users write, read as fugit 1.14 reads it: 5 fields, or 6 with
//! seconds first, then an optional zone. Values follow fugit's expansion rules (wrapping
//! ranges, `/n` alone meaning `*/n`, `n/s` running to the field's end, a whole-field range
//! meaning `*`, hour 24 meaning 0, negative days counting from the end, `&` wanting both day
//! fields). fugit's `~` picks a random value; here the pick is derived from the line's text,
//! so every process reads a line alike.

mod parse;

#[cfg(test)]
mod tests;

use super::civil::{days_in_month, Date, DAY};

pub(crate) use parse::{parse_fields, shown, Field};

/// Days of the month, or `None` for `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MonthDays {
    /// Bit d set: day d (1..=31).
    from_start: u32,
    /// Bit k set: the k-th day counted from the end (1 = last).
    from_end: u32,
}

/// One element of the weekday field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Weekday {
    Every(u8),
    /// The n-th such weekday of the month; negative counts from the end.
    Nth(u8, i8),
    /// Such weekdays whose week number since 2019-01-01, modulo `modulo`, is `offset`'s.
    Modulo {
        day: u8,
        modulo: u32,
        offset: u32,
    },
}

/// A parsed cron line: the values of each field and what they mean for day matching.
#[derive(Clone, Debug)]
pub(crate) struct Cron {
    seconds: u64,
    minutes: u64,
    hours: u32,
    months: u16,
    monthdays: Option<MonthDays>,
    weekdays: Option<Vec<Weekday>>,
    /// Both day fields must match (`&`), rather than either.
    days_and: bool,
    /// The hour field has a `*` or a step: runs follow real instants across DST changes.
    pub hours_follow_instants: bool,
    /// The zone suffix as written, if any.
    pub zone: Option<String>,
    /// fugit's normalized text (`to_cron_s`).
    pub text: String,
}

/// Seconds since 2019-01-01 local midnight, in days, for fugit's `%` weekday rule.
const MODULO_EPOCH_DAYS: i64 = 17_897;
/// How far a search goes before giving up (a 5th Monday of February can take 40 years).
const HORIZON_YEARS: i64 = 400;

fn next_bit(mask: u64, from: u32) -> Option<u32> {
    (from < 64)
        .then(|| mask >> from)
        .filter(|m| *m != 0)
        .map(|m| from + m.trailing_zeros())
}

fn prev_bit(mask: u64, upto: u32) -> Option<u32> {
    let m = mask & (u64::MAX >> (63 - upto.min(63)));
    (m != 0).then(|| 63 - m.leading_zeros())
}

/// Which way a search within a day goes: `Later` for the next run, `Earlier` for the last.
#[derive(Clone, Copy)]
enum Direction {
    Later,
    Earlier,
}

impl Direction {
    /// Where a minute or second search starts once the hour or minute has moved.
    fn start(self) -> u32 {
        match self {
            Direction::Later => 0,
            Direction::Earlier => 59,
        }
    }

    /// The nearest bit of `mask` set at `from` or beyond it.
    fn nearest(self, mask: u64, from: u32) -> Option<u32> {
        match self {
            Direction::Later => next_bit(mask, from),
            Direction::Earlier => prev_bit(mask, from),
        }
    }

    /// The value one beyond `value`.
    fn step(self, value: u32) -> Option<u32> {
        match self {
            Direction::Later => value.checked_add(1),
            Direction::Earlier => value.checked_sub(1),
        }
    }
}

impl Cron {
    fn day_matches(&self, date: Date, weekday: u32, month_length: u32) -> bool {
        let monthday = self.monthdays.as_ref().map(|md| {
            md.from_start >> date.day & 1 == 1
                || md.from_end >> (month_length + 1 - date.day) & 1 == 1
        });
        let weekday = self.weekdays.as_ref().map(|ws| {
            ws.iter().any(|w| match *w {
                Weekday::Every(d) => u32::from(d) == weekday,
                Weekday::Nth(d, n) if n > 0 => {
                    u32::from(d) == weekday && (date.day - 1) / 7 + 1 == n as u32
                }
                Weekday::Nth(d, n) => {
                    u32::from(d) == weekday
                        && (month_length - date.day) / 7 + 1 == n.unsigned_abs() as u32
                }
                Weekday::Modulo {
                    day,
                    modulo,
                    offset,
                } => {
                    let week = (date.days() - MODULO_EPOCH_DAYS).div_euclid(7) + 1;
                    let modulo = i64::from(modulo);
                    u32::from(day) == weekday
                        && week.rem_euclid(modulo) == i64::from(offset) % modulo
                }
            })
        });
        match (monthday, weekday) {
            (Some(a), Some(b)) if self.days_and => a && b,
            (Some(a), Some(b)) => a || b, // both restricted: either matches (man 5 crontab)
            (a, b) => a.unwrap_or(true) && b.unwrap_or(true),
        }
    }

    /// The nearest second of the day from `second_of_day` on, going `way`, that matches,
    /// if any (`second_of_day` itself included).
    fn time_of_day(&self, second_of_day: u32, way: Direction) -> Option<u32> {
        let (h0, m0, s0) = (
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60,
        );
        let hours = u64::from(self.hours);
        let mut hour = way.nearest(hours, h0)?;
        let (mut minute, mut second) = if hour == h0 {
            (m0, s0)
        } else {
            (way.start(), way.start())
        };
        loop {
            if let Some(m) = way.nearest(self.minutes, minute) {
                let from = if m == minute { second } else { way.start() };
                if let Some(s) = way.nearest(self.seconds, from) {
                    return Some(hour * 3600 + m * 60 + s);
                }
                if let Some(m) = way.step(m).and_then(|m| way.nearest(self.minutes, m)) {
                    let s = way.nearest(self.seconds, way.start())?;
                    return Some(hour * 3600 + m * 60 + s);
                }
            }
            hour = way.step(hour).and_then(|h| way.nearest(hours, h))?;
            (minute, second) = (way.start(), way.start());
        }
    }

    /// The first matching local time at or after `local` (seconds on the wall clock).
    pub fn next_local(&self, local: i64) -> Option<i64> {
        let mut date = Date::from_days(local.div_euclid(DAY));
        let mut second_of_day = local.rem_euclid(DAY) as u32;
        let horizon = date.year + HORIZON_YEARS;
        while date.year <= horizon {
            let next_month = next_bit(u64::from(self.months), date.month);
            if next_month != Some(date.month) {
                date = match next_month {
                    Some(month) => Date {
                        year: date.year,
                        month,
                        day: 1,
                    },
                    None => Date {
                        year: date.year + 1,
                        month: self.months.trailing_zeros(),
                        day: 1,
                    },
                };
                second_of_day = 0;
                continue;
            }
            let length = date.days_in_month();
            let mut weekday = date.weekday();
            while date.day <= length {
                if self.day_matches(date, weekday, length) {
                    if let Some(t) = self.time_of_day(second_of_day, Direction::Later) {
                        return Some(date.days() * DAY + i64::from(t));
                    }
                }
                date.day += 1;
                weekday = (weekday + 1) % 7;
                second_of_day = 0;
            }
            date = if date.month == 12 {
                Date {
                    year: date.year + 1,
                    month: 1,
                    day: 1,
                }
            } else {
                Date {
                    year: date.year,
                    month: date.month + 1,
                    day: 1,
                }
            };
        }
        None
    }

    /// The last matching local time at or before `local`.
    pub fn prev_local(&self, local: i64) -> Option<i64> {
        const LAST_SECOND: u32 = DAY as u32 - 1;
        let mut date = Date::from_days(local.div_euclid(DAY));
        let mut second_of_day = local.rem_euclid(DAY) as u32;
        let horizon = date.year - HORIZON_YEARS;
        while date.year >= horizon {
            let prev_month = prev_bit(u64::from(self.months), date.month);
            if prev_month != Some(date.month) {
                let (year, month) = match prev_month.filter(|m| *m >= 1) {
                    Some(month) => (date.year, month),
                    None => (date.year - 1, 15 - self.months.leading_zeros()),
                };
                date = Date {
                    year,
                    month,
                    day: days_in_month(year, month),
                };
                second_of_day = LAST_SECOND;
                continue;
            }
            let length = date.days_in_month();
            let mut weekday = date.weekday();
            loop {
                if self.day_matches(date, weekday, length) {
                    if let Some(t) = self.time_of_day(second_of_day, Direction::Earlier) {
                        return Some(date.days() * DAY + i64::from(t));
                    }
                }
                second_of_day = LAST_SECOND;
                if date.day == 1 {
                    break;
                }
                date.day -= 1;
                weekday = (weekday + 6) % 7;
            }
            let (year, month) = if date.month == 1 {
                (date.year - 1, 12)
            } else {
                (date.year, date.month - 1)
            };
            date = Date {
                year,
                month,
                day: days_in_month(year, month),
            };
        }
        None
    }
}
