//! fugit's Nat grammar (raabro PEG) as a parser into named nodes.

use super::super::unknown_zone;
use super::vocabulary::{
    alternation, hour_words, minute_words, OMONTHDAYS, SIXTIES, WEEKDAYS, WEEKDS,
};
use regex::Regex;
use std::sync::LazyLock;

/// The named nodes of fugit's grammar that its rewrite reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Every,
    EveryInterval,
    EveryNamed,
    EverySingleInterval,
    Interval,
    Start,
    StartUnit,
    Count,
    Weekdays,
    Weekday,
    ToWeekday,
    Omonthday,
    ToOmonthday,
    Monthday,
    ToHour,
    At,
    AtP,
    Point,
    NamedHour,
    NamedH,
    NamedM,
    Dark,
    Ampm,
    DigitalHour,
    DigitalH,
    SimpleHour,
    SimpleH,
    Tz,
    On,
    OnDays,
    OnMinutes,
    Dmin,
    OnThes,
    OnThex,
}

/// A named raabro tree node. Unnamed nodes are transparent to raabro's `subgather` and
/// `sublookup`, so their named descendants are spliced into the nearest named ancestor.
#[derive(Clone, Debug)]
pub(super) struct Node<'a> {
    pub(super) kind: Kind,
    pub(super) text: &'a str,
    pub(super) kids: Vec<Node<'a>>,
}

impl Node<'_> {
    /// raabro `sublookup`: the first descendant of that kind, depth first.
    pub(super) fn lookup(&self, kind: Kind) -> Option<&Self> {
        self.kids.iter().find_map(|kid| {
            if kid.kind == kind {
                Some(kid)
            } else {
                kid.lookup(kind)
            }
        })
    }

    /// raabro `subgather`: the topmost descendants of that kind.
    pub(super) fn gather(&self, kind: Kind) -> Vec<&Self> {
        let mut found = Vec::new();
        for kid in &self.kids {
            if kid.kind == kind {
                found.push(kid);
            } else {
                found.extend(kid.gather(kind));
            }
        }
        found
    }

    /// raabro `strinpd`: stripped and downcased.
    pub(super) fn strinpd(&self) -> String {
        self.text.trim().to_lowercase()
    }
}

type Parsed<'a> = Option<Vec<Node<'a>>>;
type Rule<'a> = fn(&mut Parser<'a>) -> Parsed<'a>;

struct Parser<'a> {
    input: &'a str,
    pos: usize,
    /// The end of the furthest match, where an error is reported.
    furthest: usize,
}

/// Parses the whole input with fugit's `nat` rule; raabro's `all` accepts only full matches.
pub(super) fn parse(input: &str) -> Result<Vec<Node<'_>>, String> {
    let mut parser = Parser {
        input,
        pos: 0,
        furthest: 0,
    };
    match parser.nat() {
        Some(nodes) if parser.pos == input.len() => Ok(nodes),
        // raabro's `all` compares lengths only, so "" passes with an empty tree ("* * * * *").
        None if input.is_empty() => Ok(Vec::new()),
        _ => Err(unreadable(input, parser.furthest)),
    }
}

/// Why the input cannot be read from byte `furthest` on: an unknown word (with the nearest known
/// one), a zone written in the wrong case, or the text that stops the grammar.
fn unreadable(input: &str, furthest: usize) -> String {
    let rest = input[furthest..].trim_start_matches([' ', '\t']);
    let at = input.len() - rest.len();
    if rest.is_empty() {
        return format!("{input:?} stops short of a complete schedule");
    }
    let token = rest.split([' ', '\t', ',']).next().unwrap_or(rest);
    if token.contains('/') {
        return unknown_zone(token);
    }
    // The whole word around the stop: "every 5 minuts" stops after "min", inside "minuts".
    let is_letter = |c: char| c.is_alphabetic() || c == '\'';
    let start = input[..at]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_letter(c))
        .last()
        .map_or(at, |(i, _)| i);
    let end = input[at..]
        .find(|c: char| !is_letter(c))
        .map_or(input.len(), |i| at + i);
    let word = &input[start..end];
    let character = input[..start].chars().count() + 1;
    if !word.is_empty() && !known_word(word) {
        return match nearest_word(word) {
            Some(known) => format!("unknown word {word:?} (did you mean {known:?}?)"),
            None => format!("unknown word {word:?} at character {character}"),
        };
    }
    let shown: String = rest.chars().take(24).collect();
    let more = if shown.len() < rest.len() { "…" } else { "" };
    format!(
        "cannot read {shown:?}{more} at character {}",
        input[..at].chars().count() + 1
    )
}

