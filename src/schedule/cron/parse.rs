//! Reading a cron line into a `Cron`: each field's elements, fugit's expansion rules, and its
//! normalized text.

use super::{Cron, MonthDays, Weekday};
use std::fmt::Write as _;

/// A field of a cron line; natural language steps through the same fields.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Second,
    Minute,
    Hour,
    MonthDay,
    Month,
    WeekDay,
}

impl Field {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::Second => "second",
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::MonthDay => "day-of-month",
            Field::Month => "month",
            Field::WeekDay => "day-of-week",
        }
    }

    /// The range `expand` walks, as fugit passes it.
    pub(crate) fn bounds(self) -> (i32, i32) {
        match self {
            Field::Second | Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::MonthDay => (1, 31),
            Field::Month => (1, 12),
            Field::WeekDay => (0, 6),
        }
    }

    /// Reads one value; `None` when the text is not a value of this field.
    fn value(self, text: &str) -> Option<i32> {
        const MONTHS: [&str; 12] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
        let lower = text.to_ascii_lowercase();
        let named = |names: &[&str]| names.iter().position(|n| *n == lower);
        let number = |max_digits: usize, min: i32, max: i32| {
            let ok = !text.is_empty()
                && text.len() <= max_digits
                && text.bytes().all(|b| b.is_ascii_digit());
            ok.then(|| text.parse::<i32>().ok())
                .flatten()
                .filter(|v| (min..=max).contains(v))
        };
        match self {
            Field::Second | Field::Minute => number(2, 0, 59),
            Field::Hour => number(2, 0, 24),
            Field::MonthDay => match lower.as_str() {
                "l" | "last" => Some(-1),
                _ => match text.strip_prefix('-') {
                    Some(rest) => number_in(rest, 2, 1, 31).map(|v| -v),
                    None => number(2, 1, 31),
                },
            },
            Field::Month => named(&MONTHS)
                .map(|i| i as i32 + 1)
                .or_else(|| number(2, 1, 12)),
            Field::WeekDay => named(&WEEKDAYS)
                .map(|i| i as i32)
                .or_else(|| number(1, 0, 7)),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Field::Second | Field::Minute => "0-59",
            Field::Hour => "0-23 (24 means 0)",
            Field::MonthDay => "1-31, -1 to -31, L or last",
            Field::Month => "1-12 or jan-dec",
            Field::WeekDay => "0-7 (0 and 7 are Sunday) or sun-sat",
        }
    }
}

fn number_in(text: &str, max_digits: usize, min: i32, max: i32) -> Option<i32> {
    let ok =
        !text.is_empty() && text.len() <= max_digits && text.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.parse::<i32>().ok())
        .flatten()
        .filter(|v| (min..=max).contains(v))
}

/// Parses the fields of a cron line (5 or 6 of them, already split) plus an optional zone.
pub(crate) fn parse_fields(fields: &[&str], zone: Option<&str>) -> Result<Cron, String> {
    let (seconds_text, rest) = match fields.len() {
        6 => (Some(fields[0]), &fields[1..]),
        5 => (None, fields),
        n => {
            return Err(format!(
                "expected 5 fields (minute hour day month weekday), or 6 with seconds first, \
                 plus an optional time zone; found {n}"
            ))
        }
    };
    let mut picks = Picks::of(fields, zone);
    let seconds = match seconds_text {
        Some(text) => values(Field::Second, text, &mut picks)?,
        None => Some(vec![0]),
    };
    let minutes = values(Field::Minute, rest[0], &mut picks)?;
    let hours = values(Field::Hour, rest[1], &mut picks)?.map(|hs| {
        let mut hs: Vec<i32> = hs
            .into_iter()
            .map(|h| if h == 24 { 0 } else { h })
            .collect();
        hs.sort_unstable();
        hs.dedup();
        hs
    });
    let (monthday_text, and_after_monthdays) = without_and(rest[2]);
    let (weekday_text, and_after_weekdays) = without_and(rest[4]);
    let days_and = and_after_monthdays || and_after_weekdays;
    let mut monthdays = values(Field::MonthDay, monthday_text, &mut picks)?;
    let mut months = values(Field::Month, rest[3], &mut picks)?;
    let weekdays = weekdays(weekday_text, &mut picks)?;
    if weekdays.is_none() {
        if let (Some(days), Some(ms)) = (&mut monthdays, &mut months) {
            compact_month_days(days, ms)?;
        }
    }
    let text = normalized_text(
        &seconds,
        &minutes,
        &hours,
        &monthdays,
        &months,
        &weekdays_text(&weekdays, days_and),
        zone,
    );
    let hours_follow_instants = hours.is_none() || rest[1].contains('/');
    Ok(Cron {
        seconds: mask(&seconds, 60),
        minutes: mask(&minutes, 60),
        hours: mask(&hours, 24) as u32,
        months: mask(&months, 13) as u16,
        monthdays: monthdays.map(|days| MonthDays {
            from_start: days.iter().filter(|d| **d > 0).fold(0, |m, d| m | 1 << d),
            from_end: days.iter().filter(|d| **d < 0).fold(0, |m, d| m | 1 << -d),
        }),
        weekdays,
        days_and,
        hours_follow_instants,
        zone: zone.map(str::to_owned),
        text,
    })
}

