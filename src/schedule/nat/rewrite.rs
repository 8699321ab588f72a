//! fugit's rewrite of the parse tree into slots.

use super::super::cron::Field;
use super::parser::{Kind, Node};
use super::vocabulary::{nhours, nminutes, OMONTHDAYS, WEEKDS};
use regex::Regex;
use std::cmp::Ordering;
use std::fmt;
use std::sync::LazyLock;

/// A Ruby value as fugit's slots hold it: an Integer (kept as canonical decimal digits, since
/// counts may be any length), a String or nil.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Scalar {
    Nil,
    Int(String),
    Str(String),
}

impl Scalar {
    pub(super) fn int(n: u64) -> Scalar {
        Scalar::Int(n.to_string())
    }

    /// Ruby `String#to_i` on text that starts with ASCII digits (as all matched numbers do).
    pub(super) fn to_i(text: &str) -> Scalar {
        let digits = text
            .trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap_or("");
        let digits = digits.trim_start_matches('0');
        Scalar::Int(if digits.is_empty() {
            "0".into()
        } else {
            digits.into()
        })
    }

    pub(super) fn str(text: impl Into<String>) -> Scalar {
        Scalar::Str(text.into())
    }

    fn small(&self) -> Option<u64> {
        match self {
            Scalar::Int(digits) => digits.parse().ok(),
            _ => None,
        }
    }

    /// Ruby `inspect`, as when an Array is interpolated.
    fn inspect(&self) -> String {
        match self {
            Scalar::Nil => "nil".into(),
            Scalar::Int(digits) => digits.clone(),
            Scalar::Str(s) => format!("{s:?}"),
        }
    }
}

/// Ruby `to_s`.
impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Nil => Ok(()),
            Scalar::Int(s) | Scalar::Str(s) => f.write_str(s),
        }
    }
}

/// Ruby's `Array#sort` of values fugit never mixes on purpose: mixed types raise.
pub(super) fn sorted(mut values: Vec<Scalar>) -> Result<Vec<Scalar>, String> {
    let same = |a: &Scalar, b: &Scalar| std::mem::discriminant(a) == std::mem::discriminant(b);
    if values.windows(2).any(|w| !same(&w[0], &w[1])) {
        let shown: Vec<String> = values.iter().map(Scalar::inspect).collect();
        return Err(format!(
            "fugit fails on it: it cannot sort [{}] (numbers mixed with words)",
            shown.join(", ")
        ));
    }
    values.sort_by(numbers_in_order);
    Ok(values)
}

