//! Source files and byte spans.
//!
//! Owns [`FileId`], [`Span`] and [`SourceMap`]: the (path, text) pairs of a
//! project and the mapping from byte offsets to 1-based line/column positions.
//! Columns count Unicode scalar values, not bytes, so a caret lines up under
//! the character a human sees. Nothing here touches the file system: callers
//! hand in the text.

use serde::Serialize;

/// Index of a file in a [`SourceMap`] (and in the slice given to
/// [`crate::check_project`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
pub struct FileId(pub u32);

/// A half-open byte range `start..end` in one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end` (byte offsets) in `file`.
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        let start = u32::try_from(start).unwrap_or(u32::MAX);
        let end = u32::try_from(end).unwrap_or(u32::MAX).max(start);
        Span { file, start, end }
    }

    /// The smallest span covering both `self` and `other` (same file assumed).
    #[must_use]
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    /// True for a zero-width span.
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

/// A 1-based line and column (column in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LineCol {
    pub line: usize,
    pub col: usize,
}

/// One source file: its path as given, its text, and where each line starts.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    fn new(path: String, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path,
            text,
            line_starts,
        }
    }

    /// 0-based line index containing byte `offset`.
    fn line_index(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// Line/column of byte `offset` (clamped to the text, and to a char boundary).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line = self.line_index(offset);
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        LineCol {
            line: line + 1,
            col,
        }
    }

    /// The text of 1-based `line`, without its line terminator.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        let s = self.text.get(start..end).unwrap_or("");
        s.trim_end_matches(['\n', '\r'])
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// All files of a project, addressed by [`FileId`].
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Builds a map whose file ids are the indices of `files`, the same
    /// numbering [`crate::check_project`] uses for its diagnostics.
    pub fn from_pairs<P: AsRef<std::path::Path>, S: AsRef<str>>(files: &[(P, S)]) -> SourceMap {
        let mut map = SourceMap::new();
        for (path, text) in files {
            map.add(path_to_string(path.as_ref()), text.as_ref().to_string());
        }
        map
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<String>) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile::new(path.into(), text.into()));
        id
    }

    /// The file with id `id`, if any.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// All files in id order.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }

    /// Path of `id`, or `<unknown>`.
    pub fn path(&self, id: FileId) -> &str {
        self.get(id).map_or("<unknown>", |f| f.path.as_str())
    }

    /// Start and end positions of `span`.
    pub fn span_lines(&self, span: Span) -> (LineCol, LineCol) {
        match self.get(span.file) {
            Some(f) => (
                f.line_col(span.start as usize),
                f.line_col(span.end as usize),
            ),
            None => (LineCol { line: 1, col: 1 }, LineCol { line: 1, col: 1 }),
        }
    }
}

/// A path as a `/`-separated string (so Windows paths name the same module).
pub fn path_to_string(p: &std::path::Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars_and_lines() {
        let mut m = SourceMap::new();
        let f = m.add("a.mpl", "ab\nçd\n\nx");
        let file = m.get(f).unwrap();
        assert_eq!(file.line_col(0), LineCol { line: 1, col: 1 });
        assert_eq!(file.line_col(3), LineCol { line: 2, col: 1 });
        // 'ç' is two bytes; 'd' is the second character.
        assert_eq!(file.line_col(5), LineCol { line: 2, col: 2 });
        assert_eq!(file.line_col(8), LineCol { line: 4, col: 1 });
        assert_eq!(file.line_text(2), "çd");
        assert_eq!(file.line_text(3), "");
        assert_eq!(file.line_text(9), "");
        // Offsets past the end clamp; offsets inside a char floor.
        assert_eq!(file.line_col(100), LineCol { line: 4, col: 2 });
        assert_eq!(file.line_col(4), LineCol { line: 2, col: 1 });
    }

    #[test]
    fn span_join_and_len() {
        let a = Span::new(FileId(0), 2, 4);
        let b = Span::new(FileId(0), 6, 9);
        assert_eq!(a.to(b), Span::new(FileId(0), 2, 9));
        assert_eq!(a.to(b).len(), 7);
        assert!(Span::new(FileId(0), 3, 3).is_empty());
    }

    #[test]
    fn from_pairs_numbers_files_in_order_and_normalises_paths() {
        let m = SourceMap::from_pairs(&[("x\\y.mpl", "1"), ("z.mpl", "2")]);
        assert_eq!(m.path(FileId(0)), "x/y.mpl");
        assert_eq!(m.path(FileId(1)), "z.mpl");
        assert_eq!(m.path(FileId(7)), "<unknown>");
    }
}
