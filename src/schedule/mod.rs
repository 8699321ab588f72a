//! Schedules: parse what GoodJob users write in `cron:` (fugit's cron and natural-language
//! grammar) and compute their instants, in the schedule's zone, with a fixed DST policy.

mod civil;
mod cron;
mod nat;
mod zone;

#[cfg(test)]
mod tests;

use cron::Cron;
use std::fmt;
use zone::Zone;

/// A schedule that failed to parse: the input and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub input: String,
    pub reason: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 80;
        let shown: String = self.input.chars().take(SHOWN).collect();
        let more = if self.input.chars().count() > SHOWN {
            "…"
        } else {
            ""
        };
        write!(f, "invalid schedule {shown:?}{more}: {}", self.reason)
    }
}

impl std::error::Error for ParseError {}

/// A parsed schedule: one cron line evaluated in one zone.
#[derive(Clone, Debug)]
pub struct Schedule {
    source: String,
    cron: Cron,
    zone: Zone,
}

/// The longest schedule read, in bytes, as in fugit 1.14 (`Fugit::MAX_INPUT_BYTES`): far
/// beyond any real one (a cron line listing every second, minute and hour is under 400), and
/// short enough that a parse takes well under a millisecond, holding the GVL.
pub const MAX_LENGTH: usize = 1024;

/// fugit's own limit for natural language (`Fugit::Nat::MAX_INPUT_LENGTH`), in characters
/// after the surrounding whitespace: fugit reads no longer "every ..." schedule.
pub const MAX_NATURAL_LENGTH: usize = 256;

const ALIASES: [(&str, &str); 8] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@noon", "0 12 * * *"),
    ("@hourly", "0 * * * *"),
];

impl Schedule {
    /// Parses `input` (at most `MAX_LENGTH` bytes); without a zone suffix it is evaluated
    /// in the process zone (`TZ`).
    pub fn parse(input: &str) -> Result<Schedule, ParseError> {
        let length = input.len();
        if length > MAX_LENGTH {
            return Err(ParseError {
                input: input.chars().take(40).chain("…".chars()).collect(),
                reason: format!(
                    "it is {length} bytes long; a schedule has at most {MAX_LENGTH} (fugit's limit)"
                ),
            });
        }
        Self::parse_any_length(input, MAX_NATURAL_LENGTH)
    }

    /// `parse` without its length limit, natural language up to `natural_max` characters: the
    /// parsers' cost is linear in the input.
    fn parse_any_length(input: &str, natural_max: usize) -> Result<Schedule, ParseError> {
        let error = |reason: String| ParseError {
            input: input.to_owned(),
            reason,
        };
        let text = input.trim();
        if text.is_empty() {
            return Err(error("it is empty".into()));
        }
        if let Some(bad) = text
            .chars()
            .find(|c| c.is_control() && !matches!(c, ' ' | '\t'))
        {
            return Err(error(format!("it contains the control character {bad:?}")));
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            // fugit (and so GoodJob) reads a bare number as a duration in seconds.
            return Err(error(format!(
                "a number alone is a duration ({text} seconds) for fugit, not a schedule; \
                 write \"every {text} seconds\" or a cron line such as \"0 {text} * * *\""
            )));
        }
        let cron_text = if text.starts_with('@') {
            expand_alias(text).map_err(error)?
        } else {
            match cron_line(text) {
                Ok(cron) => return Schedule::new(input, cron).map_err(error),
                Err(cron_error) if looks_like_cron(text) => match nat::to_cron(text) {
                    Ok(cron_text) if text.chars().count() <= natural_max => cron_text,
                    _ => return Err(error(cron_error)),
                },
                Err(_) => {
                    let length = text.chars().count();
                    if length > natural_max {
                        return Err(error(format!(
                            "it is {length} characters long; natural language has at most \
                             {natural_max} (fugit's limit)"
                        )));
                    }
                    nat::to_cron(text).map_err(error)?
                }
            }
        };
        cron_line(&cron_text)
            .and_then(|cron| Schedule::new(input, cron))
            .map_err(error)
    }

    fn new(source: &str, cron: Cron) -> Result<Schedule, String> {
        let zone = match &cron.zone {
            // cron_line found the zone; the system's zoneinfo may have changed since.
            Some(name) => {
                Zone::named(name).ok_or_else(|| format!("the zone {name} cannot be read"))?
            }
            None => Zone::process(),
        };
        Ok(Schedule {
            source: source.to_owned(),
            cron,
            zone,
        })
    }

    /// The text this schedule was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The normalized cron line, as fugit's `to_cron_s` writes it.
    pub fn to_cron(&self) -> &str {
        &self.cron.text
    }

    /// The zone the schedule is evaluated in.
    pub fn time_zone(&self) -> &str {
        &self.zone.name
    }

    /// The zone's UTC offset at `t`, in seconds.
    pub fn utc_offset_at(&self, t: i64) -> i64 {
        self.zone.segment(t).offset
    }

    /// Spring forward: whether the clock jumping at `start` from UTC offset `before` to
    /// `offset` skips a fixed time of this schedule, which then runs once, as the gap ends.
    fn runs_as_gap_ends(&self, start: i64, before: i64, offset: i64) -> bool {
        !self.cron.hours_follow_instants
            && before < offset
            && self
                .cron
                .next_local(start + before)
                .is_some_and(|l| l < start + offset)
    }