pub(super) fn numbers_in_order(a: &Scalar, b: &Scalar) -> Ordering {
    match (a, b) {
        (Scalar::Int(a), Scalar::Int(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
        (Scalar::Str(a), Scalar::Str(b)) => a.cmp(b),
        _ => Ordering::Equal,
    }
}

/// A slot's `_data0` or `_data1`: nil, one value, or an Array.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) enum Data {
    #[default]
    Nil,
    One(Scalar),
    Many(Vec<Scalar>),
}

impl Data {
    pub(super) fn int(n: u64) -> Data {
        Data::One(Scalar::int(n))
    }

    fn str(text: impl Into<String>) -> Data {
        Data::One(Scalar::str(text))
    }

    fn is_star(&self) -> bool {
        matches!(self, Data::One(Scalar::Str(s)) if s == "*")
    }

    fn into_array(self) -> Vec<Scalar> {
        match self {
            Data::Nil => Vec::new(),
            Data::One(value) => vec![value],
            Data::Many(values) => values,
        }
    }

    /// Ruby `Array(x)`.
    pub(super) fn array(&self) -> Vec<Scalar> {
        match self {
            Data::Nil => Vec::new(),
            Data::One(value) => vec![value.clone()],
            Data::Many(values) => values.clone(),
        }
    }
}

/// Ruby `to_s`, as in `"#{data}"`.
impl fmt::Display for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Data::Nil => Ok(()),
            Data::One(value) => value.fmt(f),
            Data::Many(values) => {
                write!(
                    f,
                    "[{}]",
                    values
                        .iter()
                        .map(Scalar::inspect)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Key {
    Second,
    /// Hours in `d0`, minutes in `d1`.
    Hm,
    Monthday,
    Month,
    Weekday,
    Tz,
    /// Fugit makes e.g. an `:h` slot of "at hour 5" and never reads it.
    Other,
}

/// A slot's `weak:` or `strong:` option: `true` (for every datum) or the index of one datum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Grade {
    All,
    Index(usize),
}

/// Fugit's `Nat::Slot`.
#[derive(Clone, Debug)]
pub(super) struct Slot {
    pub(super) key: Key,
    pub(super) d0: Data,
    pub(super) d1: Data,
    weak: Option<Grade>,
    strong: Option<Grade>,
}

impl Slot {
    pub(super) fn new(key: Key, d0: Data) -> Slot {
        Slot {
            key,
            d0,
            d1: Data::Nil,
            weak: None,
            strong: None,
        }
    }

    pub(super) fn hm(hours: Data, minutes: Data) -> Slot {
        Slot {
            d1: minutes,
            ..Slot::new(Key::Hm, hours)
        }
    }

    fn weak(self, grade: Grade) -> Slot {
        Slot {
            weak: Some(grade),
            ..self
        }
    }

    fn strong(self, grade: Grade) -> Slot {
        Slot {
            strong: Some(grade),
            ..self
        }
    }

    pub(super) fn graded(&self) -> bool {
        self.weak.is_some() || self.strong.is_some()
    }

    pub(super) fn append(&mut self, other: &Slot) -> Result<(), String> {
        (self.d0, self.d1) = (self.conflate(0, other)?, self.conflate(1, other)?);
        (self.weak, self.strong) = (None, None);
        Ok(())
    }

    /// The merged `index` data (taken from `self` when it is a concatenation, so that merging
    /// many slots stays linear).
    fn conflate(&mut self, index: usize, other: &Slot) -> Result<Data, String> {
        let (a, b) = if index == 0 {
            (&self.d0, &other.d0)
        } else {
            (&self.d1, &other.d1)
        };
        if *b == Data::Nil {
            return Ok(a.clone());
        }
        if *a == Data::Nil {
            return Ok(b.clone());
        }
        if index == 0 {
            // Explicit minutes on an hour range ("from 9 to 17 on minute 0") end it an hour early.
            let mut range = None;
            if other.strong == Some(Grade::Index(1)) {
                range = self.hour_range()?;
            }
            if range.is_none() && self.strong == Some(Grade::Index(1)) {
                range = other.hour_range()?;
            }
            if let Some((h0, h1)) = range {
                let h1 = h1 - 1;
                return Ok(if h0 == h1 {
                    Data::One(Scalar::Int(h0.to_string()))
                } else {
                    Data::str(format!("{h0}-{h1}"))
                });
            }
        }
        let applies =
            |grade: Option<Grade>| grade == Some(Grade::All) || grade == Some(Grade::Index(index));
        if applies(self.strong) {
            return Ok(a.clone());
        }
        if applies(other.strong) {
            return Ok(b.clone());
        }
        if applies(other.weak) {
            return Ok(a.clone());
        }
        if applies(self.weak) {
            return Ok(b.clone());
        }
        if a.is_star() && b.is_star() {
            return Ok(Data::Many(vec![Scalar::str("*")]));
        }
        let a_star = a.is_star();
        let taken = std::mem::take(if index == 0 {
            &mut self.d0
        } else {
            &mut self.d1
        });
        let mut merged = if a_star {
            Vec::new()
        } else {
            taken.into_array()
        };
        if !b.is_star() {
            merged.extend(b.array());
        }
        Ok(Data::Many(merged))
    }

    fn hour_range(&self) -> Result<Option<(i64, i64)>, String> {
        #[allow(clippy::expect_used, reason = "a constant pattern")]
        static RANGE: LazyLock<Regex> =
            LazyLock::new(|| Regex::new("^([0-9]+)-([0-9]+)$").expect("valid"));
        if self.key != Key::Hm || self.d1 != Data::int(0) {
            return Ok(None);
        }
        let Data::One(Scalar::Str(hours)) = &self.d0 else {
            return Err(
                "fugit crashes on it (NoMethodError while merging its hours with explicit \
                        minutes); give the minutes with the hours instead, e.g. \"at 5:15pm\""
                    .into(),
            );
        };
        Ok(RANGE.captures(hours).and_then(|c| {
            let (_, [h0, h1]) = c.extract();
            Some((h0.parse().ok()?, h1.parse().ok()?))
        }))
    }
}

/// Fugit's `adjust_h`, after Wikipedia's "confusion at noon and midnight": 12am is 0,
/// 12pm and 12 noon are 12, 12 midnight is 24 (which the cron hour field reads as 0).
fn adjust_h(h: u64, ampm: Option<&str>) -> u64 {
    match ampm {
        Some("midnight") if h == 12 => 24,
        Some("pm") if h < 12 => h + 12,
        Some("am") if h == 12 => 0,
        _ => h,
    }
}

/// The unit of an interval ("every 5 minutes") or of where its steps start ("from minute 1").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Second,
    Minute,
    Hour,
    Day,
    Month,
}

impl Unit {
    /// Fugit's reading: "M" and words starting "mon" are months, else the first letter.
    fn of(word: &str) -> Option<Unit> {
        let word = word.trim();
        if word == "M" || word.to_lowercase().starts_with("mon") {
            return Some(Unit::Month);
        }
        match word.chars().next()?.to_ascii_lowercase() {
            's' => Some(Unit::Second),
            'm' => Some(Unit::Minute),
            'h' => Some(Unit::Hour),
            'd' => Some(Unit::Day),
            _ => None,
        }
    }

    /// The cron field an interval in this unit steps through.
    fn field(self) -> Field {
        match self {
            Unit::Second => Field::Second,
            Unit::Minute => Field::Minute,
            Unit::Hour => Field::Hour,
            Unit::Day => Field::MonthDay,
            Unit::Month => Field::Month,
        }
    }

    /// The unit as the grammar writes it.
    fn name(self) -> &'static str {
        match self {
            Unit::Day => "day",
            unit => unit.field().name(),
        }
    }

    /// The field of "every `count` units starting at unit N": from N to the field's end, every
    /// `count` ("every 15 minutes starting at minute 1" is 1-59/15, i.e. 1,16,31,46).
    fn steps_from(self, count: &str, start: &Node) -> Result<String, String> {
        let start_unit = start
            .lookup(Kind::StartUnit)
            .and_then(|u| Unit::of(u.text))
            .ok_or_else(|| unexpected(start))?;
        let from = start.lookup(Kind::Count).map_or("", |c| c.text);
        if start_unit != self {
            return Err(format!(
                "{:?} does not fit an interval in {}s: write \"starting at {} N\"",
                start.text.trim(),
                self.name(),
                self.name(),
            ));
        }
        let (first, last) = self.field().bounds();
        let from = Scalar::to_i(from)
            .small()
            .and_then(|n| i32::try_from(n).ok())
            .filter(|n| (first..=last).contains(n))
            .ok_or_else(|| {
                format!(
                    "{:?}: a {} is {first} to {last}",
                    start.text.trim(),
                    self.name()
                )
            })?;
        Ok(if count == "1" {
            format!("{from}-{last}")
        } else {
            format!("{from}-{last}/{count}")
        })
    }
}

