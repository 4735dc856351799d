//! The two time formats of `kafka-consumer-groups.sh --reset-offsets`, turned into milliseconds
//! here so that the executor only does arithmetic.

/// `--to-datetime`, as `org.apache.kafka.common.utils.Utils.getDateTime` reads it:
/// `yyyy-MM-ddTHH:mm:ss.SSS` with an optional zone (`Z`, `+02:00`, `+0200`, `+02`); without a
/// zone the real tool appends `Z`, so the time is UTC. The milliseconds may be left out here.
///
/// Returns milliseconds since the Unix epoch.
pub(crate) fn parse_datetime_ms(text: &str) -> Result<i64, String> {
    let Some((date, time)) = text.split_once('T') else {
        return Err("Error parsing timestamp. It does not contain a 'T' according to ISO8601 format".into());
    };
    let bad = || {
        format!(
            "Error parsing timestamp '{text}': expected yyyy-MM-ddTHH:mm:ss.SSS, optionally followed by Z or +hh:mm"
        )
    };

    let date: Vec<&str> = date.split('-').collect();
    let [year, month, day] = date[..] else { return Err(bad()) };
    let (year, month, day) =
        (number(year, 4).ok_or_else(bad)?, number(month, 2).ok_or_else(bad)?, number(day, 2).ok_or_else(bad)?);

    // Split the zone off the time of day.
    let (clock, zone_minutes) = match time.find(['Z', '+', '-']) {
        None => (time, 0),
        Some(at) => (&time[..at], zone_offset_minutes(&time[at..]).ok_or_else(bad)?),
    };
    let (hms, millis) = match clock.split_once('.') {
        Some((hms, fraction)) if !fraction.is_empty() && fraction.len() <= 3 => {
            let padded = format!("{fraction:0<3}");
            (hms, number(&padded, 3).ok_or_else(bad)?)
        }
        Some(_) => return Err(bad()),
        None => (clock, 0),
    };
    let hms: Vec<&str> = hms.split(':').collect();
    let [hour, minute, second] = hms[..] else { return Err(bad()) };
    let (hour, minute, second) =
        (number(hour, 2).ok_or_else(bad)?, number(minute, 2).ok_or_else(bad)?, number(second, 2).ok_or_else(bad)?);

    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return Err(bad());
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - zone_minutes * 60;
    Ok(seconds * 1_000 + millis)
}

/// `--by-duration`, as `java.time.Duration.parse` reads it: `PnDTnHnMn.nS`, e.g. `PT15M`, `P1D`,
/// `PT1H30M`, `PT0.5S`, with an optional leading sign.
///
/// Returns the duration in milliseconds.
pub(crate) fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let bad = || format!("Text cannot be parsed to a Duration: {text}");
    let upper = text.to_ascii_uppercase();
    let (sign, rest) = match upper.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, upper.strip_prefix('+').unwrap_or(&upper)),
    };
    let rest = rest.strip_prefix('P').ok_or_else(bad)?;
    let (days_part, time_part) = match rest.split_once('T') {
        Some((days, time)) => (days, Some(time)),
        None => (rest, None),
    };
    if days_part.is_empty() && time_part.is_none_or(str::is_empty) {
        return Err(bad());
    }
    let mut total_ms: i64 = 0;
    if !days_part.is_empty() {
        let days = days_part.strip_suffix('D').ok_or_else(bad)?;
        total_ms += days.parse::<i64>().map_err(|_| bad())? * 86_400_000;
    }
    if let Some(mut time) = time_part {
        for (unit, unit_ms) in [('H', 3_600_000_i64), ('M', 60_000)] {
            if let Some(at) = time.find(unit) {
                total_ms += time[..at].parse::<i64>().map_err(|_| bad())? * unit_ms;
                time = &time[at + 1..];
            }
        }
        if let Some(seconds) = time.strip_suffix('S') {
            let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
            let negative = whole.starts_with('-');
            let whole_ms = whole.parse::<i64>().map_err(|_| bad())? * 1_000;
            let fraction_ms = if fraction.is_empty() {
                0
            } else {
                format!("{:0<3}", fraction.get(..3).unwrap_or(fraction)).parse::<i64>().map_err(|_| bad())?
            };
            total_ms += if negative { whole_ms - fraction_ms } else { whole_ms + fraction_ms };
        } else if !time.is_empty() {
            return Err(bad());
        }
    }
    Ok(sign * total_ms)
}

fn number(text: &str, digits: usize) -> Option<i64> {
    (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

/// `Z`, `+hh`, `+hhmm`, `+hh:mm` (and `-`): minutes east of UTC.
fn zone_offset_minutes(zone: &str) -> Option<i64> {
    if zone == "Z" {
        return Some(0);
    }
    let (sign, digits) = match zone.split_at(1) {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    let (hours, minutes) = match digits.len() {
        2 => (number(&digits, 2)?, 0),
        4 => (number(&digits[..2], 2)?, number(&digits[2..], 2)?),
        _ => return None,
    };
    Some(sign * (hours * 60 + minutes))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_datetime_is_utc_unless_zoned() {
        assert_eq!(parse_datetime_ms("1970-01-01T00:00:00.000"), Ok(0));
        assert_eq!(parse_datetime_ms("2023-11-14T22:13:20.000"), Ok(1_700_000_000_000));
        assert_eq!(parse_datetime_ms("2023-11-14T22:13:20.5Z"), Ok(1_700_000_000_500));
        assert_eq!(parse_datetime_ms("2023-11-14T23:13:20.000+01:00"), Ok(1_700_000_000_000));
        assert_eq!(parse_datetime_ms("2023-11-14T21:13:20-0100"), Ok(1_700_000_000_000));
        assert_eq!(parse_datetime_ms("2024-02-29T00:00:00"), Ok(1_709_164_800_000));
        assert!(parse_datetime_ms("2023-11-14 22:13:20").expect_err("no T").contains("does not contain a 'T'"));
        assert!(parse_datetime_ms("2023-13-14T22:13:20").is_err());
        assert!(parse_datetime_ms("yesterdayT12").is_err());
    }

    #[test]
    fn console_durations_like_java_time() {
        assert_eq!(parse_duration_ms("PT15M"), Ok(900_000));
        assert_eq!(parse_duration_ms("P1D"), Ok(86_400_000));
        assert_eq!(parse_duration_ms("P1DT1H30M"), Ok(86_400_000 + 5_400_000));
        assert_eq!(parse_duration_ms("pt0.5s"), Ok(500));
        assert_eq!(parse_duration_ms("-PT1H"), Ok(-3_600_000));
        assert!(parse_duration_ms("15m").is_err());
        assert!(parse_duration_ms("PT").is_err());
        assert!(parse_duration_ms("P").is_err());
    }
}
