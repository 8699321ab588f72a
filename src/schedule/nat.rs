//! Natural-language schedules ("every day at noon"), read as fugit 1.14's Nat parser reads them.
//!
//! A port of fugit's `Fugit::Nat`: its raabro PEG grammar, the rewrite of the parse tree into
//! slots, and the way its `SlotGroup` merges slots into cron text. Fugit's quirks are kept on
//! purpose ("every 1st and 15th of the month" keeps the 1st only), so a schedule means here what
//! it means under GoodJob 4. `test/fixtures/fugit-1.14` holds fugit 1.14's readings.

use regex::Regex;
use std::cmp::Ordering;
use std::fmt;
use std::sync::LazyLock;

/// Reads a natural-language schedule the way fugit 1.14's Nat parser does and returns the cron
/// text fugit builds from it (the string fugit's SlotGroup#parse_cron hands to Fugit::Cron.parse,
/// e.g. "every day at 5pm" -> "0 17 * * *", "every 30 seconds" -> "*/30 * * * * *",
/// "every day at 5 pm on America/Los_Angeles" -> "0 17 * * * America/Los_Angeles").
pub(crate) fn to_cron(input: &str) -> Result<String, String> {
    let nodes = parse(input)?;
    let slots = nodes
        .iter()
        .map(slots)
        .collect::<Result<Vec<_>, _>>()?
        .concat();
    let crons = crons(slots)?;
    match crons.as_slice() {
        [cron] => Ok(cron.clone()),
        [] => Err("fugit finds no minute to run at in this schedule".into()),
        _ => Err(format!(
            "it needs {} cron lines ({}) because its times have different hours and minutes; \
             fugit would silently keep only the first, so split it into one entry per line",
            crons.len(),
            crons
                .iter()
                .map(|c| format!("{c:?}"))
                .collect::<Vec<_>>()
                .join(" and "),
        )),
    }
}

// Vocabulary ///////////////////////////////////////////////////////////////////////////////////

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
const WEEKDS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Fugit's `sixties`: the words for 0 to 59, in its order.
static SIXTIES: LazyLock<Vec<String>> = LazyLock::new(|| {
    let units = "one two three four five six seven eight nine";
    let teens = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen";
    let mut words: Vec<String> = format!("zero {units} {teens}")
        .split_whitespace()
        .map(String::from)
        .collect();
    for tens in ["twenty", "thirty", "forty", "fifty"] {
        words.push(tens.into());
        words.extend(
            units
                .split_whitespace()
                .map(|unit| format!("{tens}-{unit}")),
        );
    }
    words
});

/// `NHOURS` keys.
fn hour_words() -> Vec<&'static str> {
    SIXTIES[..13]
        .iter()
        .map(String::as_str)
        .chain(["midnight", "oh", "noon"])
        .collect()
}

/// Any case: "at Noon" is noon (fugit 1.5 read it as hour 0).
fn nhours(word: &str) -> Option<u64> {
    match word.to_lowercase().as_str() {
        "midnight" | "oh" => Some(0),
        "noon" => Some(12),
        word => SIXTIES[..13]
            .iter()
            .position(|w| w == word)
            .map(|i| i as u64),
    }
}

/// `NMINUTES` keys.
fn minute_words() -> Vec<&'static str> {
    SIXTIES
        .iter()
        .map(String::as_str)
        .chain(["o'clock", "hundred"])
        .collect()
}

fn nminutes(word: &str) -> Option<u64> {
    match word.to_lowercase().as_str() {
        "o'clock" | "hundred" => Some(0),
        word => SIXTIES.iter().position(|w| w == word).map(|i| i as u64),
    }
}