fn weekday_index(text: &str) -> Scalar {
    let short = text.chars().take(3).collect::<String>().to_lowercase();
    WEEKDS
        .iter()
        .position(|&w| w == short)
        .map_or(Scalar::Nil, |i| Scalar::int(i as u64))
}

fn omonthday(text: &str) -> Data {
    let word = text.to_lowercase();
    OMONTHDAYS
        .iter()
        .find(|(w, _)| *w == word)
        .map_or(Data::Nil, |(_, day)| Data::One(day.clone()))
}

/// Fugit's `rewrite_*` methods for nodes that may yield several slots.
pub(super) fn slots(node: &Node) -> Result<Vec<Slot>, String> {
    match node.kind {
        // `_rewrite_sub`: "every" keeps its first object only.
        Kind::Every => node.kids.first().map_or(Ok(Vec::new()), slots),
        Kind::At | Kind::On => Ok(node
            .kids
            .iter()
            .map(slots)
            .collect::<Result<Vec<_>, _>>()?
            .concat()),
        Kind::OnDays | Kind::OnThes => node.kids.iter().map(slot).collect(),
        Kind::EverySingleInterval if node.text.to_lowercase().contains("year") => Ok(vec![
            Slot::new(Key::Month, Data::int(1)).weak(Grade::All),
            Slot::new(Key::Monthday, Data::int(1)).weak(Grade::All),
        ]),
        _ => Ok(vec![slot(node)?]),
    }
}

