//! Business-day arithmetic: SLA clocks and due dates count working days, which a model gets
//! wrong as soon as a weekend or a holiday is in between.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// At most ten years either way: a longer span is a mistake in the input, not an SLA.
pub const MAX_DAYS: i64 = 3660;

fn is_business_day(date: NaiveDate, holidays: &BTreeSet<NaiveDate>) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&date)
}

/// Business days from `start` (included) to `end` (excluded); negative when `end` is earlier.
pub fn between(
    start: NaiveDate,
    end: NaiveDate,
    holidays: &BTreeSet<NaiveDate>,
) -> Result<i64, String> {
    let span = (end - start).num_days();
    if span.abs() > MAX_DAYS {
        return Err(format!(
            "{start} to {end} is {} days; the limit is {MAX_DAYS}",
            span.abs()
        ));
    }
    let (from, to, sign) = if span >= 0 {
        (start, end, 1)
    } else {
        (end, start, -1)
    };
    let count = from
        .iter_days()
        .take_while(|d| *d < to)
        .filter(|d| is_business_day(*d, holidays))
        .count();
    Ok(sign * count as i64)
}

/// The date `days` business days after `start` (before it, when negative). Day 0 is `start`
/// itself when it is a business day, else the next one.
pub fn add(
    start: NaiveDate,
    days: i64,
    holidays: &BTreeSet<NaiveDate>,
) -> Result<NaiveDate, String> {
    if days.abs() > MAX_DAYS {
        return Err(format!(
            "{days} business days is over the limit of {MAX_DAYS}"
        ));
    }
    let step = |date: NaiveDate| {
        if days >= 0 {
            date.checked_add_days(Days::new(1))
        } else {
            date.checked_sub_days(Days::new(1))
        }
    };
    let out_of_range = || format!("{days} business days from {start} is out of the calendar");
    let mut date = start;
    while !is_business_day(date, holidays) {
        date = step(date).ok_or_else(out_of_range)?;
    }
    let mut left = days.abs();
    while left > 0 {
        date = step(date).ok_or_else(out_of_range)?;
        if is_business_day(date, holidays) {
            left -= 1;
        }
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn weekends_and_holidays_do_not_count() {
        let none = BTreeSet::new();
        // Monday 2026-11-30 to Monday 2026-12-07: five working days.
        assert_eq!(between(d("2026-11-30"), d("2026-12-07"), &none), Ok(5));
        assert_eq!(between(d("2026-12-07"), d("2026-11-30"), &none), Ok(-5));
        let holidays = BTreeSet::from([d("2026-12-25")]);
        assert_eq!(between(d("2026-12-21"), d("2026-12-28"), &holidays), Ok(4));
    }

    #[test]
    fn a_due_date_skips_the_weekend() {
        let none = BTreeSet::new();
        // Friday + 1 business day = Monday; Saturday + 0 = Monday.
        assert_eq!(add(d("2026-12-04"), 1, &none), Ok(d("2026-12-07")));
        assert_eq!(add(d("2026-12-05"), 0, &none), Ok(d("2026-12-07")));
        assert_eq!(add(d("2026-12-07"), -1, &none), Ok(d("2026-12-04")));
        let holidays = BTreeSet::from([d("2026-12-25")]);
        assert_eq!(add(d("2026-12-24"), 1, &holidays), Ok(d("2026-12-28")));
    }

    #[test]
    fn absurd_spans_are_refused() {
        let none = BTreeSet::new();
        assert!(between(d("2000-01-01"), d("2026-01-01"), &none).is_err());
        assert!(add(d("2026-01-01"), 100_000, &none).is_err());
    }
}