/// Fugit's `OMONTHDAYS` ("1st", "last", "twenty-first"...), in its insertion order.
static OMONTHDAYS: LazyLock<Vec<(String, Scalar)>> = LazyLock::new(|| {
    let ordinals = "first second third fourth fifth sixth seventh eighth ninth tenth eleventh \
        twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth \
        twentieth twenty-first twenty-second twenty-third twenty-fourth twenty-fifth \
        twenty-sixth twenty-seventh twenty-eighth twenty-ninth thirtieth thirty-first";
    let mut days: Vec<(String, Scalar)> = ["1st", "2nd", "3rd", "21st", "22nd", "23rd", "31st"]
        .iter()
        .map(|&word| (word.to_string(), Scalar::to_i(word)))
        .collect();
    days.push(("last".into(), Scalar::Str("L".into())));
    days.extend((4..=30).map(|day| (format!("{day}th"), Scalar::int(day))));
    days.extend(
        ordinals
            .split_whitespace()
            .zip(1..)
            .map(|(word, day)| (word.to_string(), Scalar::int(day))),
    );
    days
});

/// A regex alternation of `words`, longest first, so that "fourteen" is not read as "four".
fn alternation<'w>(words: impl IntoIterator<Item = &'w str>) -> String {
    let mut words: Vec<&str> = words.into_iter().collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    words
        .into_iter()
        .map(regex::escape)
        .collect::<Vec<_>>()
        .join("|")
}

// Parser ///////////////////////////////////////////////////////////////////////////////////////

/// The named nodes of fugit's grammar that its rewrite reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
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
struct Node<'a> {
    kind: Kind,
    text: &'a str,
    kids: Vec<Node<'a>>,
}

impl Node<'_> {
    /// raabro `sublookup`: the first descendant of that kind, depth first.
    fn lookup(&self, kind: Kind) -> Option<&Self> {
        self.kids.iter().find_map(|kid| {
            if kid.kind == kind {
                Some(kid)
            } else {
                kid.lookup(kind)
            }
        })
    }

    /// raabro `subgather`: the topmost descendants of that kind.
    fn gather(&self, kind: Kind) -> Vec<&Self> {
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
    fn strinpd(&self) -> String {
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
fn parse(input: &str) -> Result<Vec<Node<'_>>, String> {
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
        return super::unknown_zone(token);
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
fn anchored(pattern: &str) -> Regex {
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

/// The grammar, rule for rule as in fugit's nat.rb (bottom-up there, top-down here).
#[allow(clippy::wrong_self_convention)] // rule names are fugit's
impl<'a> Parser<'a> {
    fn nat(&mut self) -> Parsed<'a> {
        self.jseq(Self::nat_elt, Self::sep)
    }

    fn nat_elt(&mut self) -> Parsed<'a> {
        self.alt(&[Self::every, Self::from, Self::at, Self::tzone, Self::on])
    }

    fn every(&mut self) -> Parsed<'a> {
        self.named(Kind::Every, |p| {
            p.every_kw()?;
            p.jseq(Self::every_object, Self::and_or_or)
        })
    }

    fn every_object(&mut self) -> Parsed<'a> {
        self.alt(&[
            Self::every_weekday,
            Self::every_of_the_month,
            Self::every_interval,
            Self::every_named,
            Self::every_single_interval,
        ])
    }

    fn every_weekday(&mut self) -> Parsed<'a> {
        self.jseq(Self::weekday_range, Self::and_or_or)
    }

    fn weekday_range(&mut self) -> Parsed<'a> {
        self.alt(&[Self::to_weekday, Self::weekdays])
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

    fn from_object(&mut self) -> Parsed<'a> {
        self.alt(&[Self::to_weekday, Self::to_omonthday, Self::to_hour])
    }

    fn to_weekday(&mut self) -> Parsed<'a> {
        self.named(Kind::ToWeekday, |p| {
            Some([p.weekday()?, p.to_or_dash()?, p.weekday()?].concat())
        })
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
        self.named(Kind::ToHour, |p| {
            Some([p.at_object()?, p.to_kw()?, p.at_object()?].concat())
        })
    }

    fn at(&mut self) -> Parsed<'a> {
        self.named(Kind::At, |p| {
            p.opt(Self::at_kw);
            p.jseq(Self::at_object, Self::and_or_or_or_comma)
        })
    }

    fn at_object(&mut self) -> Parsed<'a> {
        self.alt(&[
            Self::named_hour,
            Self::digital_hour,
            Self::simple_hour,
            Self::at_point,
        ])
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
        self.named(Kind::On, |p| {
            p.on_kw()?;
            p.jseq(Self::on_object, Self::and)
        })
    }

    fn on_object(&mut self) -> Parsed<'a> {
        // fugit renames `weekdays` to `on_weekdays` here, whose rewrite is the same.
        self.alt(&[
            Self::on_days,
            Self::weekdays,
            Self::on_minutes,
            Self::on_thes,
            Self::on_thex,
        ])
    }

    fn on_days(&mut self) -> Parsed<'a> {
        self.named(Kind::OnDays, |p| {
            p.day_s()?;
            p.jseq(Self::monthday, Self::and_or_or_or_comma)
        })
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