    /// Fall back: whether the clock going back from UTC offset `before` to `offset` repeats
    /// an hour whose fixed times of this schedule run on the first pass only.
    fn repeats(&self, before: i64, offset: i64) -> bool {
        !self.cron.hours_follow_instants && before > offset
    }

    /// The first instant strictly after `t` (seconds since the Unix epoch).
    pub fn next_after(&self, t: i64) -> Option<i64> {
        let mut from = t.checked_add(1)?;
        loop {
            let segment = self.zone.segment(from);
            let offset = segment.offset;
            let mut earliest_local = from + offset;
            if let Some((start, before)) = segment.start {
                if from == start && self.runs_as_gap_ends(start, before, offset) {
                    return Some(start);
                }
                if self.repeats(before, offset) {
                    // A fixed time in the repeated hour ran on its first pass.
                    earliest_local = earliest_local.max(start + before);
                }
            }
            let candidate = self.cron.next_local(earliest_local)? - offset;
            match segment.end {
                Some((end, _)) if candidate >= end => from = end,
                _ => return Some(candidate),
            }
        }
    }

    /// The next `count` instants after `t`, fewer if the schedule stops.
    pub fn upcoming(&self, t: i64, count: usize) -> Vec<i64> {
        std::iter::successors(self.next_after(t), |at| self.next_after(*at))
            .take(count)
            .collect()
    }

    /// Every instant from `first` to `last`, both included.
    pub fn within(&self, first: i64, last: i64) -> impl Iterator<Item = i64> + '_ {
        std::iter::successors(self.next_after(first - 1), |at| self.next_after(*at))
            .take_while(move |at| *at <= last)
    }

    /// The last instant strictly before `t`.
    pub fn previous_before(&self, t: i64) -> Option<i64> {
        let mut to = t.checked_sub(1)?;
        loop {
            let segment = self.zone.segment(to);
            let offset = segment.offset;
            let candidate = self.cron.prev_local(to + offset).map(|l| (l, l - offset));
            let Some((start, before)) = segment.start else {
                return candidate.map(|(_, at)| at);
            };
            if let Some((local, at)) = candidate {
                if at >= start && !(self.repeats(before, offset) && local < start + before) {
                    return Some(at);
                }
            }
            if self.runs_as_gap_ends(start, before, offset) {
                return Some(start);
            }
            to = start - 1;
        }
    }
}

/// `@daily`, optionally followed by a zone (which fugit 1.5 does not read, newer fugit does).
fn expand_alias(text: &str) -> Result<String, String> {
    let (alias, zone) = match text.split_once([' ', '\t']) {
        Some((alias, zone)) => (alias, Some(zone.trim())),
        None => (text, None),
    };
    let lower = alias.to_ascii_lowercase();
    let Some((_, cron)) = ALIASES.iter().find(|(name, _)| *name == lower) else {
        let known: Vec<&str> = ALIASES.iter().map(|(name, _)| *name).collect();
        return Err(format!(
            "unknown alias {alias:?}; known aliases are {}",
            known.join(" ")
        ));
    };
    Ok(match zone {
        Some(zone) => format!("{cron} {zone}"),
        None => (*cron).to_owned(),
    })
}

/// Input that starts like a cron line gets the cron parser's error, not the natural one's.
fn looks_like_cron(text: &str) -> bool {
    !text.starts_with(|c: char| c.is_alphabetic())
}

/// A cron line: 5 or 6 fields and an optional zone. Six tokens are read as six fields first,
/// then as five fields and a zone, as fugit does.
fn cron_line(text: &str) -> Result<Cron, String> {
    let tokens: Vec<&str> = text.split([' ', '\t']).filter(|t| !t.is_empty()).collect();
    match tokens.len() {
        0..=5 => cron::parse_fields(&tokens, None),
        6 => cron::parse_fields(&tokens, None).or_else(|six_fields| {
            if looks_like_zone(tokens[5]) {
                with_zone(&tokens[..5], tokens[5])
            } else {
                Err(six_fields)
            }
        }),
        7 => with_zone(&tokens[..6], tokens[6]),
        n => Err(format!(
            "expected 5 fields (minute hour day month weekday), or 6 with seconds first, plus an optional time zone; found {n} words"
        )),
    }
}

fn looks_like_zone(token: &str) -> bool {
    (token.starts_with(|c: char| c.is_ascii_uppercase() || c == '+' || c == '-')
        || token.contains('/'))
        && !token.contains(['*', ',', '#'])
}

fn with_zone(fields: &[&str], zone: &str) -> Result<Cron, String> {
    let known = zone.starts_with(|c: char| !c.is_ascii_lowercase()) && Zone::named(zone).is_some();
    if !known {
        return Err(unknown_zone(zone));
    }
    cron::parse_fields(fields, Some(zone))
}

/// The error for a zone name that is not one, with its right case when only the case is wrong.
fn unknown_zone(zone: &str) -> String {
    let hint = match Zone::named(zone).and_then(|z| z.canonical_name().map(str::to_owned)) {
        Some(name) => format!("zone names are case-sensitive: {name}"),
        None => {
            "expected an IANA name such as America/New_York, or an offset such as +05:30".to_owned()
        }
    };
    format!("unknown time zone {} ({hint})", cron::shown(zone))
}
