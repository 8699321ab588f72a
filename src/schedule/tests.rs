//! Schedule evaluation across zones and DST changes, and properties that hold for any schedule.

use super::Schedule;
use proptest::prelude::*;

fn at(utc: &str) -> i64 {
    utc.parse::<jiff::Timestamp>().expect(utc).as_second()
}

fn schedule(text: &str) -> Schedule {
    Schedule::parse(text).unwrap_or_else(|e| panic!("{e}"))
}

/// The next `n` instants after `from`, as UTC text.
fn upcoming(text: &str, from: &str, n: usize) -> Vec<String> {
    walk(text, from, n, Schedule::next_after)
}

/// The `n` instants before `to`, latest first.
fn preceding(text: &str, to: &str, n: usize) -> Vec<String> {
    walk(text, to, n, Schedule::previous_before)
}

/// `n` instants, each the `step` of the one before, starting from `from`, as UTC text.
fn walk(text: &str, from: &str, n: usize, step: fn(&Schedule, i64) -> Option<i64>) -> Vec<String> {
    let s = schedule(text);
    std::iter::successors(step(&s, at(from)), |t| step(&s, *t))
        .take(n)
        .map(|t| jiff::Timestamp::from_second(t).unwrap().to_string())
        .collect()
}

#[test]
fn new_york_spring_forward_runs_a_fixed_time_in_the_gap_once_at_its_end() {
    let daily = "30 2 * * * America/New_York";
    let runs = [
        "2024-03-09T07:30:00Z",
        "2024-03-10T07:00:00Z",
        "2024-03-11T06:30:00Z",
    ];
    assert_eq!(upcoming(daily, "2024-03-09T00:00:00Z", 3), runs);
    assert_eq!(
        preceding(daily, "2024-03-11T12:00:00Z", 3),
        runs.iter().rev().copied().collect::<Vec<_>>()
    );
    // Several fixed times in the gap still give one run.
    assert_eq!(
        upcoming("*/20 2 * * * America/New_York", "2024-03-10T06:59:00Z", 2),
        ["2024-03-10T07:00:00Z", "2024-03-11T06:00:00Z"]
    );
}

#[test]
fn new_york_spring_forward_wildcard_hours_follow_real_instants() {
    assert_eq!(
        upcoming("*/30 * * * * America/New_York", "2024-03-10T05:59:59Z", 4),
        [
            "2024-03-10T06:00:00Z",
            "2024-03-10T06:30:00Z",
            "2024-03-10T07:00:00Z",
            "2024-03-10T07:30:00Z"
        ]
    );
}

#[test]
fn new_york_fall_back_runs_a_fixed_time_once_at_its_first_occurrence() {
    let daily = "30 1 * * * America/New_York";
    let runs = ["2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z"];
    assert_eq!(upcoming(daily, "2024-11-02T12:00:00Z", 2), runs);
    assert_eq!(
        preceding(daily, "2024-11-04T12:00:00Z", 2),
        ["2024-11-04T06:30:00Z", "2024-11-03T05:30:00Z"]
    );
    // Asked from inside the second pass of the repeated hour, it does not run again.
    assert_eq!(
        upcoming(daily, "2024-11-03T06:10:00Z", 1),
        ["2024-11-04T06:30:00Z"]
    );
}

#[test]
fn new_york_fall_back_wildcard_hours_run_both_passes() {
    let runs = [
        "2024-11-03T05:00:00Z",
        "2024-11-03T05:30:00Z",
        "2024-11-03T06:00:00Z",
        "2024-11-03T06:30:00Z",
        "2024-11-03T07:00:00Z",
    ];
    assert_eq!(
        upcoming("*/30 * * * * America/New_York", "2024-11-03T04:59:59Z", 5),
        runs
    );
    assert_eq!(
        preceding("*/30 * * * * America/New_York", "2024-11-03T07:00:01Z", 5),
        runs.iter().rev().copied().collect::<Vec<_>>()
    );
}

#[test]
fn london_changes_at_one_in_the_morning() {
    assert_eq!(
        upcoming("30 1 * * * Europe/London", "2024-03-30T12:00:00Z", 2),
        ["2024-03-31T01:00:00Z", "2024-04-01T00:30:00Z"]
    );
    assert_eq!(
        upcoming("30 1 * * * Europe/London", "2024-10-26T12:00:00Z", 2),
        ["2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z"]
    );
    assert_eq!(
        upcoming("0 * * * * Europe/London", "2024-10-26T23:30:00Z", 3),
        [
            "2024-10-27T00:00:00Z",
            "2024-10-27T01:00:00Z",
            "2024-10-27T02:00:00Z"
        ]
    );
}

