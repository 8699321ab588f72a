use super::*;

fn cron(text: &str) -> Cron {
    let fields: Vec<&str> = text.split_whitespace().collect();
    parse_fields(&fields, None).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Local seconds of `YYYY-MM-DD hh:mm:ss`.
fn local(text: &str) -> i64 {
    let numbers: Vec<i64> = text
        .split(['-', ' ', ':'])
        .map(|n| n.parse().unwrap_or_else(|_| panic!("{text}")))
        .collect();
    let [year, month, day, h, m, s] = numbers[..] else {
        panic!("{text}")
    };
    let (month, day) = (month.try_into().unwrap(), day.try_into().unwrap());
    Date { year, month, day }.days() * DAY + h * 3600 + m * 60 + s
}

#[test]
fn normalizes_like_fugit() {
    assert_eq!(cron("*/15 * * * *").text, "0,15,30,45 * * * *");
    assert_eq!(cron("0 22-2 * * *").text, "0 0,1,2,22,23 * * *");
    assert_eq!(cron("50-10/7 * * * *").text, "4,50,57 * * * *");
    assert_eq!(cron("/20 * * * * *").text, "0,20,40 * * * * *");
    assert_eq!(cron("5/20 0 * * *").text, "5,25,45 0 * * *");
    assert_eq!(cron("0 24 L * fri-mon").text, "0 0 -1 * 0,1,5,6");
    assert_eq!(cron("0 9 * * 7,1#2,3#L").text, "0 9 * * 0,1#2,3#-1");
    assert_eq!(cron("0 0 30,31 2,4 *").text, "0 0 30 4 *");
    assert_eq!(cron("0 0 * * */2").text, "0 0 * * 0,2,4,6");
    assert_eq!(
        cron("0 0 -5--1 JAN-Mar *").text,
        "0 0 -5,-4,-3,-2,-1 1,2,3 *"
    );
}

#[test]
fn rejects_what_cannot_be_read() {
    for bad in [
        "60 * * * *",
        "* 25 * * *",
        "* * 0 * *",
        "* * * 13 *",
        "* * * * 8",
        "*/0 * * * *",
        "1-2-3 * * * *",
        "* * -3-5 * *",
        "* * * * 1#6",
        "* * * * 1%0",
        "a * * * *",
        ", * * * *",
        ",, * * * *",
        "1& * * * *",
        "* * 1&& * *",
    ] {
        let fields: Vec<&str> = bad.split_whitespace().collect();
        assert!(
            parse_fields(&fields, None).is_err(),
            "{bad} should be rejected"
        );
    }
    let never = parse_fields(&["0", "0", "30", "2", "*"], None).unwrap_err();
    assert!(never.contains("never"), "{never}");
}

type Find = fn(&Cron, i64) -> Option<i64>;
const NEXT: Find = Cron::next_local;
const PREV: Find = Cron::prev_local;

/// A schedule, a search from a local time, and what it finds. The first schedule is the 1st,
/// the 15th and every Friday; 2024-02-02 is a Friday.
#[rustfmt::skip]
const NEXT_AND_PREVIOUS: &[(&str, Find, &str, &str)] = &[
    ("30 4 1,15 * 5", NEXT, "2024-02-02 04:30:00", "2024-02-02 04:30:00"),
    ("30 4 1,15 * 5", NEXT, "2024-02-02 04:30:01", "2024-02-09 04:30:00"),
    ("30 4 1,15 * 5", NEXT, "2024-02-10 00:00:00", "2024-02-15 04:30:00"),
    ("30 4 1,15 * 5", PREV, "2024-02-02 04:29:59", "2024-02-01 04:30:00"),
    ("0 0 29 2 *", NEXT, "2097-01-01 00:00:00", "2104-02-29 00:00:00"),
    ("0 0 29 2 *", PREV, "2104-02-28 00:00:00", "2096-02-29 00:00:00"),
    ("0 18 * * fri#-1", NEXT, "2024-05-01 00:00:00", "2024-05-31 18:00:00"),
    ("* * * * * *", NEXT, "2024-12-31 23:59:59", "2024-12-31 23:59:59"),
    ("* * * * * *", PREV, "2025-01-01 00:00:00", "2025-01-01 00:00:00"),
];

#[test]
fn finds_next_and_previous_local_times() {
    for &(text, find, from, found) in NEXT_AND_PREVIOUS {
        assert_eq!(
            find(&cron(text), local(from)),
            Some(local(found)),
            "{text} from {from}"
        );
    }
}
