//! A built program is the `meshc` executable with the compiled program
//! appended: `[executable][program image][image length: u64 LE][MAGIC]`.
//! At start-up `meshc` looks at the end of its own file; when the trailer
//! is there it runs the embedded program instead of the command line
//! tool. Appending keeps the executable valid (loaders ignore trailing
//! bytes) and makes `build` a file copy plus one write.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Marks an executable that carries a program.
pub const MAGIC: &[u8; 8] = b"MESHEXE1";
const TRAILER: u64 = 16;

/// Why an embedded program could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the embedded program's length ({len} bytes) does not fit the file")]
    BadLength { len: u64 },
}

/// The program image embedded in the executable at `path`, if any.
pub fn read_embedded(path: &Path) -> Result<Option<Vec<u8>>, EmbedError> {
    let io = |source| EmbedError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut f = File::open(path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    if size < TRAILER {
        return Ok(None);
    }
    f.seek(SeekFrom::End(-(TRAILER as i64))).map_err(io)?;
    let mut tail = [0u8; TRAILER as usize];
    f.read_exact(&mut tail).map_err(io)?;
    if &tail[8..] != MAGIC {
        return Ok(None);
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&tail[..8]);
    let len = u64::from_le_bytes(len_bytes);
    if len > size - TRAILER {
        return Err(EmbedError::BadLength { len });
    }
    f.seek(SeekFrom::Start(size - TRAILER - len)).map_err(io)?;
    let mut image = vec![0u8; usize::try_from(len).map_err(|_| EmbedError::BadLength { len })?];
    f.read_exact(&mut image).map_err(io)?;
    Ok(Some(image))
}

/// `exe` (a `meshc` without a program) followed by `image` and the trailer.
pub fn append(exe: &[u8], image: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(exe.len() + image.len() + TRAILER as usize);
    out.extend_from_slice(exe);
    out.extend_from_slice(image);
    out.extend_from_slice(&(image.len() as u64).to_le_bytes());
    out.extend_from_slice(MAGIC);
    out
}

/// The runtime part of `exe`: the bytes before an embedded program, if
/// `exe` carries one (building from a built program).
pub fn strip(exe: &[u8]) -> &[u8] {
    let n = exe.len();
    if n < TRAILER as usize || &exe[n - 8..] != MAGIC {
        return exe;
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&exe[n - 16..n - 8]);
    let len = usize::try_from(u64::from_le_bytes(len_bytes)).unwrap_or(usize::MAX);
    match (n - TRAILER as usize).checked_sub(len) {
        Some(end) => &exe[..end],
        None => exe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_then_strip_round_trips() {
        let exe = b"\x7fELF pretend".to_vec();
        let built = append(&exe, b"image");
        assert_eq!(strip(&built), exe.as_slice());
        assert_eq!(strip(&exe), exe.as_slice());
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("x");
        std::fs::write(&p, &built).expect("write");
        assert_eq!(read_embedded(&p).expect("read"), Some(b"image".to_vec()));
        std::fs::write(&p, &exe).expect("write");
        assert_eq!(read_embedded(&p).expect("read"), None);
    }
}