// Rewrite //////////////////////////////////////////////////////////////////////////////////////

/// A Ruby value as fugit's slots hold it: an Integer (kept as canonical decimal digits, since
/// counts may be any length), a String or nil.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Scalar {
    Nil,
    Int(String),
    Str(String),
}

impl Scalar {
    fn int(n: u64) -> Scalar {
        Scalar::Int(n.to_string())
    }

    /// Ruby `String#to_i` on text that starts with ASCII digits (as all matched numbers do).
    fn to_i(text: &str) -> Scalar {
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

    fn str(text: impl Into<String>) -> Scalar {
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
fn sorted(mut values: Vec<Scalar>) -> Result<Vec<Scalar>, String> {
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

fn numbers_in_order(a: &Scalar, b: &Scalar) -> Ordering {
    match (a, b) {
        (Scalar::Int(a), Scalar::Int(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
        (Scalar::Str(a), Scalar::Str(b)) => a.cmp(b),
        _ => Ordering::Equal,
    }
}

/// A slot's `_data0` or `_data1`: nil, one value, or an Array.
#[derive(Clone, Debug, Default, PartialEq)]
enum Data {
    #[default]
    Nil,
    One(Scalar),
    Many(Vec<Scalar>),
}

impl Data {
    fn int(n: u64) -> Data {
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
    fn array(&self) -> Vec<Scalar> {
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
enum Key {
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
struct Slot {
    key: Key,
    d0: Data,
    d1: Data,
    weak: Option<Grade>,
    strong: Option<Grade>,
}

impl Slot {
    fn new(key: Key, d0: Data) -> Slot {
        Slot {
            key,
            d0,
            d1: Data::Nil,
            weak: None,
            strong: None,
        }
    }

    fn hm(hours: Data, minutes: Data) -> Slot {
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

    fn graded(&self) -> bool {
        self.weak.is_some() || self.strong.is_some()
    }

    fn append(&mut self, other: &Slot) -> Result<(), String> {
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

    fn name(self) -> &'static str {
        match self {
            Unit::Second => "second",
            Unit::Minute => "minute",
            Unit::Hour => "hour",
            Unit::Day => "day",
            Unit::Month => "month",
        }
    }

    fn range(self) -> (u64, u64) {
        match self {
            Unit::Second | Unit::Minute => (0, 59),
            Unit::Hour => (0, 23),
            Unit::Day => (1, 31),
            Unit::Month => (1, 12),
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
        let (first, last) = self.range();
        let from = Scalar::to_i(from)
            .small()
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
fn slots(node: &Node) -> Result<Vec<Slot>, String> {
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
        Kind::ToWeekday => {
            let days: Vec<Scalar> = node
                .gather(Kind::Weekday)
                .iter()
                .map(|w| weekday_index(w.text))
                .collect();
            let [from, to] = days.as_slice() else {
                return Err(unexpected(node));
            };
            Slot::new(Key::Weekday, Data::str(format!("{from}-{to}")))
        }
        Kind::ToOmonthday => {
            let days: Vec<Data> = node
                .gather(Kind::Omonthday)
                .iter()
                .map(|d| omonthday(d.text))
                .collect();
            let [from, to] = days.as_slice() else {
                return Err(unexpected(node));
            };
            Slot::new(Key::Monthday, Data::str(format!("{from}-{to}")))
        }
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

fn unexpected(node: &Node) -> String {
    format!("cannot read {:?} (unexpected {:?})", node.text, node.kind)
}

// Slot group ///////////////////////////////////////////////////////////////////////////////////

/// Fugit's `SlotGroup`: merges the slots and builds one cron text per distinct hour set
/// (`to_crons` with `multi: true`).
fn crons(slots: Vec<Slot>) -> Result<Vec<String>, String> {
    let mut hms = Vec::new();
    let mut keyed: Vec<Slot> = Vec::new();
    for slot in slots {
        match slot.key {
            Key::Hm => hms.push(slot),
            Key::Other => {}
            key => match keyed.iter_mut().find(|k| k.key == key) {
                Some(earlier) => earlier.append(&slot)?,
                None => keyed.push(slot),
            },
        }
    }
    let has = |key| keyed.iter().any(|s: &Slot| s.key == key);
    let (monthday, weekday, month) = (has(Key::Monthday), has(Key::Weekday), has(Key::Month));
    if (monthday || weekday || month) && hms.is_empty() {
        hms.push(Slot::hm(Data::int(0), Data::int(0)));
    }
    if month && !monthday && !weekday {
        keyed.push(Slot::new(Key::Monthday, Data::int(1)));
    }
    let field = |key, default: &str| {
        keyed
            .iter()
            .find(|s| s.key == key)
            .map_or_else(|| vec![Scalar::str(default)], |s| s.d0.array())
    };
    determine_hms(hms)?
        .into_iter()
        .map(|(hours, minutes)| {
            let mut fields = vec![
                field(Key::Second, "0"),
                minutes,
                hours,
                field(Key::Monthday, "*"),
                field(Key::Month, "*"),
                field(Key::Weekday, "*"),
            ];
            if let Some(tz) = keyed.iter().find(|s| s.key == Key::Tz) {
                fields.push(tz.d0.array());
            }
            if fields[0] == [Scalar::str("0")] {
                fields.remove(0);
            }
            let texts: Vec<String> = fields.into_iter().map(cron_field).collect();
            Ok(texts.join(" "))
        })
        .collect()
}

/// The hours and the minutes of one cron line.
type HoursMinutes = (Vec<Scalar>, Vec<Scalar>);

/// `e.uniq.sort_by(&letters_last).collect(&:to_s).join(',')`: numbers in order, then words
/// ("1st and last" is "1,L").
fn cron_field(values: Vec<Scalar>) -> String {
    let mut unique: Vec<Scalar> = Vec::new();
    for value in values {
        if !unique.contains(&value) {
            unique.push(value);
        }
    }
    unique.sort_by(|a, b| match (a, b) {
        (Scalar::Int(_), Scalar::Int(_)) => numbers_in_order(a, b),
        (Scalar::Int(_), _) => Ordering::Less,
        (_, Scalar::Int(_)) => Ordering::Greater,
        _ => Ordering::Equal,
    });
    unique
        .iter()
        .map(Scalar::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Fugit's `determine_hms`: graded (weak or strong) hour/minute slots absorb a neighbour, then
/// minutes sharing the same hours are grouped; each group is one cron line.
fn determine_hms(mut hms: Vec<Slot>) -> Result<Vec<HoursMinutes>, String> {
    if hms.is_empty() {
        return Ok(vec![(vec![Scalar::str("*")], vec![Scalar::str("*")])]);
    }
    // From the left, each graded slot absorbs the slot before it (after it, if first) and
    // takes its place, no longer graded; in one pass, so that it stays linear.
    let mut merged: Vec<Slot> = Vec::with_capacity(hms.len());
    let mut first_graded: Option<Slot> = None;
    for mut slot in hms.drain(..) {
        if let Some(mut first) = first_graded.take() {
            first.append(&slot)?;
            merged.push(first);
        } else if !slot.graded() {
            merged.push(slot);
        } else if let Some(before) = merged.pop() {
            slot.append(&before)?;
            merged.push(slot);
        } else {
            first_graded = Some(slot);
        }
    }
    merged.extend(first_graded);
    let hms = merged;
    let mut hours_by_minute: Vec<(Scalar, Vec<Scalar>)> = Vec::new();
    for hm in &hms {
        let hours = hm.d0.array();
        for minute in hm.d1.array() {
            match hours_by_minute.iter_mut().find(|(m, _)| *m == minute) {
                Some((_, hs)) => hs.extend(hours.iter().cloned()),
                None => hours_by_minute.push((minute, hours.clone())),
            }
        }
    }
    let mut groups: Vec<HoursMinutes> = Vec::new();
    for (minute, hours) in hours_by_minute {
        let hours = sorted(hours)?;
        match groups.iter_mut().find(|(hs, _)| *hs == hours) {
            Some((_, minutes)) => minutes.push(minute),
            None => groups.push((hours, vec![minute])),
        }
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Inputs and the cron text(s) fugit builds from them: none when fugit returns nil or raises,
    /// two when it builds several lines (which `to_cron` refuses). Recorded from the `s` that
    /// fugit 1.5.2's `SlotGroup#parse_cron` hands to `Fugit::Cron.parse` (`multi: true`), then
    /// moved to fugit 1.14's reading where it differs: am/pm after hh:mm, words before a zone,
    /// numbers sorted before words; hour and minute words in any case and longest first.
    #[rustfmt::skip]
    const FUGIT: &[(&str, &[&str])] = &[
        ("every second", &["* * * * * *"]),
        ("every 1 second", &["* * * * * *"]),
        ("every 30 seconds", &["*/30 * * * * *"]),
        ("every 15s", &["*/15 * * * * *"]),
        ("every minute", &["* * * * *"]),
        ("every 5 minutes", &["*/5 * * * *"]),
        ("every 5 min", &["*/5 * * * *"]),
        ("every 10m", &["*/10 * * * *"]),
        ("every hour", &["0 * * * *"]),
        ("every 2 hours", &["0 */2 * * *"]),
        ("every 2h", &["0 */2 * * *"]),
        ("every day", &["0 0 * * *"]),
        ("every 3 days", &["0 0 */3 * *"]),
        ("every week", &["0 0 * * 0"]),
        ("every 1 week", &["0 0 * * 0"]),
        ("every month", &["0 0 1 * *"]),
        ("every 2 months", &["0 0 1 */2 *"]),
        ("every M", &["0 0 1 * *"]),
        ("every year", &["0 0 1 1 *"]),
        ("every day at noon", &["0 12 * * *"]),
        ("every day at midnight", &["0 0 * * *"]),
        ("every day at five", &["0 5 * * *"]),
        ("every day at FIVE", &["0 5 * * *"]),
        ("every day at five thirty pm", &["30 17 * * *"]),
        ("every day at five fourteen", &["14 5 * * *"]),
        ("every day at twelve midnight", &["0 24 * * *"]),
        ("every day at 6 o'clock", &[]),
        ("every day at one o'clock pm", &["0 13 * * *"]),
        ("every day at five dark", &["0 5 * * *"]),
        ("every day at 5pm", &["0 17 * * *"]),
        ("every day at 5 pm", &["0 17 * * *"]),
        ("every day at 5am", &["0 5 * * *"]),
        ("every day at 17:30", &["30 17 * * *"]),
        ("every day at 18:00", &["0 18 * * *"]),
        ("every day at 5:30 pm", &["30 17 * * *"]),
        ("every day at 5:30pm", &["30 17 * * *"]),
        ("every day at 12pm", &["0 12 * * *"]),
        ("every day at 0:00", &["0 0 * * *"]),
        ("every day at 24:00", &["0 24 * * *"]),
        ("every day 5pm", &["0 17 * * *"]),
        ("at 5pm", &["0 17 * * *"]),
        ("every weekday at five", &["0 5 * * 1-5"]),
        ("every Weekday at 9:30 am", &["30 9 * * 1-5"]),
        ("every monday at 9am", &["0 9 * * 1"]),
        ("every Monday at 9am UTC", &["0 9 * * 1 UTC"]),
        ("every tuesday and friday at 11:00", &["0 11 * * 2,5"]),
        ("every tue, thu at 11", &["0 11 * * 2,4"]),
        ("every mon or wed at 8 and 20", &["0 8,20 * * 1,3"]),
        ("every Fri-Sun at 10am", &["0 10 * * 5-0"]),
        ("every friday to sunday at 10am", &["0 10 * * 5-0"]),
        ("every monday through friday at 7", &["0 7 * * 1-5"]),
        ("every Fri-Sun and Monday", &["0 0 * * 5-0"]),
        ("every monday-friday at 9:15", &["15 9 * * 1-5"]),
        ("every mon,wed,fri", &["0 0 * * 1,3,5"]),
        ("every monday and every friday", &[]),
        ("every mondays", &[]),
        ("every 1st of the month", &["0 0 1 * *"]),
        ("every first of the month at 10:00", &["0 10 1 * *"]),
        ("every 15th of the month at noon", &["0 12 15 * *"]),
        ("every last of the month", &["0 0 L * *"]),
        ("every 1st and 15th of the month at noon", &["0 12 1 * *"]),
        ("every month on day 2 at 10:00", &["0 10 2 * *"]),
        ("every month on day 2 and 5 at 10:00", &["0 10 2,5 * *"]),
        ("every month on days 1,15 at 10:00", &["0 10 1,15 * *"]),
        ("every month on the 1st", &["0 0 1 * *"]),
        ("every month on the 1st and the 15th at 8", &["0 8 1,15 * *"]),
        ("every week on monday 18:23", &["23 18 * * 1"]),
        ("every day on monday", &["0 0 * * 1"]),
        ("every hour on minute 5", &["5 * * * *"]),
        ("every hour on minutes 5, 10", &[]),
        ("every day at 9 on minute 5", &[]),
        ("every day at 5pm on minute 5", &[]),
        ("every day from 9 to 17 on minute 0", &["0 9-16 * * *"]),
        ("every day from 9am to 5pm on minute 30", &["30 9-16 * * *"]),
        ("every day on the hour", &["* 0 * * *"]),
        ("every hour on the hour", &["* 0 * * *"]),
        ("every day on the minute", &["* * * * *"]),
        ("on the hour", &["* 0 * * *"]),
        ("at minute 5 and 10", &["5,10 * * * *"]),
        ("every day at minute 5 and 10", &["5,10 * * * *"]),
        ("every day at minutes 5, 10 or 15", &["5,10,15 * * * *"]),
        ("every day at second 30", &["30 0 0 * * *"]),
        ("every day at hour 5", &["0 0 * * *"]),
        ("every day at 5pm and 6pm", &["0 17,18 * * *"]),
        ("every day at 5:15 and 6:15", &["15 5,6 * * *"]),
        ("every day at 5pm and 6:30pm", &["0 17 * * *", "30 18 * * *"]),
        ("every day at 9 and 17 on minutes 5, 10", &[]),
        ("from monday to friday at 9", &["0 9 * * 1-5"]),
        ("from mon to fri at 9:30", &["30 9 * * 1-5"]),
        ("from the 1st to the 15th at 8", &["0 8 1-15 * *"]),
        ("from 1st to 10th", &["0 0 1-10 * *"]),
        ("from 9am to 5pm", &["0 9-17 * * *"]),
        ("from 9am to 5:30pm", &[]),
        ("from 9 to 17 on monday", &["0 9-17 * * 1"]),
        ("every day at 5 pm on America/Los_Angeles", &["0 17 * * * America/Los_Angeles"]),
        ("every day at 5 pm in America/Los_Angeles", &["0 17 * * * America/Los_Angeles"]),
        ("every day at 5pm America/New_York", &["0 17 * * * America/New_York"]),
        ("every day at 5 UTC", &["0 5 * * * UTC"]),
        ("every day at 5 Z", &["0 5 * * * Z"]),
        ("every day at 5 +05:30", &["0 5 * * * +05:30"]),
        ("every day at 5 -0800", &["0 5 * * * -0800"]),
        ("every day at noon America/Argentina/Buenos_Aires", &["0 12 * * * America/Argentina/Buenos_Aires"]),
        ("every day at noon UTC and Europe/Paris", &[]),
        ("every day on Monday", &["0 0 * * * Monday"]),
        ("every 30 seconds on monday", &["*/30 0 0 * * 1"]),
        ("every 5 minutes from 9 to 17", &["*/5 9-16 * * *"]),
        ("every 2 hours on monday", &["0 */2 * * 1"]),
        ("every day and hour", &["0 0 * * *"]),
        ("every 5 secs", &[]),
        ("every", &[]),
        ("every day and", &[]),
        ("every day at", &[]),
        ("every day at 25", &[]),
        ("every day at 5xm", &[]),
        ("xyz", &[]),
        ("every day at noonish", &[]),
        ("monday", &[]),
        ("noon", &["0 12 * * *"]),
        ("5", &["0 5 * * *"]),
        ("Europe/Paris", &["* * * * * Europe/Paris"]),
        ("every day at midday", &[]),
        ("every sunday at midnight", &["0 0 * * 0"]),
        ("every ſunday", &["0 0 * * "]),
        ("every 1 minute in UTC", &["* * * * * UTC"]),
        ("every 5 minutes on the 1st", &["*/5 * 1 * *"]),
        ("every 2 days at noon", &["0 12 */2 * *"]),
        ("every SUNDAY", &["0 0 * * 0"]),
        ("every MONDAY at NOON", &["0 12 * * 1"]),
        ("every day at 5:30 PM", &["30 17 * * *"]),
        ("every 5 MINUTES", &[]),
        ("EVERY DAY", &["* * * * * EVERY,DAY"]),
        ("every weeKday", &["0 0 * * 1-5"]),
        ("every Friday-Monday", &["0 0 * * 5-1"]),
        ("from the last to the 1st", &["0 0 L-1 * *"]),
        ("from 23 to 2", &["0 23-2 * * *"]),
        ("from 9 to midnight on minute 0", &["0 9--1 * * *"]),
        ("from hour 5 to hour 7 at 8", &["0 [5]-[7] * * *"]),
        ("every day at minute 007, 7", &["7 * * * *"]),
        ("every 99999999999999999999999 seconds", &["*/99999999999999999999999 * * * * *"]),
        ("every monday\nat 5", &[]),
    ];

    #[test]
    fn builds_the_cron_text_fugit_builds() {
        for &(input, expected) in FUGIT {
            let got = to_cron(input);
            match expected {
                [cron] => assert_eq!(got.as_deref(), Ok(*cron), "{input:?}"),
                [] => assert!(got.is_err(), "{input:?} gave {got:?}, fugit rejects it"),
                crons => {
                    let message = got.expect_err(input);
                    assert!(
                        crons.iter().all(|c| message.contains(&format!("{c:?}"))),
                        "{input:?}: {message}"
                    );
                    assert!(message.contains("only the first"), "{message}");
                }
            }
        }
    }

    #[test]
    fn errors_say_what_and_where() {
        assert_eq!(
            to_cron("xyz"),
            Err("unknown word \"xyz\" at character 1".into())
        );
        assert_eq!(
            to_cron("every day at 5xm"),
            Err("unknown word \"xm\" at character 15".into())
        );
        assert_eq!(
            to_cron("every day at noonish"),
            Err("unknown word \"noonish\" at character 14".into())
        );
        assert_eq!(
            to_cron("every day at 5pm, 7pm and"),
            Err("cannot read \"and\" at character 23".into())
        );
        assert_eq!(
            to_cron("every day at"),
            Err("cannot read \"at\" at character 11".into())
        );
        assert!(to_cron("from monday").unwrap_err().contains("stops short"));
        assert!(to_cron("from 9am to 5:30pm")
            .unwrap_err()
            .contains("\"9am to 5:30pm\""));
        assert!(to_cron("every day at 5pm on minute 5")
            .unwrap_err()
            .contains("crashes"));
        assert_eq!(
            to_cron("at noon UTC Europe/Paris"),
            Ok("0 12 * * * UTC,Europe/Paris".into())
        );
    }

    #[test]
    fn unknown_words_get_the_nearest_known_one() {
        for (input, word, known) in [
            ("every 5 minuts", "minuts", "minutes"),
            ("every 5 mintues", "mintues", "minutes"),
            ("every tusday at 5pm", "tusday", "tuesday"),
            ("evry day", "evry", "every"),
            ("every day at noom", "noom", "noon"),
            ("every day at fiev pm", "fiev", "five"),
            ("every wednesdya", "wednesdya", "wednesday"),
            ("every day at 5pm sharp", "sharp", ""),
        ] {
            let message = to_cron(input).expect_err(input);
            let expected = if known.is_empty() {
                format!("unknown word {word:?} at character")
            } else {
                format!("unknown word {word:?} (did you mean {known:?}?)")
            };
            assert!(message.starts_with(&expected), "{input:?}: {message}");
        }
    }

    #[test]
    fn a_zone_in_the_wrong_case_is_named_rightly() {
        assert_eq!(
            to_cron("every day at 5pm america/new_york"),
            Err(
                "unknown time zone \"america/new_york\" (zone names are case-sensitive: \
                 America/New_York)"
                    .into()
            )
        );
    }

    #[test]
    fn steps_start_where_asked_in_the_interval_unit() {
        for (input, cron) in [
            ("every 15 minutes starting at minute 1", "1-59/15 * * * *"),
            ("every 2 hours starting at hour 8", "0 8-23/2 * * *"),
            ("every 5 days starting at day 3", "0 0 3-31/5 * *"),
            ("every month starting at month 6", "0 0 1 6-12 *"),
            ("every second from second 10", "10-59 * * * * *"),
            ("every 20 seconds from second 5", "5-59/20 * * * * *"),
        ] {
            assert_eq!(to_cron(input).as_deref(), Ok(cron), "{input:?}");
        }
        assert_eq!(
            to_cron("every 15 minutes starting at hour 8"),
            Err(
                "\"starting at hour 8\" does not fit an interval in minutes: write \
                 \"starting at minute N\""
                    .into()
            )
        );
        assert_eq!(
            to_cron("every 15 minutes starting at minute 60"),
            Err("\"starting at minute 60\": a minute is 0 to 59".into())
        );
    }

    #[test]
    fn empty_input_is_every_minute_as_in_fugit() {
        assert_eq!(to_cron(""), Ok("* * * * *".into()));
        assert!(to_cron(" ").is_err());
    }

    #[test]
    fn case_insensitive_flags_span_alternatives() {
        assert!(anchored("(?i)a|b").is_match("B"));
    }

    #[test]
    fn garbage_never_panics_and_is_quick() {
        let words: Vec<&str> = "every|Every|day|days|at|on|in|from|to|and|or|the|of the month|\
            minute|minutes|hour|second|5|17|30|99999999999999999999999|5pm|17:30|noon|five|thirty|\
            o'clock|dark|pm|monday|Fri|weekday|week|year|1st|last|first|UTC|Z|+05:30|Europe/Paris|\
            M|s|,|-|ſ|ﬁ|K|é|\n|\t"
            .split('|')
            .collect();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let started = Instant::now();
        for _ in 0..2000 {
            let mut input = String::new();
            for _ in 0..next(12) {
                input.push_str(words[next(words.len())]);
                input.push_str([" ", "", ", ", "\t", "  "][next(5)]);
            }
            if next(4) == 0 {
                input.push(char::from_u32(next(0x3000) as u32).unwrap_or('?'));
            }
            let _ = to_cron(&input);
        }
        let long = "every monday, ".repeat(500) + &"at 5 and 6 and ".repeat(500) + "on the 1st";
        assert!(to_cron(&long).is_err());
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    }
}