#[test]
fn lord_howe_shifts_by_half_an_hour() {
    // 2024-04-07 02:00 +11:00 falls back to 01:30 +10:30 (at 2024-04-06T15:00Z).
    assert_eq!(
        upcoming("45 1 * * * Australia/Lord_Howe", "2024-04-06T12:00:00Z", 2),
        ["2024-04-06T14:45:00Z", "2024-04-07T15:15:00Z"]
    );
    assert_eq!(
        upcoming(
            "*/15 * * * * Australia/Lord_Howe",
            "2024-04-06T14:40:00Z",
            4
        ),
        [
            "2024-04-06T14:45:00Z",
            "2024-04-06T15:00:00Z",
            "2024-04-06T15:15:00Z",
            "2024-04-06T15:30:00Z"
        ]
    );
    // 2024-10-06 02:00 +10:30 springs forward to 02:30 +11:00 (at 2024-10-05T15:30Z).
    assert_eq!(
        upcoming("15 2 * * * Australia/Lord_Howe", "2024-10-04T12:00:00Z", 3),
        [
            "2024-10-04T15:45:00Z",
            "2024-10-05T15:30:00Z",
            "2024-10-06T15:15:00Z"
        ]
    );
    assert_eq!(
        upcoming("15 * * * * Australia/Lord_Howe", "2024-10-05T14:00:00Z", 2),
        ["2024-10-05T14:45:00Z", "2024-10-05T16:15:00Z"]
    );
}

#[test]
fn every_second_counts_real_seconds_across_a_change() {
    let s = schedule("* * * * * * America/New_York");
    let (from, to) = (at("2024-11-03T04:00:00Z"), at("2024-11-03T07:00:00Z"));
    let count = std::iter::successors(s.next_after(from - 1), |t| s.next_after(*t))
        .take_while(|t| *t < to)
        .count();
    assert_eq!(count, 3 * 3600);
}

#[test]
fn zones_and_offsets() {
    assert_eq!(
        upcoming("0 9 * * * Asia/Kolkata", "2024-01-01T00:00:00Z", 1),
        ["2024-01-01T03:30:00Z"]
    );
    assert_eq!(
        upcoming("0 9 * * * +05:30", "2024-01-01T00:00:00Z", 1),
        ["2024-01-01T03:30:00Z"]
    );
    assert_eq!(
        upcoming("0 9 * * * Etc/GMT+5", "2024-01-01T00:00:00Z", 1),
        ["2024-01-01T14:00:00Z"]
    );
    assert_eq!(
        schedule("@daily America/New_York").to_cron(),
        "0 0 * * * America/New_York"
    );
    assert_eq!(schedule("0 9 * * * Asia/Tokyo").time_zone(), "Asia/Tokyo");
}

/// An independent matcher: does this UTC instant's wall-clock time match the normalized line?
fn matches_fields(normalized: &str, local: i64) -> bool {
    let fields: Vec<&str> = normalized.split(' ').collect();
    let fields = if fields.len() == 5 {
        [&["0"][..], &fields[..]].concat()
    } else {
        fields
    };
    let list = |f: &str| -> Option<Vec<i64>> {
        (f != "*").then(|| f.split(',').map(|v| v.parse().unwrap()).collect())
    };
    let has = |f: &str, v: i64| list(f).is_none_or(|vs| vs.contains(&v));
    let date = super::civil::Date::from_days(local.div_euclid(86_400));
    let sod = local.rem_euclid(86_400);
    let length = i64::from(date.days_in_month());
    let day = i64::from(date.day);
    let dom = list(fields[3]).map(|vs| {
        vs.iter()
            .any(|d| *d == day || *d < 0 && length + 1 + d == day)
    });
    let dow = list(fields[5]).map(|vs| vs.contains(&i64::from(date.weekday())));
    let day_ok = match (dom, dow) {
        (Some(a), Some(b)) => a || b,
        (a, b) => a.unwrap_or(true) && b.unwrap_or(true),
    };
    has(fields[0], sod % 60)
        && has(fields[1], sod / 60 % 60)
        && has(fields[2], sod / 3600)
        && has(fields[4], i64::from(date.month))
        && day_ok
}

