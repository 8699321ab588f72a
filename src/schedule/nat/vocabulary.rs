//! fugit's Nat vocabulary: the words its grammar knows and what they stand for.

use super::rewrite::Scalar;
use std::sync::LazyLock;

pub(super) const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];
pub(super) const WEEKDS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Fugit's `sixties`: the words for 0 to 59, in its order.
pub(super) static SIXTIES: LazyLock<Vec<String>> = LazyLock::new(|| {
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
pub(super) fn hour_words() -> Vec<&'static str> {
    SIXTIES[..13]
        .iter()
        .map(String::as_str)
        .chain(["midnight", "oh", "noon"])
        .collect()
}

/// Any case: "at Noon" is noon (fugit 1.5 read it as hour 0).
pub(super) fn nhours(word: &str) -> Option<u64> {
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
pub(super) fn minute_words() -> Vec<&'static str> {
    SIXTIES
        .iter()
        .map(String::as_str)
        .chain(["o'clock", "hundred"])
        .collect()
}

pub(super) fn nminutes(word: &str) -> Option<u64> {
    match word.to_lowercase().as_str() {
        "o'clock" | "hundred" => Some(0),
        word => SIXTIES.iter().position(|w| w == word).map(|i| i as u64),
    }
}

/// Fugit's `OMONTHDAYS` ("1st", "last", "twenty-first"...), in its insertion order.
pub(super) static OMONTHDAYS: LazyLock<Vec<(String, Scalar)>> = LazyLock::new(|| {
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
pub(super) fn alternation<'w>(words: impl IntoIterator<Item = &'w str>) -> String {
    let mut words: Vec<&str> = words.into_iter().collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    words
        .into_iter()
        .map(regex::escape)
        .collect::<Vec<_>>()
        .join("|")
}
