//! Parse and `next_after` cost per schedule, in the engine alone (no Ruby).
//! Run: `cargo bench -p good_cron_engine --bench schedule`

#![allow(
    clippy::unwrap_used,
    reason = "a benchmark over fixed, valid schedules"
)]

use good_cron_engine::schedule::Schedule;
use std::hint::black_box;
use std::time::Instant;

const SCHEDULES: [&str; 16] = [
    "* * * * *",
    "*/5 * * * *",
    "0 9 * * mon-fri",
    "30 4 1,15 * 5",
    "0 0 L * *",
    "0 18 * * fri#-1",
    "*/30 * * * * *",
    "0 9 * * * America/New_York",
    "30 2 * * * Australia/Lord_Howe",
    "0 0 29 2 *",
    "@daily",
    "every 30 seconds",
    "every day at 5 pm on America/Los_Angeles",
    "every tuesday and friday at 11:00",
    "every day at 10:00pm America/Chicago",
    "every 15 minutes starting at minute 1",
];

/// Inputs as long as the parser reads (1,024 bytes; natural language 256 characters), valid or not:
/// the worst a parse holding Ruby's GVL can cost.
fn longest_inputs() -> Vec<(&'static str, String)> {
    let fill = |unit: &str, prefix: &str, limit: usize| {
        let mut text = prefix.to_owned();
        while text.len() + unit.len() <= limit {
            text.push_str(unit);
        }
        text
    };
    vec![
        ("zone words", fill("UTC ", "0 0 * * * ", 1024)),
        ("a long list", fill("1,", "", 1014) + "0 * * * *"),
        ("one long word", "a".repeat(1024)),
        ("times", fill("5pm and ", "every day at ", 250) + "6pm"),
        ("weekdays", fill("monday and ", "every ", 250) + "friday"),
        ("misspelt", fill("minuts ", "every 5 ", 256)),
    ]
}

/// Median over `rounds` of the mean time per call of `batch` calls, in nanoseconds.
fn median_ns(rounds: usize, batch: usize, mut run: impl FnMut(usize)) -> f64 {
    let mut samples: Vec<f64> = (0..rounds)
        .map(|round| {
            let start = Instant::now();
            for i in 0..batch {
                run(round * batch + i);
            }
            start.elapsed().as_nanos() as f64 / batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[rounds / 2]
}

fn main() {
    std::env::set_var("TZ", "UTC");
    // Reference instants spread over 2000–2040, so every call does a fresh search.
    let instants: Vec<i64> = (0..4096_i64)
        .map(|i| 946_684_800 + i * 308_915_777 % 1_262_304_000)
        .collect();
    println!("| schedule | parse (µs) | next_after (ns) |");
    println!("|---|---:|---:|");
    let mut next_costs = Vec::new();
    for text in SCHEDULES {
        let parse = median_ns(21, 200, |_| {
            black_box(Schedule::parse(black_box(text)).unwrap());
        });
        let schedule = Schedule::parse(text).unwrap();
        let next = median_ns(101, 1000, |i| {
            black_box(schedule.next_after(black_box(instants[i % instants.len()])));
        });
        next_costs.push(next);
        println!("| `{text}` | {:.2} | {next:.0} |", parse / 1000.0);
    }
    next_costs.sort_by(f64::total_cmp);
    println!(
        "\nmedian next_after over all schedules: {:.0} ns",
        next_costs[next_costs.len() / 2]
    );
    println!("\n| longest input | characters | parses | parse (µs) |");
    println!("|---|---:|---|---:|");
    for (name, text) in longest_inputs() {
        let parse = median_ns(21, 20, |_| {
            let _ = black_box(Schedule::parse(black_box(&text)));
        });
        let parses = Schedule::parse(&text).is_ok();
        println!(
            "| {name} | {} | {parses} | {:.1} |",
            text.len(),
            parse / 1000.0
        );
    }
}
