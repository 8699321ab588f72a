//! fugit's `SlotGroup`: slots merged into cron text.

use super::rewrite::{numbers_in_order, sorted, Data, Key, Scalar, Slot};
use std::cmp::Ordering;

/// Fugit's `SlotGroup`: merges the slots and builds one cron text per distinct hour set
/// (`to_crons` with `multi: true`).
pub(super) fn crons(slots: Vec<Slot>) -> Result<Vec<String>, String> {
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
