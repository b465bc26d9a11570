//! Times as the lists and the conversation show them. Pure functions of
//! Unix seconds, so they are tested without a browser; the caller passes
//! the clock and the local time-zone offset.

use crate::i18n::{Lang, T};

/// How long someone has been waiting, in one short unit: `now`, `45s`,
/// `12m`, `3h`, `2d`. Short and of bounded width, so a row never reflows
/// as the clock ticks.
pub fn waiting(lang: Lang, seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=9 => lang.t(T::JustNow).to_string(),
        10..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// `HH:MM` of a Unix time, in a zone `offset_minutes` east of UTC.
pub fn clock(unix: i64, offset_minutes: i64) -> String {
    let local = unix + offset_minutes * 60;
    let minutes_of_day = local.rem_euclid(86_400) / 60;
    format!("{:02}:{:02}", minutes_of_day / 60, minutes_of_day % 60)
}

/// `DD/MM HH:MM` (Portuguese) or `MM/DD HH:MM` (English) when `unix` is
/// not on the same local day as `now`; the clock alone when it is.
pub fn stamp(lang: Lang, unix: i64, now: i64, offset_minutes: i64) -> String {
    let day = |t: i64| (t + offset_minutes * 60).div_euclid(86_400);
    if day(unix) == day(now) {
        return clock(unix, offset_minutes);
    }
    let (_, month, dom) = civil(day(unix));
    match lang {
        Lang::En => format!("{month:02}/{dom:02} {}", clock(unix, offset_minutes)),
        Lang::PtBr => format!("{dom:02}/{month:02} {}", clock(unix, offset_minutes)),
    }
}

/// (year, month, day) of a count of days since 1970-01-01 (Howard
/// Hinnant's civil-from-days).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// How a contact is named on screen: their name, or, for a visitor who
/// gave none, "Visitor #12" in the agent's language (the number tells two
/// anonymous visitors apart and is the contact's id).
pub fn contact_name(c: &switchboard_protocol::chat::Contact, lang: crate::i18n::Lang) -> String {
    if c.name.trim().is_empty() {
        lang.tf(crate::i18n::T::VisitorNumber, &[("id", &c.id.to_string())])
    } else {
        c.name.clone()
    }
}

/// Initials for an avatar: first letters of the first and last words
/// (empty for a blank name), as the widget shows them.
pub use switchboard_browser::text::initials;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_uses_one_unit() {
        let en = Lang::En;
        assert_eq!(waiting(en, 3), "now");
        assert_eq!(waiting(en, -5), "now");
        assert_eq!(waiting(en, 45), "45s");
        assert_eq!(waiting(en, 60), "1m");
        assert_eq!(waiting(en, 3599), "59m");
        assert_eq!(waiting(en, 7200), "2h");
        assert_eq!(waiting(en, 86_400 * 3 + 5), "3d");
        assert_eq!(waiting(Lang::PtBr, 1), "agora");
    }

    #[test]
    fn clock_in_local_time() {
        // 2026-05-01T12:34:56Z
        let t = 1_777_638_896;
        assert_eq!(clock(t, 0), "12:34");
        assert_eq!(clock(t, -180), "09:34");
        assert_eq!(clock(t, 690), "00:04");
    }

    #[test]
    fn stamp_adds_the_date_on_other_days() {
        let t = 1_777_638_896; // 2026-05-01 12:34 UTC
        assert_eq!(stamp(Lang::En, t, t + 60, 0), "12:34");
        assert_eq!(stamp(Lang::En, t, t + 86_400, 0), "05/01 12:34");
        assert_eq!(stamp(Lang::PtBr, t, t + 86_400, 0), "01/05 12:34");
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(20_513), (2026, 3, 1));
    }
}
