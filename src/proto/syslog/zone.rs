//! IOS `show-timezone` names after a stamp (`… 09:21:07.118 CEST:`).

/// ` ZONE:` after the time. Returns (offset if known, name, index after the name). Names we do
/// not know are only accepted when they look like an IOS `clock timezone` name (letters, at most
/// 7), so an ASA device-id such as `fw-01` is not mistaken for one.
pub(crate) fn parse(s: &str, i: usize) -> Option<(Option<i32>, &str, usize)> {
    let b = s.as_bytes();
    if b.get(i) != Some(&b' ') || !b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let start = i + 1;
    let mut j = start;
    while j < b.len() && j - start < 16 && (b[j].is_ascii_alphanumeric() || b"+-_".contains(&b[j]))
    {
        j += 1;
    }
    if b.get(j) != Some(&b':') {
        return None;
    }
    let name = s.get(start..j)?;
    match known_zone(name) {
        Some(offset) => Some((Some(offset), name, j)),
        None if name.len() <= 7 && name.bytes().all(|c| c.is_ascii_alphabetic()) => {
            Some((None, name, j))
        }
        None => None,
    }
}

/// Well-known abbreviations, seconds east of UTC. Ambiguous ones (IST) are left out on purpose:
/// a wrong offset is worse than UTC plus the recorded name.
fn known_zone(name: &str) -> Option<i32> {
    const H: i32 = 3600;
    Some(match name {
        "UTC" | "GMT" | "UT" | "Z" | "WET" => 0,
        "WEST" | "BST" | "CET" | "MET" => H,
        "CEST" | "MEST" | "EET" | "SAST" => 2 * H,
        "EEST" | "MSK" => 3 * H,
        "WIB" => 7 * H,
        "HKT" | "SGT" | "AWST" => 8 * H,
        "JST" | "KST" => 9 * H,
        "ACST" => 9 * H + 1800,
        "AEST" => 10 * H,
        "ACDT" => 10 * H + 1800,
        "AEDT" => 11 * H,
        "NZST" => 12 * H,
        "NZDT" => 13 * H,
        "NDT" => -(2 * H + 1800),
        "NST" => -(3 * H + 1800),
        "ADT" | "BRT" | "ART" => -3 * H,
        "AST" | "EDT" => -4 * H,
        "EST" | "CDT" => -5 * H,
        "CST" | "MDT" => -6 * H,
        "MST" | "PDT" => -7 * H,
        "PST" | "AKDT" => -8 * H,
        "AKST" => -9 * H,
        "HST" => -10 * H,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn known_unknown_and_not_a_zone() {
        assert_eq!(parse(" CEST: x", 0), Some((Some(7200), "CEST", 5)));
        assert_eq!(parse(" PDT: x", 0), Some((Some(-25200), "PDT", 4)));
        assert_eq!(parse(" NewYork: x", 0), Some((None, "NewYork", 8)));
        // Too long or not letters-only for an IOS zone name: an ASA device-id instead.
        assert_eq!(parse(" asa-fw01: x", 0), None);
        assert_eq!(parse(" Berlin123: x", 0), None);
        // A zone is always glued to its colon.
        assert_eq!(parse(" UTC : x", 0), None);
        assert_eq!(parse("UTC: x", 0), None);
    }
}
