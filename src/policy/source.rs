//! Policy source texts and byte spans into them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Identifies one source text inside a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SourceId(pub u32);

/// A byte range in one source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// The source the range is in.
    pub source: SourceId,
    /// The first byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from a pest position pair.
    pub fn new(source: SourceId, start: usize, end: usize) -> Span {
        Span {
            source,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The byte range as `usize`s.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A value with the span it was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub node: T,
    /// Where it was written.
    pub span: Span,
}

/// One named policy text.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file name shown in diagnostics and default rule ids.
    pub name: Arc<str>,
    /// The text.
    pub text: Arc<str>,
    /// Byte offsets where lines start (shared: a compiled policy keeps a
    /// copy of its sources).
    line_starts: Arc<[u32]>,
}

impl Source {
    /// A source from a name and its text.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Source {
        let text: Arc<str> = text.into();
        let line_starts: Vec<u32> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i as u32 + 1))
            .collect();
        Source {
            name: name.into(),
            text,
            line_starts: line_starts.into(),
        }
    }

    /// The 1-based line of a byte offset, as [`Source::line_col`] gives it.
    /// `hint` is the 0-based line of an earlier offset (any value is
    /// correct, a close one is fast) and is updated: offsets that come in
    /// order, as rules do, take a step or two instead of a binary search.
    pub fn line(&self, offset: u32, hint: &mut usize) -> u32 {
        let starts = &*self.line_starts;
        let mut at = *hint;
        if starts.get(at).is_some_and(|&s| s <= offset) {
            for _ in 0..8 {
                match starts.get(at + 1) {
                    Some(&next) if next <= offset => at += 1,
                    _ => {
                        *hint = at;
                        return at as u32 + 1;
                    }
                }
            }
        }
        let line = starts.partition_point(|&s| s <= offset).max(1);
        *hint = line - 1;
        line as u32
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (u32, u32) {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let col = self
            .text
            .get(start as usize..offset as usize)
            .map_or(0, |s| s.chars().count());
        (line as u32, col as u32 + 1)
    }
}

/// Errors reading policy files from disk.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A file or directory could not be read.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A directory held no `*.policy` file.
    #[error("`{0}` holds no *.policy file")]
    EmptyDirectory(PathBuf),
}

/// All the policy texts of one compilation, in declaration order.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    sources: Vec<Source>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a text; later texts declare later rules.
    pub fn add(&mut self, name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> SourceId {
        self.sources.push(Source::new(name, text));
        SourceId(self.sources.len() as u32 - 1)
    }

    /// Reads files, and the `*.policy` files of directories in name order.
    pub fn load<P: AsRef<Path>>(paths: &[P]) -> Result<SourceMap, LoadError> {
        let mut map = SourceMap::new();
        for path in paths {
            let path = path.as_ref();
            let io = |source| LoadError::Io {
                path: path.to_owned(),
                source,
            };
            if path.is_dir() {
                let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                    .map_err(io)?
                    .filter_map(|entry| entry.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|e| e == "policy") && p.is_file())
                    .collect();
                files.sort();
                if files.is_empty() {
                    return Err(LoadError::EmptyDirectory(path.to_owned()));
                }
                for file in files {
                    let text = std::fs::read_to_string(&file).map_err(|source| LoadError::Io {
                        path: file.clone(),
                        source,
                    })?;
                    map.add(file.display().to_string(), text);
                }
            } else {
                let text = std::fs::read_to_string(path).map_err(io)?;
                map.add(path.display().to_string(), text);
            }
        }
        Ok(map)
    }

    /// The source with this id.
    pub fn get(&self, id: SourceId) -> Option<&Source> {
        self.sources.get(id.0 as usize)
    }

    /// Every source with its id.
    pub fn iter(&self) -> impl Iterator<Item = (SourceId, &Source)> {
        self.sources
            .iter()
            .enumerate()
            .map(|(i, s)| (SourceId(i as u32), s))
    }

    /// The file name and 1-based line and column where a span starts.
    pub fn locate(&self, span: Span) -> Option<(&str, u32, u32)> {
        let source = self.get(span.source)?;
        let (line, col) = source.line_col(span.start);
        Some((&source.name, line, col))
    }

    /// The text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.source)
            .and_then(|s| s.text.get(span.range()))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let s = Source::new("a", "ab\ncd\n\nx");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(1), (1, 2));
        assert_eq!(s.line_col(3), (2, 1));
        assert_eq!(s.line_col(7), (4, 1));
    }

    #[test]
    fn line_with_any_hint_is_line_col_s_line() {
        let text = "ab\ncd\n\nx\n".repeat(7);
        let s = Source::new("a", text.as_str());
        for hint in 0..40 {
            for offset in 0..=text.len() as u32 + 2 {
                let mut h = hint;
                assert_eq!(
                    s.line(offset, &mut h),
                    s.line_col(offset).0,
                    "{offset} from {hint}"
                );
                assert_eq!(
                    s.line(offset, &mut h),
                    s.line_col(offset).0,
                    "{offset} again"
                );
            }
        }
    }
}
