//! Strings kept once and shared behind one thin pointer.
//!
//! A compiled policy keeps its source texts anyway (diagnostics, lint and
//! `file:line` rule ids need them). Most rules' pattern texts, literal
//! targets and `as` names are written there exactly as they are kept, so
//! they are kept as a range of that text ([`Text`]) instead of a copy each.
//! The text is reached through a [`SharedStr`], one pointer wide (an `Arc`
//! of the source's `Arc<str>`, made once per source): a value that sits in
//! every rule costs 8 bytes, not the 16 of an `Arc<str>` or `Box<str>`.
//! Reading it is one more load, from an allocation every rule of the source
//! shares (so it stays in cache).

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// A string behind one thin pointer, shared by every clone.
#[derive(Clone)]
pub struct SharedStr(Arc<Arc<str>>);

impl SharedStr {
    /// Shares `text` (no copy of its bytes).
    pub fn new(text: Arc<str>) -> SharedStr {
        SharedStr(Arc::new(text))
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `start..start + len` of the string: the range a value kept in it
    /// names (one only made where it reads exactly, [`written_at`]; empty
    /// were it outside).
    #[inline]
    pub(crate) fn str_at(&self, start: u32, len: u16) -> &str {
        let start = start as usize;
        let text = self.as_str().get(start..start + usize::from(len));
        debug_assert!(text.is_some(), "a text range outside its base");
        text.unwrap_or_default()
    }

    /// [`SharedStr::str_at`] as bytes, without its char-boundary checks
    /// (for comparing and matching).
    #[inline]
    pub(crate) fn bytes_at(&self, start: u32, len: u16) -> &[u8] {
        let start = start as usize;
        self.as_str()
            .as_bytes()
            .get(start..start + usize::from(len))
            .unwrap_or_default()
    }
}

impl From<&str> for SharedStr {
    fn from(text: &str) -> SharedStr {
        SharedStr::new(text.into())
    }
}

/// A string: all of a [`SharedStr`] of its own, or a range of a larger
/// shared one (a policy source it was written in). 16 bytes.
///
/// Equal strings compare and hash equal however they are kept.
#[derive(Clone)]
pub struct Text {
    base: SharedStr,
    start: u32,
    len: u16,
    kept: Kept,
}

/// How a [`Text`] is kept (also gives enums that hold a `Text`, such as
/// `Effect::Map(Target::Literal(_))`, a spare value for their tag: they stay
/// 16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    /// All of `base`; `start` and `len` are unused.
    Whole,
    /// `base[start..start + len]`.
    Range,
}

impl Text {
    /// A text of its own.
    pub fn new(text: &str) -> Text {
        Text {
            base: SharedStr::from(text),
            start: 0,
            len: 0,
            kept: Kept::Whole,
        }
    }

    /// `text` as the range of `base` from byte `start`, when it reads there
    /// exactly (and the range is short enough to be kept as one); `None`
    /// otherwise.
    pub(crate) fn in_shared(base: &SharedStr, start: usize, text: &str) -> Option<Text> {
        let (start, len) = written_at(base, start, text)?;
        Some(Text {
            base: base.clone(),
            start,
            len,
            kept: Kept::Range,
        })
    }

    /// `text` as a range of `base` when it is written there from byte
    /// `start` ([`Text::in_shared`]), else a text of its own.
    pub(crate) fn shared_or_new(base: Option<&SharedStr>, start: usize, text: &str) -> Text {
        base.and_then(|base| Text::in_shared(base, start, text))
            .unwrap_or_else(|| Text::new(text))
    }

    /// Is it kept as a range of a larger shared string?
    pub fn is_range(&self) -> bool {
        self.kept == Kept::Range
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        match self.kept {
            Kept::Whole => self.base.as_str(),
            Kept::Range => self.base.str_at(self.start, self.len),
        }
    }

    /// The string's bytes (without the char-boundary checks of
    /// [`Text::as_str`]: for comparing).
    pub fn as_bytes(&self) -> &[u8] {
        match self.kept {
            Kept::Whole => self.base.as_str().as_bytes(),
            Kept::Range => self.base.bytes_at(self.start, self.len),
        }
    }
}

/// Where `text` is in `base` as `(start, len)`, when it reads there exactly
/// from byte `start` and the range fits a `u32` start and a `u16` length;
/// `None` otherwise. The one check behind every value kept as a range of a
/// policy source ([`Text`], and a pattern's text).
pub(crate) fn written_at(base: &SharedStr, start: usize, text: &str) -> Option<(u32, u16)> {
    if base.as_str().get(start..start.checked_add(text.len())?) != Some(text) {
        return None;
    }
    Some((u32::try_from(start).ok()?, u16::try_from(text.len()).ok()?))
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text::new(text)
    }
}

macro_rules! like_str {
    ($t:ty) => {
        impl Deref for $t {
            type Target = str;
            fn deref(&self) -> &str {
                self.as_str()
            }
        }

        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl Borrow<str> for $t {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq for $t {
            fn eq(&self, other: &$t) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Eq for $t {}

        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl Hash for $t {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.as_str().hash(state);
            }
        }
    };
}

like_str!(SharedStr);
like_str!(Text);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_reads_and_compares_like_its_own_text() {
        let base = SharedStr::new("map \"x\" to \"alice@example.com\"".into());
        let range = Text::in_shared(&base, 12, "alice@example.com").unwrap();
        let own = Text::new("alice@example.com");
        assert!(range.is_range() && !own.is_range());
        assert_eq!(range.as_str(), "alice@example.com");
        assert_eq!(range.as_bytes(), b"alice@example.com");
        assert_eq!(own.as_bytes(), b"alice@example.com");
        assert_eq!(range, own);
        assert_eq!(format!("{range} {range:?}"), format!("{own} {own:?}"));
        let hash = |t: &Text| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            t.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(&range), hash(&own));
    }

    #[test]
    fn text_not_written_there_is_not_a_range() {
        let base = SharedStr::new("to \"a\\\\b\"".into());
        // The string `a\b`, written with an escape: not in the source as is.
        assert!(Text::in_shared(&base, 4, "a\\b").is_none());
        assert!(Text::in_shared(&base, 40, "a").is_none());
        let kept = Text::shared_or_new(Some(&base), 4, "a\\b");
        assert!(!kept.is_range());
        assert_eq!(kept.as_str(), "a\\b");
    }

    #[test]
    fn sizes() {
        use std::mem::size_of;
        assert_eq!(size_of::<SharedStr>(), 8);
        assert_eq!(size_of::<Text>(), 16);
        assert_eq!(size_of::<Option<Text>>(), 16);
    }
}
