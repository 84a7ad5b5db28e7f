//! Files written completely or not at all.
//!
//! [`AtomicFile`] writes into a temporary file next to the target (same directory, so the
//! final rename never crosses file systems) and renames it over the target in
//! [`AtomicFile::commit`]. Dropped without committing, the temporary file is deleted and the
//! target is left as it was: an interrupted or failed run never leaves a truncated output.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// A file that appears at its path only when [`AtomicFile::commit`] succeeds.
///
/// Writes are buffered. Every error names the target path.
#[must_use = "an AtomicFile writes nothing unless committed"]
pub struct AtomicFile {
    path: PathBuf,
    out: BufWriter<NamedTempFile>,
}

impl AtomicFile {
    /// Starts writing `path`: creates the temporary file in `path`'s directory (which must
    /// exist).
    pub fn create(path: impl AsRef<Path>) -> io::Result<AtomicFile> {
        let path = path.as_ref().to_path_buf();
        if path.file_name().is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: not a file name", path.display()),
            ));
        }
        // `Path::parent` of a bare name is "", which is not a directory to create in.
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut prefix = std::ffi::OsString::from(".");
        prefix.push(path.file_name().unwrap_or_default());
        prefix.push(".");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // NamedTempFile defaults to mode 0600; an output file should get the usual
        // permissions (0666 less the umask) like any file the user creates.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(fs::Permissions::from_mode(0o666));
        }
        let tmp = builder
            .tempfile_in(&dir)
            .map_err(|e| with_path(&path, "cannot create a temporary file for", e))?;
        Ok(AtomicFile {
            path,
            out: BufWriter::with_capacity(1 << 16, tmp),
        })
    }

    /// The target path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes, syncs and renames the temporary file to the target path (replacing any file
    /// there). On error nothing appears at the target and the temporary file is removed.
    pub fn commit(self) -> io::Result<()> {
        let AtomicFile { path, out } = self;
        let tmp = out
            .into_inner()
            .map_err(|e| with_path(&path, "cannot write", e.into_error()))?;
        // Without the sync a crash just after the rename could leave an empty file on
        // file systems that reorder metadata before data.
        tmp.as_file()
            .sync_all()
            .map_err(|e| with_path(&path, "cannot write", e))?;
        tmp.persist(&path)
            .map_err(|e| with_path(&path, "cannot rename the temporary file to", e.error))?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out
            .write(buf)
            .map_err(|e| with_path(&self.path, "cannot write", e))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        // BufWriter's write_all is faster than the default loop over `write`.
        self.out
            .write_all(buf)
            .map_err(|e| with_path(&self.path, "cannot write", e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out
            .flush()
            .map_err(|e| with_path(&self.path, "cannot write", e))
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

/// The error with what failed and the path in its message; the kind is kept so callers (and
/// `write_all`'s retry on `Interrupted`) still see it.
fn with_path(path: &Path, what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn nothing_appears_unless_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        {
            let mut f = AtomicFile::create(&path).unwrap();
            f.write_all(b"partial").unwrap();
            assert_eq!(
                names(dir.path()).len(),
                1,
                "the temporary file exists while writing"
            );
        }
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
    }

    #[test]
    fn commit_leaves_only_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        fs::write(&path, "old").unwrap();
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"new ").unwrap();
        write!(f, "{}", 1.5).unwrap();
        // Until the commit the old content stays.
        assert_eq!(fs::read_to_string(&path).unwrap(), "old");
        f.commit().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new 1.5");
        assert_eq!(names(dir.path()), vec!["out.csv".to_string()]);
        write_atomic(&path, b"again").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "again");
        assert_eq!(names(dir.path()), vec!["out.csv".to_string()]);
    }

    #[cfg(unix)]
    #[test]
    fn permissions_are_not_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.txt");
        write_atomic(&path, b"x").unwrap();
        // Same mode as a file created the ordinary way under the same umask (not the
        // temporary file's private 0600).
        let plain = dir.path().join("plain.txt");
        fs::write(&plain, b"x").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), mode(&plain));
    }

    #[test]
    fn errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-dir").join("out.csv");
        let e = AtomicFile::create(&path).err().unwrap();
        assert!(e.to_string().contains("out.csv"), "{e}");
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