/// Fugit's `rewrite_*` methods for nodes that yield one slot.
fn slot(node: &Node) -> Result<Slot, String> {
    let ampm = |node: &Node| node.lookup(Kind::Ampm).map(Node::strinpd);
    Ok(match node.kind {
        Kind::Tz => Slot::new(Key::Tz, Data::str(node.text)),
        Kind::Monthday => Slot::new(Key::Monthday, Data::One(Scalar::to_i(node.text))),
        Kind::Omonthday => Slot::new(Key::Monthday, omonthday(node.text)),
        Kind::Weekdays => {
            let days = node
                .gather(Kind::Weekday)
                .iter()
                .map(|w| weekday_index(w.text))
                .collect();
            Slot::new(Key::Weekday, Data::Many(days))
        }
        Kind::ToWeekday => day_range(node, Kind::Weekday, Key::Weekday, weekday_index)?,
        Kind::ToOmonthday => day_range(node, Kind::Omonthday, Key::Monthday, omonthday)?,
        Kind::EveryNamed => Slot::new(Key::Weekday, Data::str("1-5")).weak(Grade::All),
        Kind::EverySingleInterval => Slot::new(Key::Weekday, Data::int(0)).weak(Grade::All),
        Kind::EveryInterval => {
            let (count, interval, start) = match node.kids.as_slice() {
                [count, interval, start] if start.kind == Kind::Start => {
                    (count.text.trim(), interval, Some(start))
                }
                [interval, start] if start.kind == Kind::Start => ("1", interval, Some(start)),
                [count, interval] => (count.text.trim(), interval, None),
                [interval] => ("1", interval, None),
                _ => return Err(unexpected(node)),
            };
            let unit = Unit::of(interval.text.trim()).ok_or_else(|| unexpected(interval))?;
            let every = match start {
                Some(start) => unit.steps_from(count, start)?,
                None if count == "1" => "*".into(),
                None => format!("*/{count}"),
            };
            let every = Data::str(every);
            match unit {
                Unit::Month => Slot::new(Key::Month, every),
                Unit::Day => Slot::new(Key::Monthday, every).weak(Grade::All),
                Unit::Hour => Slot::hm(every, Data::int(0)).weak(Grade::Index(1)),
                Unit::Minute => Slot::hm(Data::str("*"), every).strong(Grade::Index(1)),
                Unit::Second => Slot::new(Key::Second, every),
            }
        }
        Kind::OnMinutes => {
            let minutes: Vec<&str> = node
                .gather(Kind::Dmin)
                .iter()
                .map(|m| m.text.trim())
                .collect();
            Slot::hm(Data::str("*"), Data::str(minutes.join(","))).strong(Grade::Index(1))
        }
        Kind::OnThex if node.text.to_lowercase().contains("hour") => {
            Slot::hm(Data::int(0), Data::str("*")).strong(Grade::Index(0))
        }
        Kind::OnThex => Slot::hm(Data::str("*"), Data::str("*")).strong(Grade::Index(1)),
        Kind::AtP => {
            let point = node
                .lookup(Kind::Point)
                .map(Node::strinpd)
                .unwrap_or_default();
            let counts = Data::Many(
                node.gather(Kind::Count)
                    .iter()
                    .map(|c| Scalar::to_i(c.text))
                    .collect(),
            );
            match point.chars().next() {
                Some('m') => Slot::hm(Data::str("*"), counts).strong(Grade::Index(1)),
                Some('s') => Slot::new(Key::Second, counts),
                _ => Slot::new(Key::Other, counts),
            }
        }
        Kind::DigitalHour => {
            let time = node.lookup(Kind::DigitalH).map_or("", |t| t.text);
            let (hour, minute) = time.split_once(':').unwrap_or((time, ""));
            let hour = Scalar::to_i(hour).small().unwrap_or(0);
            Slot::hm(
                Data::int(adjust_h(hour, ampm(node).as_deref())),
                Data::One(Scalar::to_i(minute)),
            )
        }
        Kind::SimpleHour => {
            let hour = node
                .lookup(Kind::SimpleH)
                .and_then(|h| Scalar::to_i(h.text).small())
                .unwrap_or(0);
            Slot::hm(
                Data::int(adjust_h(hour, ampm(node).as_deref())),
                Data::int(0),
            )
        }
        Kind::NamedHour => {
            let hour = node
                .lookup(Kind::NamedH)
                .and_then(|h| nhours(h.text.trim()))
                .unwrap_or(0);
            let minute = match node.lookup(Kind::NamedM).map(|m| m.text.trim()) {
                None => Scalar::int(0),
                Some(word) => nminutes(word).map_or_else(|| Scalar::str(word), Scalar::int),
            };
            Slot::hm(
                Data::int(adjust_h(hour, ampm(node).as_deref())),
                Data::One(minute),
            )
        }
        Kind::ToHour => {
            let [from, to, ..] = node.kids.as_slice() else {
                return Err(unexpected(node));
            };
            let (h0, h1) = (slot(from)?, slot(to)?);
            if h0.d1.array() != h1.d1.array() {
                return Err(format!(
                    "fugit rejects \"{} to {}\": the two times have different minutes",
                    from.text.trim(),
                    to.text.trim()
                ));
            }
            Slot::hm(Data::str(format!("{}-{}", h0.d0, h1.d0)), Data::int(0))
                .strong(Grade::Index(0))
        }
        _ => return Err(unexpected(node)),
    })
}

/// The slot of "from A to B" over days: the two `kind` nodes under `node`, as `A-B`.
fn day_range<T: fmt::Display>(
    node: &Node,
    kind: Kind,
    key: Key,
    value: fn(&str) -> T,
) -> Result<Slot, String> {
    let days: Vec<T> = node.gather(kind).iter().map(|d| value(d.text)).collect();
    let [from, to] = days.as_slice() else {
        return Err(unexpected(node));
    };
    Ok(Slot::new(key, Data::str(format!("{from}-{to}"))))
}

fn unexpected(node: &Node) -> String {
    format!("cannot read {:?} (unexpected {:?})", node.text, node.kind)
}
