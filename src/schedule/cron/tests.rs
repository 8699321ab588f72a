use super::*;

fn cron(text: &str) -> Cron {
    let fields: Vec<&str> = text.split_whitespace().collect();
    parse_fields(&fields, None).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn local(y: i64, mo: u32, d: u32, h: i64, mi: i64, s: i64) -> i64 {
    Date {
        year: y,
        month: mo,
        day: d,
    }
    .days()
        * DAY
        + h * 3600
        + mi * 60
        + s
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

#[test]
fn finds_next_and_previous_local_times() {
    let c = cron("30 4 1,15 * 5"); // the 1st, the 15th, and every Friday
    let from = local(2024, 2, 2, 4, 30, 0); // a Friday, exactly at the time
    assert_eq!(c.next_local(from), Some(from));
    assert_eq!(c.next_local(from + 1), Some(local(2024, 2, 9, 4, 30, 0)));
    assert_eq!(
        c.next_local(local(2024, 2, 10, 0, 0, 0)),
        Some(local(2024, 2, 15, 4, 30, 0))
    );
    assert_eq!(c.prev_local(from - 1), Some(local(2024, 2, 1, 4, 30, 0)));
    let leap = cron("0 0 29 2 *");
    assert_eq!(
        leap.next_local(local(2097, 1, 1, 0, 0, 0)),
        Some(local(2104, 2, 29, 0, 0, 0))
    );
    assert_eq!(
        leap.prev_local(local(2104, 2, 28, 0, 0, 0)),
        Some(local(2096, 2, 29, 0, 0, 0))
    );
    let last_friday = cron("0 18 * * fri#-1");
    assert_eq!(
        last_friday.next_local(local(2024, 5, 1, 0, 0, 0)),
        Some(local(2024, 5, 31, 18, 0, 0))
    );
    let every_second = cron("* * * * * *");
    assert_eq!(
        every_second.next_local(local(2024, 12, 31, 23, 59, 59)),
        Some(local(2024, 12, 31, 23, 59, 59))
    );
    assert_eq!(
        every_second.prev_local(local(2025, 1, 1, 0, 0, 0)),
        Some(local(2025, 1, 1, 0, 0, 0))
    );
}
