//! Natural-language schedules ("every day at noon"), read as fugit 1.14's Nat parser reads them.
//!
//! A port of fugit's `Fugit::Nat`: its raabro PEG grammar, the rewrite of the parse tree into
//! slots, and the way its `SlotGroup` merges slots into cron text. Fugit's quirks are kept on
//! purpose ("every 1st and 15th of the month" keeps the 1st only), so a schedule means here what
//! it means under GoodJob 4. `test/fixtures/fugit-1.14` holds fugit 1.14's readings.

mod parser;
mod rewrite;
mod slot_group;
mod vocabulary;

#[cfg(test)]
mod tests;

use parser::parse;
use rewrite::slots;
use slot_group::crons;

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