/// Every word of the grammar, in lowercase.
static VOCABULARY: LazyLock<Vec<String>> = LazyLock::new(|| {
    let words = "every from at on in to through and or the of month months week weekday year \
        starting day days hour hours hou minute minutes min mins second seconds sec secs \
        noon midnight midday am pm dark o'clock hundred biz business";
    words
        .split_whitespace()
        .map(String::from)
        .chain(WEEKDAYS.iter().chain(&WEEKDS).map(|w| w.to_string()))
        .chain(SIXTIES.iter().flat_map(|w| w.split('-').map(String::from)))
        .chain(
            OMONTHDAYS
                .iter()
                .flat_map(|(w, _)| w.split('-').map(String::from)),
        )
        .chain(["oh".to_string()])
        .collect()
});

fn known_word(word: &str) -> bool {
    let word = word.to_lowercase();
    VOCABULARY.contains(&word)
}

/// The known word nearest to `word` (at most one edit in four letters, two beyond), if any.
fn nearest_word(word: &str) -> Option<&'static str> {
    let word: Vec<char> = word.to_lowercase().chars().collect();
    if word.len() < 3 || word.len() > 20 {
        return None;
    }
    let allowed = if word.len() <= 4 { 1 } else { 2 };
    // Among equally near words, the one sharing the longest ending ("minuts": minutes, not minute).
    let shared_ending = |known: &[char]| {
        word.iter()
            .rev()
            .zip(known.iter().rev())
            .take_while(|(a, b)| a == b)
            .count()
    };
    VOCABULARY
        .iter()
        .filter(|w| w.len() >= 3)
        .map(|w| {
            let known: Vec<char> = w.chars().collect();
            (edit_distance(&word, &known), shared_ending(&known), w)
        })
        .filter(|(distance, _, _)| *distance <= allowed)
        .min_by_key(|(distance, ending, _)| (*distance, std::cmp::Reverse(*ending)))
        .map(|(_, _, w)| w.as_str())
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
/// neighbours ("mintues") each count one.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// Compiles a raabro `rex` pattern: raabro keeps a match only if it starts at the offset.
#[allow(
    clippy::expect_used,
    reason = "the patterns are constants of this file"
)]
pub(super) fn anchored(pattern: &str) -> Regex {
    Regex::new(&format!("^(?:{pattern})")).expect("fugit's patterns are valid")
}

