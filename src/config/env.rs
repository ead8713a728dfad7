//! `${VAR}` and `${VAR:-default}` replacement, done on the text before YAML parsing so ECS
//! secrets work without templating tools. `$$` is a literal `$`. An unset variable without a
//! default is an error that names the variable and where it is used. YAML comments are left
//! alone, so a commented-out `${SNMP_COMMUNITY}` does not make the variable required.

/// A `${...}` that could not be replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Replaces every reference; collects every error.
pub fn interpolate(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, Vec<EnvError>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    let (mut line, mut col) = (1, 1);
    let comments = comment_spans(text);
    let in_comment = |at: usize| comments.iter().any(|&(a, b)| a <= at && at < b);
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        let (before, after) = rest.split_at(pos);
        let at = text.len() - rest.len() + pos;
        if in_comment(at) {
            // Copy the comment through untouched, up to the end of its line.
            let end = after.find('\n').unwrap_or(after.len());
            out.push_str(before);
            out.push_str(&after[..end]);
            advance(&mut line, &mut col, before);
            advance(&mut line, &mut col, &after[..end]);
            rest = &after[end..];
            continue;
        }
        out.push_str(before);
        advance(&mut line, &mut col, before);
        if let Some(r) = after.strip_prefix("$$") {
            out.push('$');
            col += 2;
            rest = r;
            continue;
        }
        let Some(body_start) = after.strip_prefix("${") else {
            out.push('$');
            col += 1;
            rest = &after[1..];
            continue;
        };
        let Some(end) = body_start.find('}') else {
            errors.push(EnvError {
                line,
                column: col,
                message: "unterminated `${`: add the closing `}` (or write `$$` for a literal `$`)"
                    .into(),
            });
            out.push_str(after);
            break;
        };
        let body = &body_start[..end];
        let (name, default) = match body.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (body, None),
        };
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            errors.push(EnvError {
                line,
                column: col,
                message: format!("`${{{body}}}` is not a valid variable reference: use ${{NAME}} or ${{NAME:-default}}"),
            });
        } else {
            match (lookup(name).filter(|v| !v.is_empty() || default.is_none()), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => errors.push(EnvError {
                    line,
                    column: col,
                    message: format!(
                        "environment variable {name} is not set: set it, or write ${{{name}:-default}}"
                    ),
                }),
            }
        }
        let consumed = 2 + end + 1;
        advance(&mut line, &mut col, &after[..consumed]);
        rest = &after[consumed..];
    }
    if errors.is_empty() {
        out.push_str(rest);
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Byte ranges of YAML comments: a `#` at the start of a line or after a space or tab,
/// outside quotes, up to the end of the line.
fn comment_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let (mut quote, mut prev, mut start) = (None, '\n', None);
    for (i, c) in text.char_indices() {
        match c {
            '\n' => {
                if let Some(a) = start.take() {
                    spans.push((a, i));
                }
                quote = None;
            }
            _ if start.is_some() => {}
            '\'' | '"' if quote == Some(c) => quote = None,
            '\'' | '"' if quote.is_none() => quote = Some(c),
            '#' if quote.is_none() && matches!(prev, '\n' | ' ' | '\t') => start = Some(i),
            _ => {}
        }
        prev = c;
    }
    if let Some(a) = start {
        spans.push((a, text.len()));
    }
    spans
}

fn advance(line: &mut usize, col: &mut usize, s: &str) {
    for c in s.chars() {
        if c == '\n' {
            *line += 1;
            *col = 1;
        } else {
            *col += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "KEY" => Some("abc".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn replaces_and_defaults() {
        let s = interpolate(
            "a: ${KEY}\nb: ${NOPE:-x}\nc: ${EMPTY:-d}\nd: $$5 $HOME",
            env,
        )
        .unwrap();
        assert_eq!(s, "a: abc\nb: x\nc: d\nd: $5 $HOME");
    }

    #[test]
    fn comments_are_left_alone() {
        let text =
            "# community: ${UNSET1}\na: ${KEY} # was ${UNSET2}\nb: \"x # ${KEY}\"\nc: a#${KEY}\n";
        let s = interpolate(text, env).unwrap();
        assert_eq!(
            s,
            "# community: ${UNSET1}\na: abc # was ${UNSET2}\nb: \"x # abc\"\nc: a#abc\n"
        );
    }

    #[test]
    fn collects_every_missing_variable_with_position() {
        let e = interpolate("a: ${A}\n  b: ${B}\nc: ${1X}", env).unwrap_err();
        assert_eq!(e.len(), 3);
        assert_eq!((e[0].line, e[0].column), (1, 4));
        assert_eq!((e[1].line, e[1].column), (2, 6));
        assert!(e[0].message.contains("A is not set"));
        assert!(e[2].message.contains("not a valid variable"));
    }
}
