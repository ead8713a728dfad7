//! sysObjectID patterns: Go `filepath.Match` globs over the dotted OID text (what Datadog uses),
//! and the specificity rule that picks one profile when several patterns match.
//!
//! Syntax: digits and dots match themselves, `*` any run of characters (dots included, since
//! there is no `/` in an OID), `?` one character, `[0-9]`/`[^3]`/`[!3]` one character of a class.
//!
//! **Specificity** (most specific wins): compare, in order,
//! 1. an exact OID (no wildcard) beats any glob;
//! 2. the longer literal prefix, counted in characters before the first wildcard, wins
//!    (`1.3.6.1.4.1.9.1.*` beats `1.3.6.1.4.1.9.*`);
//! 3. fewer wildcard characters wins;
//! 4. more literal characters in total wins.
//!
//! Two patterns that tie on all four are the same rank; the store reports two such equal
//! patterns from the same origin as a duplicate.

use std::cmp::Ordering;

/// A checked pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    text: String,
}

impl Pattern {
    /// Checks the characters and bracket syntax; a leading dot is dropped.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let text = text.trim();
        let text = text.strip_prefix('.').unwrap_or(text);
        if text.is_empty() {
            return Err("an empty sysobjectid pattern".into());
        }
        if text.len() > 1024 {
            return Err("a sysobjectid pattern longer than 1024 characters".into());
        }
        let mut in_class = false;
        for c in text.chars() {
            match c {
                '[' if in_class => return Err(format!("`{text}`: `[` inside a class")),
                '[' => in_class = true,
                ']' if !in_class => return Err(format!("`{text}`: `]` without `[`")),
                ']' => in_class = false,
                '0'..='9' | '.' | '*' | '?' => {}
                '-' | '^' | '!' if in_class => {}
                _ => {
                    return Err(format!(
                        "`{text}`: `{c}` is not allowed (digits, dots, *, ?, [..])"
                    ))
                }
            }
        }
        if in_class {
            return Err(format!("`{text}`: unclosed `[`"));
        }
        Ok(Pattern {
            text: text.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, oid: &str) -> bool {
        let oid = oid.strip_prefix('.').unwrap_or(oid);
        glob_match(self.text.as_bytes(), oid.as_bytes())
    }

    fn literal_prefix(&self) -> usize {
        self.text.find(['*', '?', '[']).unwrap_or(self.text.len())
    }

    fn wildcards(&self) -> usize {
        self.text
            .chars()
            .filter(|c| matches!(c, '*' | '?' | '['))
            .count()
    }

    fn literals(&self) -> usize {
        let mut n = 0;
        let mut in_class = false;
        for c in self.text.chars() {
            match c {
                '[' => in_class = true,
                ']' => in_class = false,
                '*' | '?' => {}
                _ if !in_class => n += 1,
                _ => {}
            }
        }
        n
    }

    /// `Greater` when `self` is more specific than `other`.
    pub fn specificity_cmp(&self, other: &Pattern) -> Ordering {
        let exact = |p: &Pattern| p.wildcards() == 0;
        exact(self)
            .cmp(&exact(other))
            .then(self.literal_prefix().cmp(&other.literal_prefix()))
            .then(other.wildcards().cmp(&self.wildcards()))
            .then(self.literals().cmp(&other.literals()))
    }
}

/// Backtracking glob: `*` remembers where it started and retries one character later.
fn glob_match(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                b'?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                b'[' => {
                    if let Some((ok, next)) = class_match(&p[pi..], s[si]) {
                        if ok {
                            pi += next;
                            si += 1;
                            continue;
                        }
                    }
                }
                c if c == s[si] => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Whether `c` is in the class at the start of `p` (`[...]`), and the class's length.
fn class_match(p: &[u8], c: u8) -> Option<(bool, usize)> {
    let end = p.iter().position(|&b| b == b']')?;
    let mut body = &p[1..end];
    let negate = matches!(body.first(), Some(b'^' | b'!'));
    if negate {
        body = &body[1..];
    }
    let mut hit = false;
    let mut i = 0;
    while i < body.len() {
        if i + 2 < body.len() && body[i + 1] == b'-' {
            hit |= body[i] <= c && c <= body[i + 2];
            i += 3;
        } else {
            hit |= body[i] == c;
            i += 1;
        }
    }
    Some((hit != negate, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap()
    }

    #[test]
    fn globs_match_like_go() {
        assert!(p("1.3.6.1.4.1.9.*").matches("1.3.6.1.4.1.9.1.617"));
        assert!(p("1.3.6.1.4.1.9.1.617").matches(".1.3.6.1.4.1.9.1.617"));
        assert!(!p("1.3.6.1.4.1.9.1.61").matches("1.3.6.1.4.1.9.1.617"));
        assert!(p("1.3.6.1.4.1.9.1.6?7").matches("1.3.6.1.4.1.9.1.617"));
        assert!(p("1.3.6.1.4.1.9.1.[5-6]*").matches("1.3.6.1.4.1.9.1.617"));
        assert!(!p("1.3.6.1.4.1.9.1.[^6]*").matches("1.3.6.1.4.1.9.1.617"));
        assert!(p("*").matches("1.3.6.1.4.1.2636.1.1.1.2.21"));
        assert!(!p("1.3.6.1.4.1.2636.*").matches("1.3.6.1.4.1.9.1.617"));
        assert!(p("1.3.*.9.*.617").matches("1.3.6.1.4.1.9.1.617"));
    }

    #[test]
    fn bad_patterns_are_errors() {
        for bad in ["", "1.3.a", "1.3.[6", "1.3.]", "1.3.[[6]]"] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn specificity_order() {
        use Ordering::Greater;
        assert_eq!(
            p("1.3.6.1.4.1.9.1.617").specificity_cmp(&p("1.3.6.1.4.1.9.1.*")),
            Greater
        );
        assert_eq!(
            p("1.3.6.1.4.1.9.1.*").specificity_cmp(&p("1.3.6.1.4.1.9.*")),
            Greater
        );
        assert_eq!(p("1.3.6.1.4.1.9.*").specificity_cmp(&p("*")), Greater);
        assert_eq!(
            p("1.3.6.1.4.1.9.1.6?7").specificity_cmp(&p("1.3.6.1.4.1.9.1.6*")),
            Greater
        );
        assert_eq!(
            p("1.3.6.1.4.1.9.*").specificity_cmp(&p("1.3.6.1.4.1.9.*")),
            Ordering::Equal
        );
    }
}