/// A day field without its trailing `&` (fugit's `and?`), and whether it had one.
fn without_and(text: &str) -> (&str, bool) {
    match text.strip_suffix('&') {
        Some(rest) => (rest, true),
        None => (text, false),
    }
}

/// The values `~` picks: a pseudo-random sequence seeded by the line's text, so a line reads
/// the same in every process and on every parse, and different lines spread their picks.
struct Picks(u64);

impl Picks {
    fn of(fields: &[&str], zone: Option<&str>) -> Picks {
        // FNV-1a: stable across builds and platforms, unlike std's hasher.
        let bytes = fields
            .iter()
            .chain(&zone)
            .flat_map(|t| t.bytes().chain([b' ']));
        Picks(bytes.fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        }))
    }

    /// A value in `0..n` (splitmix64's step and mix).
    fn below(&mut self, n: i32) -> i32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z % n.max(1) as u64) as i32
    }

    /// fugit's `random`: a value of `start~end` (either may be absent), no further than `step`
    /// past `start`, wrapping past the field's end.
    fn pick(
        &mut self,
        (min, max): (i32, i32),
        start: Option<i32>,
        end: Option<i32>,
        step: Option<i32>,
    ) -> i32 {
        let start = start.unwrap_or(min);
        let end = end.unwrap_or(max);
        let mut n = end - start + 1;
        if n <= 0 {
            n += max - min + 1;
        }
        if let Some(step) = step.filter(|s| *s < n) {
            n = step;
        }
        let value = start + self.below(n);
        if value > max {
            value + min - max - 1
        } else {
            value
        }
    }
}

/// Drops listed days that no listed month has, and months with none of the days, as fugit
/// does when the weekday field is `*`; a line left with nothing can never fire.
fn compact_month_days(days: &mut Vec<i32>, months: &mut Vec<i32>) -> Result<(), String> {
    const LONGEST: [i32; 13] = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let fits = |d: i32, m: i32| d <= LONGEST[m as usize];
    let kept_months: Vec<i32> = months
        .iter()
        .copied()
        .filter(|m| days.iter().any(|d| fits(*d, *m)))
        .collect();
    if kept_months.is_empty() {
        let names: Vec<&str> = months.iter().map(|m| month_name(*m)).collect();
        let listed: Vec<String> = days.iter().map(i32::to_string).collect();
        let verb = if names.len() == 1 { "has" } else { "have" };
        return Err(format!(
            "it can never run: {} {verb} no day {}",
            names.join(", "),
            listed.join(", ")
        ));
    }
    days.retain(|d| kept_months.iter().any(|m| fits(*d, *m)));
    *months = kept_months;
    Ok(())
}

fn month_name(month: i32) -> &'static str {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    NAMES[(month - 1) as usize]
}

fn mask(values: &Option<Vec<i32>>, width: u32) -> u64 {
    match values {
        None => u64::MAX >> (64 - width),
        Some(vs) => vs.iter().fold(0, |m, v| m | 1 << v),
    }
}

fn field_error(field: Field, text: &str, what: impl std::fmt::Display) -> String {
    format!("{} field {}: {}", field.name(), shown(text), what)
}

/// Quotes a piece of the input for a message, cut short when it is long.
pub(crate) fn shown(text: &str) -> String {
    const LONGEST: usize = 40;
    if text.chars().count() <= LONGEST {
        format!("{text:?}")
    } else {
        format!("{:?}…", text.chars().take(LONGEST).collect::<String>())
    }
}

/// One element of a field: `*`, `a`, `a-b`, `a~b` (either side optional), each optionally
/// with `/step`, or `/step` alone. A `~` is resolved here: its pick is `start`.
struct Element {
    start: Option<i32>,
    end: Option<i32>,
    step: Option<i32>,
}

