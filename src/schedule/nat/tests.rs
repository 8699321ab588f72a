use super::parser::anchored;
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