fn field(values: std::ops::RangeInclusive<u32>, max_picks: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        proptest::collection::btree_set(values.clone(), 1..=max_picks).prop_map(|vs| vs
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",")),
        (values.clone(), 2..9u32).prop_map(|(start, step)| format!("{start}/{step}")),
    ]
}

fn any_schedule() -> impl Strategy<Value = String> {
    let zone = prop_oneof![
        Just("UTC"),
        Just("America/New_York"),
        Just("Australia/Lord_Howe"),
        Just("Europe/London"),
        Just("Asia/Kathmandu")
    ];
    (
        field(0..=59, 3),
        field(0..=59, 4),
        field(0..=23, 4),
        field(1..=28, 3),
        field(1..=12, 5),
        field(0..=6, 3),
        zone,
    )
        .prop_map(|(s, m, h, dom, mon, dow, zone)| format!("{s} {m} {h} {dom} {mon} {dow} {zone}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn next_and_previous_bracket_every_instant(text in any_schedule(), t in 0i64..4_102_444_800) {
        let s = schedule(&text);
        let next = s.next_after(t).expect("every generated schedule fires");
        prop_assert!(next > t);
        let previous = s.previous_before(next).expect("fired before");
        prop_assert!(previous <= t, "{text}: previous_before({next}) = {previous} > {t}");
        prop_assert_eq!(s.next_after(previous), Some(next));
    }

    #[test]
    fn no_matching_minute_is_skipped_in_utc(text in any_schedule(), t in 0i64..4_102_444_800) {
        let utc = format!("{} UTC", text.rsplit_once(' ').unwrap().0);
        let s = schedule(&utc);
        let next = s.next_after(t).unwrap();
        let normalized = s.to_cron().trim_end_matches(" UTC").to_owned();
        prop_assert!(matches_fields(&normalized, next), "{utc}: {next} does not match");
        if next - t <= 3 * 86_400 {
            for second in t + 1..next {
                prop_assert!(!matches_fields(&normalized, second), "{utc}: {second} matches but next_after({t}) = {next}");
            }
        }
    }
}

#[test]
fn a_schedule_over_the_length_limit_is_refused_by_its_length() {
    let long = format!("0 0 * * * {}", "UTC ".repeat(300));
    let e = Schedule::parse(&long).expect_err("too long");
    assert_eq!(
        e.to_string(),
        format!(
            "invalid schedule {:?}: it is {} bytes long; a schedule has at most 1024 (fugit's limit)",
            format!("{}…", &long[..40]),
            long.len()
        )
    );
    assert!(Schedule::parse(&format!("{}0 0 * * *", " ".repeat(1015))).is_ok());
    assert!(Schedule::parse(&format!("{}0 0 * * *", " ".repeat(1016))).is_err());
    // Bytes, not characters: 342 three-byte spaces are 1,026 bytes.
    assert!(Schedule::parse(&format!("{}0 0 * * *", "\u{3000}".repeat(342))).is_err());
}

/// CPU time of the calling thread: unlike wall time, it does not grow when other processes
/// take the cores.
fn thread_cpu_time() -> std::time::Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    std::time::Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The parsers' cost grows linearly: 1 KB, 10 KB and 100 KB inputs of one shape cost within a
/// constant factor per byte, not ten times more per step (in this thread's CPU time, the
/// quickest of five runs, after one that warms the regexes).
#[test]
fn parse_time_is_linear_in_the_input() {
    let shapes: [(&str, &str); 7] = [
        ("", "UTC "),
        ("every day at ", "5pm and "),
        ("every ", "monday and "),
        ("", "1,"),
        ("", "every 5 minutes "),
        ("every day at noon ", "on the 1st "),
        ("every 5 ", "minuts "),
    ];
    for (prefix, unit) in shapes {
        let input = |bytes: usize| format!("{prefix}{}", unit.repeat(bytes / unit.len()));
        let cost = |bytes: usize| {
            let text = input(bytes);
            let _ = Schedule::parse_any_length(&text, usize::MAX);
            (0..5)
                .map(|_| {
                    let started = thread_cpu_time();
                    let _ = Schedule::parse_any_length(&text, usize::MAX);
                    thread_cpu_time().saturating_sub(started)
                })
                .min()
                .unwrap_or_default()
        };
        let costs = [cost(1_000), cost(10_000), cost(100_000)];
        for pair in costs.windows(2) {
            assert!(
                pair[1] < pair[0] * 30 + std::time::Duration::from_millis(5),
                "{:?}…: {costs:?} for 1 KB, 10 KB and 100 KB",
                input(40)
            );
        }
    }
}