fn element(field: Field, text: &str, whole: &str, picks: &mut Picks) -> Result<Element, String> {
    let (base, step) = match text.split_once('/') {
        Some((base, step)) => {
            let step = number_in(step, 2, 0, 99).ok_or_else(|| {
                field_error(
                    field,
                    whole,
                    format!(
                        "step {} must be a number from 1 to 99",
                        shown(&format!("/{step}"))
                    ),
                )
            })?;
            (base, Some(step))
        }
        None => (text, None),
    };
    let value = |v: &str| {
        field.value(v).ok_or_else(|| {
            let what = if v.is_empty() {
                "a value is missing".to_owned()
            } else if v.parse::<i64>().is_ok() {
                format!("{v} is out of range ({})", field.expected())
            } else {
                format!("{} is not {}", shown(v), field.expected())
            };
            field_error(field, whole, what)
        })
    };
    if base == "*" || (base.is_empty() && step.is_some()) {
        return Ok(Element {
            start: None,
            end: None,
            step,
        });
    }
    if let Some((from, to)) = base.split_once('~') {
        let bound = |v: &str| (!v.is_empty()).then(|| value(v)).transpose();
        let (from, to) = (bound(from)?, bound(to)?);
        return Ok(Element {
            start: Some(picks.pick(field.bounds(), from, to, step)),
            end: step.and(to),
            step,
        });
    }
    // A range's dash may be followed by a negative day ("-5--1"), so split after the first value.
    let split = base
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '-')
        .map(|(i, _)| i);
    let (start, end) = match split {
        Some(i) => (value(&base[..i])?, Some(value(&base[i + 1..])?)),
        None => (value(base)?, None),
    };
    Ok(Element {
        start: Some(start),
        end,
        step,
    })
}

/// The elements of a field: extra commas before, between and after them are allowed, as in
/// fugit's `comma` and `comma?`, but not a field of commas alone.
fn parts(field: Field, text: &str) -> Result<impl Iterator<Item = &str>, String> {
    if text.split(',').all(str::is_empty) {
        return Err(field_error(field, text, "a value is missing"));
    }
    Ok(text.split(',').filter(|part| !part.is_empty()))
}

/// Expands a field to its sorted values, `None` meaning `*` (fugit's `expand`, `range` and
/// `do_determine`: an element covering the whole field makes the field `*`).
fn values(field: Field, text: &str, picks: &mut Picks) -> Result<Option<Vec<i32>>, String> {
    let (min, max) = field.bounds();
    let mut all = Vec::new();
    for part in parts(field, text)? {
        let Element { start, end, step } = element(field, part, text, picks)?;
        if step == Some(0) {
            return Err(field_error(field, text, "a step of 0 never advances"));
        }
        let end = if step.is_some() && end.is_none() {
            Some(max)
        } else {
            end
        };
        match (start, end) {
            (None, None) => return Ok(None),
            (Some(start), None) => all.push(start),
            (start, end) => {
                let start = start.unwrap_or(min);
                let end = match end {
                    Some(e) if !(e < 0 && start > 0) => e,
                    _ => max,
                };
                if start < 0 && end > 0 {
                    return Err(field_error(
                        field,
                        text,
                        "a range from a day counted from the end must also end on one (e.g. -5--1)",
                    ));
                }
                if (start, end, step.unwrap_or(1)) == (min, max, 1) {
                    return Ok(None);
                }
                all.extend(
                    wrapping_range(min, max, start, end).step_by(step.unwrap_or(1) as usize),
                );
            }
        }
    }
    all.sort_unstable();
    all.dedup();
    Ok(Some(all))
}

/// fugit's `range`: from start to end, wrapping past the field's maximum (`22-2` hours).
fn wrapping_range(min: i32, max: i32, start: i32, end: i32) -> impl Iterator<Item = i32> {
    let (min, max) = if start < 0 { (-max, -1) } else { (min, max) };
    let mut cur = Some(start);
    let mut end = end;
    std::iter::from_fn(move || {
        let value = cur?;
        cur = if value == end {
            None
        } else if value + 1 > max {
            if end > max {
                end -= max + 1;
            }
            Some(min)
        } else {
            Some(value + 1)
        };
        Some(value)
    })
}