impl<'a> Parser<'a> {
    /// Consumes `len` bytes, as a leaf of that kind if any.
    fn take(&mut self, len: usize, kind: Option<Kind>) -> Parsed<'a> {
        let text = &self.input[self.pos..self.pos + len];
        self.pos += len;
        self.furthest = self.furthest.max(self.pos);
        Some(
            kind.map(|kind| Node {
                kind,
                text,
                kids: Vec::new(),
            })
            .into_iter()
            .collect(),
        )
    }

    /// raabro `seq`: all or nothing, the offset restored on failure.
    fn seq(&mut self, rule: impl FnOnce(&mut Self) -> Parsed<'a>) -> Parsed<'a> {
        let start = self.pos;
        let parsed = rule(self);
        if parsed.is_none() {
            self.pos = start;
        }
        parsed
    }

    fn named(&mut self, kind: Kind, rule: impl FnOnce(&mut Self) -> Parsed<'a>) -> Parsed<'a> {
        let start = self.pos;
        let kids = self.seq(rule)?;
        Some(vec![Node {
            kind,
            text: &self.input[start..self.pos],
            kids,
        }])
    }

    /// raabro's `'?'` quantifier.
    fn opt(&mut self, rule: Rule<'a>) -> Vec<Node<'a>> {
        rule(self).unwrap_or_default()
    }

    /// raabro `alt`: ordered choice.
    fn alt(&mut self, rules: &[Rule<'a>]) -> Parsed<'a> {
        rules.iter().find_map(|rule| rule(self))
    }

    /// raabro `jseq`: one or more `elt` joined by `sep`; a separator not followed by an element
    /// is given back.
    fn jseq(&mut self, elt: Rule<'a>, sep: Rule<'a>) -> Parsed<'a> {
        let mut nodes = elt(self)?;
        loop {
            let before_sep = self.pos;
            if sep(self).is_none() {
                break;
            }
            match elt(self) {
                Some(more) => nodes.extend(more),
                None => {
                    self.pos = before_sep;
                    break;
                }
            }
        }
        Some(nodes)
    }

    /// A node of `kind`: two `end`s joined by `to` ("monday to friday").
    fn range(&mut self, kind: Kind, end: Rule<'a>, to: Rule<'a>) -> Parsed<'a> {
        self.named(kind, |p| Some([end(p)?, to(p)?, end(p)?].concat()))
    }

    /// A node of `kind`: the keyword `kw`, then one or more `elt` joined by `sep`.
    fn listed(&mut self, kind: Kind, kw: Rule<'a>, elt: Rule<'a>, sep: Rule<'a>) -> Parsed<'a> {
        self.named(kind, |p| {
            kw(p)?;
            p.jseq(elt, sep)
        })
    }
}

/// Declares raabro `rex` rules: `rule = pattern` consumes silently, `rule as Kind = pattern`
/// also leaves a leaf for the rewrite.
macro_rules! terminals {
    (@kind) => { None };
    (@kind $kind:ident) => { Some(Kind::$kind) };
    ($($rule:ident $(as $kind:ident)? = $pattern:expr;)*) => {
        #[allow(clippy::wrong_self_convention)] // rule names are fugit's
        impl<'a> Parser<'a> {
            $(fn $rule(&mut self) -> Parsed<'a> {
                static RE: LazyLock<Regex> = LazyLock::new(|| anchored(&$pattern));
                let len = RE.find(&self.input[self.pos..])?.end();
                self.take(len, terminals!(@kind $($kind)?))
            })*
        }
    };
}

terminals! {
    every_kw = "(?i)[ \t]*every[ \t]+";
    from_kw = "(?i)[ \t]*from[ \t]+";
    at_kw = "(?i)[ \t]*at[ \t]+";
    on_kw = "(?i)[ \t]*on[ \t]+";
    to_kw = "(?i)[ \t]*to[ \t]+";
    and = "(?i)[ \t]*and[ \t]+";
    and_or_or = "(?i)[ \t]*(and|or)[ \t]+";
    in_or_on = "(?i)(in|on)[ \t]+";
    and_or_or_or_comma = "(?i)[ \t]*(,[ \t]*)?((and|or)[ \t]+|,[ \t]*)";
    to_or_dash = "(?i)[ \t]*-[ \t]*|[ \t]+(to|through)[ \t]+";
    day_s = "(?i)[ \t]*days?[ \t]+";
    the = "(?i)[ \t]*the[ \t]+";
    space = "[ \t]+";
    sep = "[ \t]+|[ \t]*,[ \t]*";
    minute_kw = "(?i)[ \t]*minute[ \t]+";
    otm = "[ \t]+of the month";
    city_tz = r"[A-Z][a-zA-Z0-9+\-]+(/[A-Z][a-zA-Z0-9+\-_]+){0,2}";
    named_tz = "Z|UTC";
    delta_tz = "[-+]([01][0-9]|2[0-4])(:?(00|15|30|45))?";
    count as Count = "[0-9]+";
    omonthday as Omonthday = format!("(?i){}", alternation(OMONTHDAYS.iter().map(|(w, _)| w.as_str())));
    monthday as Monthday = "3[0-1]|[0-2]?[0-9]";
    dmin as Dmin = "[0-5]?[0-9]";
    on_thex as OnThex = "(?i)[ \t]*the[ \t]+(hour|minute)[ \t]*";
    digital_h as DigitalH = "(2[0-4]|[0-1]?[0-9]):([0-5][0-9])";
    // Case-sensitive as in fugit 1.11+, so that "noon America/Chicago" is not "noon am".
    ampm as Ampm = "[ \t]*(am|AM|pm|PM|[Nn]oon|[Mm]idday|[Mm]idnight)";
    dark as Dark = "(?i)[ \t]*dark";
    simple_h as SimpleH = (0..=24).rev().map(|h: u8| h.to_string()).collect::<Vec<_>>().join("|");
    named_m as NamedM = format!("(?i){}", alternation(minute_words()));
    named_h as NamedH = format!("(?i){}", alternation(hour_words()));
    point as Point = "(?i)(minutes?|mins?|seconds?|secs?|hours?|hou|h)[ \t]+";
    interval as Interval = "[ \t]*(seconds?|minutes?|hours?|days?|months?|sec|min|s|m|h|d|M)";
    starting = "(?i)[ \t]+(starting[ \t]+at|from)[ \t]+";
    start_unit as StartUnit = "(?i)(seconds?|minutes?|hours?|days?|months?)[ \t]+";
    every_single_interval as EverySingleInterval = "(1[ \t]+)?(week|year)";
    every_named as EveryNamed = "(?i)weekday";
}

/// Declares raabro `alt` rules: `rule = a | b | c` is the first of them that parses.
macro_rules! choices {
    ($($rule:ident = $first:ident $(| $more:ident)*;)*) => {
        #[allow(clippy::wrong_self_convention)] // rule names are fugit's
        impl<'a> Parser<'a> {
            $(fn $rule(&mut self) -> Parsed<'a> {
                self.alt(&[Self::$first $(, Self::$more)*])
            })*
        }
    };
}

choices! {
    nat_elt = every | from | at | tzone | on;
    every_object = every_weekday | every_of_the_month | every_interval | every_named
        | every_single_interval;
    weekday_range = to_weekday | weekdays;
    from_object = to_weekday | to_omonthday | to_hour;
    at_object = named_hour | digital_hour | simple_hour | at_point;
    // fugit renames `weekdays` to `on_weekdays` here, whose rewrite is the same.
    on_object = on_days | weekdays | on_minutes | on_thes | on_thex;
}

/// The grammar's other rules, as in fugit's nat.rb (bottom-up there, top-down here).
#[allow(clippy::wrong_self_convention)] // rule names are fugit's
impl<'a> Parser<'a> {
    fn nat(&mut self) -> Parsed<'a> {
        self.jseq(Self::nat_elt, Self::sep)
    }

    fn every(&mut self) -> Parsed<'a> {
        self.listed(
            Kind::Every,
            Self::every_kw,
            Self::every_object,
            Self::and_or_or,
        )
    }

    fn every_weekday(&mut self) -> Parsed<'a> {
        self.jseq(Self::weekday_range, Self::and_or_or)
    }

    fn every_of_the_month(&mut self) -> Parsed<'a> {
        self.seq(|p| {
            let days = p.omonthdays()?;
            p.otm()?;
            Some(days)
        })
    }

    fn every_interval(&mut self) -> Parsed<'a> {
        self.named(Kind::EveryInterval, |p| {
            Some([p.opt(Self::count), p.interval()?, p.opt(Self::start)].concat())
        })
    }

    /// "starting at minute 1", "from second 10": where the interval's steps start.
    fn start(&mut self) -> Parsed<'a> {
        self.named(Kind::Start, |p| {
            p.starting()?;
            Some([p.start_unit()?, p.count()?].concat())
        })
    }

    fn from(&mut self) -> Parsed<'a> {
        self.seq(|p| {
            p.opt(Self::from_kw);
            p.jseq(Self::from_object, Self::and_or_or)
        })
    }

    fn to_weekday(&mut self) -> Parsed<'a> {
        self.range(Kind::ToWeekday, Self::weekday, Self::to_or_dash)
    }

    fn to_omonthday(&mut self) -> Parsed<'a> {
        self.named(Kind::ToOmonthday, |p| {
            p.opt(Self::the);
            let first = p.omonthday()?;
            p.to_kw()?;
            p.opt(Self::the);
            Some([first, p.omonthday()?].concat())
        })
    }

    fn to_hour(&mut self) -> Parsed<'a> {
        self.range(Kind::ToHour, Self::at_object, Self::to_kw)
    }

    fn at(&mut self) -> Parsed<'a> {
        self.named(Kind::At, |p| {
            p.opt(Self::at_kw);
            p.jseq(Self::at_object, Self::and_or_or_or_comma)
        })
    }

    fn named_hour(&mut self) -> Parsed<'a> {
        self.named(Kind::NamedHour, |p| {
            Some(
                [
                    p.named_h()?,
                    p.opt(Self::dark),
                    p.opt(Self::named_min),
                    p.opt(Self::ampm),
                ]
                .concat(),
            )
        })
    }

    fn named_min(&mut self) -> Parsed<'a> {
        self.seq(|p| {
            p.space()?;
            p.named_m()
        })
    }

    fn digital_hour(&mut self) -> Parsed<'a> {
        self.named(Kind::DigitalHour, |p| {
            Some([p.digital_h()?, p.opt(Self::ampm)].concat())
        })
    }

    fn simple_hour(&mut self) -> Parsed<'a> {
        self.named(Kind::SimpleHour, |p| {
            Some([p.simple_h()?, p.opt(Self::ampm)].concat())
        })
    }

    fn at_point(&mut self) -> Parsed<'a> {
        self.jseq(Self::at_p, Self::and_or_or)
    }

    fn at_p(&mut self) -> Parsed<'a> {
        self.named(Kind::AtP, |p| {
            Some([p.point()?, p.jseq(Self::count, Self::and_or_or_or_comma)?].concat())
        })
    }

    fn tzone(&mut self) -> Parsed<'a> {
        self.seq(|p| {
            p.opt(Self::in_or_on);
            p.tz()
        })
    }

    fn tz(&mut self) -> Parsed<'a> {
        self.named(Kind::Tz, |p| {
            p.alt(&[Self::city_tz, Self::named_tz, Self::delta_tz])
        })
    }

    fn on(&mut self) -> Parsed<'a> {
        self.listed(Kind::On, Self::on_kw, Self::on_object, Self::and)
    }

    fn on_days(&mut self) -> Parsed<'a> {
        self.listed(
            Kind::OnDays,
            Self::day_s,
            Self::monthday,
            Self::and_or_or_or_comma,
        )
    }

    fn on_minutes(&mut self) -> Parsed<'a> {
        self.named(Kind::OnMinutes, |p| {
            p.minute_kw()?;
            let mut minutes = p.dmin()?;
            while let Some(more) = p.and_dmin() {
                minutes.extend(more);
            }
            Some(minutes)
        })
    }

    fn and_dmin(&mut self) -> Parsed<'a> {
        self.seq(|p| {
            p.and_or_or_or_comma()?;
            p.opt(Self::minute_kw);
            p.dmin()
        })
    }

    fn on_thes(&mut self) -> Parsed<'a> {
        self.named(Kind::OnThes, |p| {
            p.jseq(Self::on_the, Self::and_or_or_or_comma)
        })
    }

    fn on_the(&mut self) -> Parsed<'a> {
        self.seq(|p| {
            p.the()?;
            p.omonthdays()
        })
    }

    fn omonthdays(&mut self) -> Parsed<'a> {
        self.jseq(Self::omonthday, Self::and_or_or_or_comma)
    }

    fn weekdays(&mut self) -> Parsed<'a> {
        self.named(Kind::Weekdays, |p| {
            p.jseq(Self::weekday, Self::and_or_or_or_comma)
        })
    }

    /// WEEKDAY_REX, whose lookahead `(?=($|[-, \t]))` (which the regex crate lacks) keeps "mon"
    /// from eating the start of "monday": full names are tried first, then abbreviations, each
    /// kept only if the lookahead holds (Ruby's `$` also holds before a newline).
    fn weekday(&mut self) -> Parsed<'a> {
        static FULL: LazyLock<Regex> =
            LazyLock::new(|| anchored(&format!("(?i){}", WEEKDAYS.join("|"))));
        static SHORT: LazyLock<Regex> =
            LazyLock::new(|| anchored(&format!("(?i){}", WEEKDS.join("|"))));
        let rest = &self.input[self.pos..];
        let len = [&FULL, &SHORT]
            .into_iter()
            .filter_map(|re| re.find(rest).map(|m| m.end()))
            .find(|&end| {
                rest[end..]
                    .chars()
                    .next()
                    .is_none_or(|c| "\n-, \t".contains(c))
            })?;
        self.take(len, Some(Kind::Weekday))
    }
}
