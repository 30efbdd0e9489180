//! IAM-style wildcard matching within one ARN section: `*` matches any run of
//! characters (possibly empty), `?` exactly one; everything else is literal and
//! case-sensitive.

/// Does `pattern` (with `*` and `?`) match all of `text`?
///
/// Runs in O(|pattern| · |text|) at worst and linear time in the common case,
/// with no allocation: the classic two-pointer algorithm that backtracks only
/// to the most recent `*`.
pub fn matches(pattern: &str, text: &str) -> bool {
    matches_bytes(pattern.as_bytes(), text.as_bytes())
}

/// [`matches`] on the bytes of a pattern and a text (a pattern's pieces cut
/// at byte offsets, with no char-boundary checks).
pub fn matches_bytes(p: &[u8], t: &[u8]) -> bool {
    if p == b"*" {
        return true;
    }
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == b'?' || Some(&c) == t.get(ti) => {
                // `?` must consume one whole character: identities are ASCII,
                // but a non-ASCII pattern character is compared byte by byte.
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

/// Does the text contain a wildcard character?
pub fn has_wildcard(s: &str) -> bool {
    s.bytes().any(|b| b == b'*' || b == b'?')
}

/// The characters before the first wildcard (all of `s` when it has none).
pub fn literal_prefix(s: &str) -> &str {
    match s.find(['*', '?']) {
        Some(at) => s.get(..at).unwrap_or_default(),
        None => s,
    }
}

/// The number of non-wildcard characters.
pub fn literal_len(s: &str) -> usize {
    s.chars().filter(|&c| c != '*' && c != '?').count()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn star_and_question_mark() {
        assert!(matches("*", ""));
        assert!(matches("*", "abc"));
        assert!(matches("a*c", "abbbc"));
        assert!(matches("a*c", "ac"));
        assert!(!matches("a*c", "ab"));
        assert!(matches("?", "a"));
        assert!(!matches("?", ""));
        assert!(!matches("?", "ab"));
        assert!(matches("*b*b*", "abcbd"));
        assert!(!matches("*b*b*", "abcd"));
        assert!(matches("user/*", "user/eng/alice"));
        assert!(!matches("A", "a"));
        assert!(matches("a**?", "ab"));
        assert!(!matches("", "a"));
        assert!(matches("", ""));
    }
}