fn weekdays(text: &str, picks: &mut Picks) -> Result<Option<Vec<Weekday>>, String> {
    let mut all = Vec::new();
    for part in parts(Field::WeekDay, text)? {
        let as_day = |v: i32| if v == 7 { 0 } else { v as u8 };
        let weekday = |day: &str| {
            Field::WeekDay.value(day).map(as_day).ok_or_else(|| {
                field_error(
                    Field::WeekDay,
                    text,
                    format!("{} is not a weekday", shown(day)),
                )
            })
        };
        if let Some((day, nth)) = part.split_once('#') {
            let day = weekday(day)?;
            let n = match nth.to_ascii_lowercase().as_str() {
                "l" | "last" => -1,
                other => other
                    .parse::<i8>()
                    .ok()
                    .filter(|n| (1..=5).contains(&n.abs()))
                    .ok_or_else(|| {
                        field_error(
                            Field::WeekDay,
                            text,
                            format!(
                                "{} must be #1 to #5, #-1 to #-5 or #L",
                                shown(&format!("#{nth}"))
                            ),
                        )
                    })?,
            };
            all.push(Weekday::Nth(day, n));
        } else if let Some((day, rule)) = part.split_once('%') {
            let day = weekday(day)?;
            let (modulo, offset) = rule.split_once('+').unwrap_or((rule, "0"));
            let number = |s: &str| {
                s.parse::<u32>()
                    .ok()
                    .filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
            };
            match (number(modulo), number(offset)) {
                (Some(modulo), Some(offset)) if modulo > 0 => all.push(Weekday::Modulo {
                    day,
                    modulo,
                    offset,
                }),
                _ => {
                    return Err(field_error(
                        Field::WeekDay,
                        text,
                        format!(
                            "{} must be %N or %N+M with N at least 1",
                            shown(&format!("%{rule}"))
                        ),
                    ))
                }
            }
        } else {
            let Element { start, end, step } = element(Field::WeekDay, part, text, picks)?;
            // fugit's determine_weekdays reads a weekday step of 0 as 1.
            let step = step.map(|s| s.max(1) as usize);
            let days: Vec<i32> = match (start, end, step) {
                (None, _, step) => (0..=6).step_by(step.unwrap_or(1)).collect(),
                (Some(a), end, Some(step)) => {
                    let z = end.unwrap_or(a);
                    (a..=if a > z { z + 7 } else { z })
                        .step_by(step)
                        .map(|d| d % 7)
                        .collect()
                }
                (Some(a), Some(z), None) => {
                    (a..=if a > z { z + 7 } else { z }).map(|d| d % 7).collect()
                }
                (Some(a), None, None) => vec![a],
            };
            if start.is_none() && step.is_none() {
                continue; // `*` adds nothing, as in fugit
            }
            all.extend(days.into_iter().map(|d| Weekday::Every(as_day(d))));
        }
    }
    all.sort_unstable();
    all.dedup();
    Ok((!all.is_empty()).then_some(all))
}

fn normalized_text(
    seconds: &Option<Vec<i32>>,
    minutes: &Option<Vec<i32>>,
    hours: &Option<Vec<i32>>,
    monthdays: &Option<Vec<i32>>,
    months: &Option<Vec<i32>>,
    weekdays: &str,
    zone: Option<&str>,
) -> String {
    let list = |values: &Option<Vec<i32>>| match values {
        None => "*".to_owned(),
        Some(vs) => vs.iter().map(i32::to_string).collect::<Vec<_>>().join(","),
    };
    let mut text = String::new();
    if seconds.as_deref() != Some(&[0]) {
        text.push_str(&list(seconds));
        text.push(' ');
    }
    let _ = write!(
        text,
        "{} {} {} {} {weekdays}",
        list(minutes),
        list(hours),
        list(monthdays),
        list(months),
    );
    if let Some(zone) = zone {
        text.push(' ');
        text.push_str(zone);
    }
    text
}

/// fugit's `weekdays_to_cron_s`: `&` is shown only with a weekday field.
fn weekdays_text(weekdays: &Option<Vec<Weekday>>, days_and: bool) -> String {
    let Some(ws) = weekdays else {
        return "*".to_owned();
    };
    let mut text = ws
        .iter()
        .map(|w| match w {
            Weekday::Every(d) => d.to_string(),
            Weekday::Nth(d, n) => format!("{d}#{n}"),
            Weekday::Modulo {
                day,
                modulo,
                offset: 0,
            } => format!("{day}%{modulo}"),
            Weekday::Modulo {
                day,
                modulo,
                offset,
            } => format!("{day}%{modulo}+{offset}"),
        })
        .collect::<Vec<_>>()
        .join(",");
    if days_and {
        text.push('&');
    }
    text
}
