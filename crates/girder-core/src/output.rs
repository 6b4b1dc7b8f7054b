//! Putting an assembly on disk: every file goes into a staging directory beside the output,
//! which then replaces the output in one step, so a reader (Flux, Argo CD, a person, a CI
//! job) sees either the whole previous output or the whole new one, and a failed or killed
//! synth leaves the previous output in place.
//!
//! - **Paths.** Every artifact path is relative and made of normal components only
//!   ([`check_relative_path`]), and no two artifacts share a path: nothing written can land
//!   outside the staging directory or overwrite another artifact.
//! - **One writer at a time.** Writers of one output take an exclusive lock on
//!   `.<out>.girder-lock` beside it (kept there: removing a lock file races with the next
//!   writer opening it). Under the lock, the staging (`.<out>.girder-tmp-<pid>`) and
//!   retired (`.<out>.girder-old-<pid>`) directories of earlier runs can only be left from
//!   killed processes, so they are removed. Where the file system cannot lock (the lock
//!   fails: `Unsupported`, `ENOLCK`), writers are not serialized and only the directories
//!   of processes that are no longer alive are removed (Linux: no `/proc/<pid>`).
//! - **The swap.** On Linux the staging directory and the output are exchanged with
//!   `renameat2(RENAME_EXCHANGE)`: `out/` is a real directory at every instant, then the
//!   previous tree (now at the staging path) is removed. Where the kernel or file system
//!   lacks the exchange (other systems, `EINVAL` / `ENOSYS`), the output is renamed aside
//!   and the staging directory renamed into place: between those two renames there is no
//!   `out/`, and a process killed there leaves none (the next run writes it again).
//! - **Speed.** Directories are created once each, files are written by a few threads, and
//!   a file whose bytes equal the previous output's file at the same path is hard-linked
//!   from it instead of written. That is safe because girder never changes a written file
//!   in place: a tree, once swapped in, is only ever removed whole, so a linked file's
//!   content cannot change under the new output. The bytes are compared, not trusted from
//!   the old manifest, so a file someone edited in `out/` is written afresh.
//! - **Not durable against power loss.** Nothing is fsynced (that would cost a disk flush
//!   per file); after a kernel crash the output may be incomplete, and the next synth
//!   writes it again.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// `ENOLCK` (no locks available), the same number on Linux, the BSDs and macOS.
const ENOLCK: i32 = if cfg!(target_os = "linux") || cfg!(target_os = "android") {
    37
} else {
    77
};

/// Longest path component written (the limit of ext4, XFS, APFS and NTFS).
pub(crate) const MAX_COMPONENT_LEN: usize = 255;

/// Below this many files, one thread writes (or removes) them all.
const PARALLEL_FROM: usize = 256;

/// Most writer threads: creating files is work of the kernel on the CPU, which scales to a
/// few cores at most.
const MAX_WRITE_THREADS: usize = 4;

/// Threads removing files and directories. Freeing a file's blocks can wait for the disk
/// (ext4 mounted with `discard` and no journal issues the discard synchronously, about
/// 2 ms per file on a virtual disk); a device serves many such requests at once, so far
/// more threads than cores pay off (measured: 16 threads remove 1,600 written-back files
/// 25 times faster than one).
const REMOVE_THREADS: usize = 16;

/// Below this many files or directories, one thread removes them.
const REMOVE_PARALLEL_FROM: usize = 32;

/// Why `path` (relative to the output root, `/`-separated) could escape the output or
/// name something other than one file below it; `None` when it is safe: non-empty normal
/// components of at most 255 bytes, none `.` or `..`, no NUL, `\`, `:` or control
/// characters, not absolute.
pub(crate) fn check_relative_path(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("it is empty");
    }
    if path.starts_with('/') {
        return Some("it is absolute");
    }
    for component in path.split('/') {
        let problem = match component {
            "" => Some("it has an empty component (`//` or a trailing `/`)"),
            "." | ".." => Some("it has a `.` or `..` component"),
            c if c.len() > MAX_COMPONENT_LEN => Some("a component is longer than 255 bytes"),
            c if c
                .chars()
                .any(|ch| ch.is_control() || ch == '\\' || ch == ':') =>
            {
                Some("it contains a control character, `\\` or `:`")
            }
            _ => None,
        };
        if problem.is_some() {
            return problem;
        }
    }
    None
}

/// Replace the directory `out` with exactly `files` (relative path, bytes). The caller has
/// checked the paths ([`check_relative_path`], no duplicates).
pub(crate) fn replace(out: &Path, files: &[(&str, &[u8])]) -> Result<()> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::invalid(out.display(), "output path has no final component"))?;
    guard_existing(out)?;
    fs::create_dir_all(&parent)
        .map_err(|e| Error::io(&parent, "creating the output's parent", e))?;

    let lock = OutputLock::acquire(&parent.join(format!(".{name}.girder-lock")))?;
    remove_stale(&parent, &name, lock.exclusive)?;
    // Checked again under the lock: another writer may have changed it meanwhile.
    guard_existing(out)?;

    let previous = fs::symlink_metadata(out).is_ok();
    if previous && holds_exactly(out, files) {
        // Nothing to replace: every reader already sees this output.
        drop(lock);
        return Ok(());
    }
    let pid = std::process::id();
    let staging = parent.join(format!(".{name}.girder-tmp-{pid}"));
    if let Err(e) = write_tree(&staging, files, previous.then_some(out)) {
        let _ = remove_tree(&staging);
        return Err(e);
    }
    if !previous {
        return fs::rename(&staging, out).map_err(|e| {
            let _ = remove_tree(&staging);
            Error::io(out, "moving the new output into place", e)
        });
    }
    match exchange(&staging, out) {
        Ok(true) => {
            // The staging path now holds the previous output.
            remove_tree(&staging)
                .map_err(|e| Error::io(&staging, "removing the previous output", e))?;
            drop(lock);
            return Ok(());
        }
        Ok(false) => {}
        Err(e) => {
            let _ = remove_tree(&staging);
            return Err(Error::io(
                out,
                "exchanging the new output with the previous",
                e,
            ));
        }
    }
    // No exchange here: two renames, with a moment between them where `out` is missing.
    let retired = parent.join(format!(".{name}.girder-old-{pid}"));
    if let Err(e) = fs::rename(out, &retired) {
        let _ = remove_tree(&staging);
        return Err(Error::io(out, "moving the previous output aside", e));
    }
    if let Err(e) = fs::rename(&staging, out) {
        let _ = fs::rename(&retired, out);
        let _ = remove_tree(&staging);
        return Err(Error::io(out, "moving the new output into place", e));
    }
    remove_tree(&retired).map_err(|e| Error::io(&retired, "removing the previous output", e))?;
    drop(lock);
    Ok(())
}

/// `renameat2(a, b, RENAME_EXCHANGE)`: `Ok(false)` when the kernel or file system does not
/// offer it.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    #[cfg(test)]
    if tests::NO_EXCHANGE.with(std::cell::Cell::get) {
        return Ok(false);
    }
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        Err(e) if e == Errno::INVAL || e == Errno::NOSYS || e == Errno::OPNOTSUPP => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn exchange(_: &Path, _: &Path) -> io::Result<bool> {
    Ok(false)
}

/// The exclusive lock on `.<out>.girder-lock`, released when dropped (or when the process
/// dies, however it dies).
struct OutputLock {
    _file: Option<fs::File>,
    /// False when the file system cannot lock: writers are then not serialized.
    exclusive: bool,
}

impl OutputLock {
    fn acquire(path: &Path) -> Result<Self> {
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| Error::io(path, "opening the output's lock file", e))?;
        match file.lock() {
            Ok(()) => Ok(Self {
                _file: Some(file),
                exclusive: true,
            }),
            // `Unsupported`, or `ENOLCK` from a network file system without locks: go on
            // without (see `remove_stale` for what changes). Any other failure is an error:
            // carrying on unlocked beside a writer that holds the lock is not safe.
            Err(e)
                if e.kind() == io::ErrorKind::Unsupported || e.raw_os_error() == Some(ENOLCK) =>
            {
                Ok(Self {
                    _file: None,
                    exclusive: false,
                })
            }
            Err(e) => Err(Error::io(path, "locking the output's lock file", e)),
        }
    }
}

/// Remove `.<name>.girder-tmp-<pid>` and `.<name>.girder-old-<pid>` left by earlier runs:
/// all of them when this process holds the lock (no other writer is running), otherwise
/// only those of processes known to be dead (not this one's: without the lock, another
/// thread of this process may be writing there; it then fails, as the name is taken).
fn remove_stale(parent: &Path, name: &str, locked: bool) -> Result<()> {
    let entries =
        fs::read_dir(parent).map_err(|e| Error::io(parent, "reading the output's parent", e))?;
    let prefix = format!(".{name}.girder-");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let Some(pid) = rest
            .strip_prefix("tmp-")
            .or_else(|| rest.strip_prefix("old-"))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let stale = locked || process_alive(pid) == Some(false);
        if stale {
            // The standard library's removal, which does not follow a symbolic link even
            // when one is swapped in while it runs: a directory of this name may have been
            // put here by someone else. (The fast `remove_tree` is for trees girder just
            // swapped out of `out/`, which is trusted like `out/` itself.)
            let path = entry.path();
            let removed = match entry.file_type() {
                Ok(t) if t.is_dir() => fs::remove_dir_all(&path),
                _ => fs::remove_file(&path),
            };
            // One that cannot be removed (left by a run as another user) must not stop every
            // later synth: it is left, and only a staging name this run needs would clash,
            // which then fails with the path in the error.
            let _ = removed;
        }
    }
    Ok(())
}

/// Whether process `pid` exists; `None` where that cannot be told.
fn process_alive(pid: u32) -> Option<bool> {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        Some(Path::new(&format!("/proc/{pid}")).exists())
    } else {
        None
    }
}

/// Refuse to replace anything but a directory that is empty or holds a girder output.
fn guard_existing(out: &Path) -> Result<()> {
    if fs::symlink_metadata(out).is_ok_and(|m| m.file_type().is_symlink()) {
        // The swap exchanges the link itself: the directory it points at would never be
        // updated again (a GitOps checkout), and the link would be replaced by a directory.
        return Err(Error::invalid(
            out.display(),
            "the output path is a symbolic link; pass the directory it points to as --out",
        ));
    }
    if !out.exists() {
        return Ok(());
    }
    if !out.is_dir() {
        return Err(Error::invalid(
            out.display(),
            "output path exists and is not a directory",
        ));
    }
    let empty = fs::read_dir(out)
        .map_err(|e| Error::io(out, "reading the output directory", e))?
        .next()
        .is_none();
    if empty {
        return Ok(());
    }
    if is_girder_manifest(&out.join("manifest.json")) {
        Ok(())
    } else {
        Err(Error::invalid(
            out.display(),
            "refusing to replace a non-empty directory that is not a girder output \
             (no girder manifest.json); choose another --out",
        ))
    }
}

/// Whether `path` is a manifest.json girder wrote: its first key is `girder_manifest`
/// (girder writes it first). Only the start is read: the manifest of a large output is
/// megabytes of JSON.
fn is_girder_manifest(path: &Path) -> bool {
    let mut start = [0u8; 64];
    let Ok(read) = fs::File::open(path).and_then(|mut file| {
        let mut filled = 0;
        while filled < start.len() {
            match file.read(&mut start[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        Ok(filled)
    }) else {
        return false;
    };
    let text = String::from_utf8_lossy(&start[..read]);
    text.trim_start()
        .strip_prefix('{')
        .is_some_and(|rest| rest.trim_start().starts_with("\"girder_manifest\""))
}

/// Every directory the files need (each ancestor of each path, repeated per file).
fn parent_dirs<'a>(files: &'a [(&'a str, &'a [u8])]) -> impl Iterator<Item = &'a str> {
    files
        .iter()
        .flat_map(|(path, _)| path.match_indices('/').map(|(i, _)| &path[..i]))
}

/// Threads that write, or compare, the files of an output.
fn write_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(2, MAX_WRITE_THREADS)
}

/// Whether the directory `out` holds exactly `files`: the same directories and regular
/// files (no others, no links) with the same bytes. Then a synth that changed nothing
/// leaves the output as it is, without writing, swapping or removing a file.
fn holds_exactly(out: &Path, files: &[(&str, &[u8])]) -> bool {
    let expected_files: std::collections::HashSet<&str> =
        files.iter().map(|(path, _)| *path).collect();
    let expected_dirs: std::collections::HashSet<&str> = parent_dirs(files).collect();
    // Walk the old tree: every entry must be expected, and every expected file present.
    let mut seen_files = 0usize;
    let mut pending: Vec<(PathBuf, String)> = vec![(out.to_path_buf(), String::new())];
    while let Some((dir, relative)) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            return false;
        };
        for entry in entries {
            let Ok(entry) = entry else { return false };
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                return false;
            };
            let path = if relative.is_empty() {
                name
            } else {
                format!("{relative}/{name}")
            };
            match entry.file_type() {
                Ok(t) if t.is_dir() && expected_dirs.contains(path.as_str()) => {
                    pending.push((entry.path(), path));
                }
                Ok(t) if t.is_file() && expected_files.contains(path.as_str()) => {
                    seen_files += 1;
                }
                _ => return false,
            }
        }
    }
    if seen_files != expected_files.len() {
        return false;
    }
    let threads = write_threads();
    in_parallel(
        files,
        threads,
        PARALLEL_FROM,
        |part| {
            let mut buffer = Vec::new();
            match part
                .iter()
                .all(|(relative, bytes)| same_file_content(&out.join(relative), bytes, &mut buffer))
            {
                true => Ok(()),
                false => Err(()),
            }
        },
        || (),
    )
    .is_ok()
}

/// Write `files` into the new directory `root`, linking files unchanged since `previous`.
fn write_tree(root: &Path, files: &[(&str, &[u8])], previous: Option<&Path>) -> Result<()> {
    fs::create_dir(root).map_err(|e| Error::io(root, "creating the staging directory", e))?;
    // Each directory once, parents first (a parent sorts before its children).
    let dirs: BTreeSet<&str> = parent_dirs(files).collect();
    for dir in dirs {
        let path = root.join(dir);
        fs::create_dir(&path).map_err(|e| Error::io(&path, "creating a directory", e))?;
    }
    let threads = write_threads();
    // Contiguous chunks: each thread mostly works in its own directories, whose locks the
    // kernel takes for every file created in them.
    in_parallel(
        files,
        threads,
        PARALLEL_FROM,
        |part| write_files(root, part, previous),
        || {
            Error::invalid(
                root.display(),
                "a thread writing the output stopped unexpectedly",
            )
        },
    )
}

/// Run `work` over `items` split into at most `threads` contiguous parts, one thread
/// each, when there are at least `parallel_from` items; the first error, in item order,
/// wins.
fn in_parallel<T: Sync, E: Send>(
    items: &[T],
    threads: usize,
    parallel_from: usize,
    work: impl Fn(&[T]) -> std::result::Result<(), E> + Sync,
    stopped: impl Fn() -> E,
) -> std::result::Result<(), E> {
    if items.len() < parallel_from.max(2) || threads < 2 {
        return work(items);
    }
    let work = &work;
    std::thread::scope(|scope| {
        // A part whose thread cannot be started (a limit on threads) runs here instead.
        let parts: Vec<_> = items
            .chunks(items.len().div_ceil(threads))
            .map(|part| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, move || work(part))
                    .map_err(|_| part)
            })
            .collect();
        let mut result = Ok(());
        for part in parts {
            let outcome = match part {
                Ok(handle) => handle.join().unwrap_or_else(|_| Err(stopped())),
                Err(part) => work(part),
            };
            if result.is_ok() {
                result = outcome;
            }
        }
        result
    })
}

fn write_files(root: &Path, files: &[(&str, &[u8])], previous: Option<&Path>) -> Result<()> {
    let mut buffer = Vec::new();
    for (relative, bytes) in files {
        let path = root.join(relative);
        if let Some(previous) = previous {
            let old = previous.join(relative);
            if same_file_content(&old, bytes, &mut buffer) && fs::hard_link(&old, &path).is_ok() {
                continue;
            }
        }
        // `create_new`: a path written twice is an error, never an overwrite.
        fs::File::create_new(&path)
            .and_then(|mut file| io::Write::write_all(&mut file, bytes))
            .map_err(|e| Error::io(&path, "writing an artifact", e))?;
    }
    Ok(())
}

/// Whether `old` is a regular file (not a link to one) holding exactly `bytes`.
fn same_file_content(old: &Path, bytes: &[u8], buffer: &mut Vec<u8>) -> bool {
    let same_size = fs::symlink_metadata(old)
        .is_ok_and(|m| m.file_type().is_file() && m.len() == bytes.len() as u64);
    if !same_size {
        return false;
    }
    // The size is known: one read of exactly that many bytes (a file changed since the
    // check above is a race with someone editing girder's output, which it overwrites).
    buffer.resize(bytes.len(), 0);
    fs::File::open(old)
        .and_then(|mut file| file.read_exact(buffer))
        .is_ok_and(|()| buffer.as_slice() == bytes)
}

/// Remove a directory tree (or a file or link) if present: the files by many threads
/// (see [`REMOVE_THREADS`]), then the directories, deepest first, each depth by many
/// threads. It walks by path, so it is only for trees no one else can write into while it
/// runs: the staging directory and the previous output it was exchanged with.
fn remove_tree(root: &Path) -> io::Result<()> {
    let meta = match fs::symlink_metadata(root) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return fs::remove_file(root);
    }
    // Breadth first: `levels[d]` holds the directories at depth `d`.
    let mut levels = vec![vec![root.to_path_buf()]];
    let mut files = Vec::new();
    loop {
        let mut next = Vec::new();
        for dir in levels.last().into_iter().flatten() {
            for entry in fs::read_dir(dir)? {
                let entry = entry?;
                if entry.file_type()?.is_dir() {
                    next.push(entry.path());
                } else {
                    files.push(entry.path());
                }
            }
        }
        if next.is_empty() {
            break;
        }
        levels.push(next);
    }
    let ignore_missing = |result: io::Result<()>| match result {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    };
    let stopped = || io::Error::other("a thread removing files stopped unexpectedly");
    in_parallel(
        &files,
        REMOVE_THREADS,
        REMOVE_PARALLEL_FROM,
        |part| {
            part.iter()
                .try_for_each(|file| ignore_missing(fs::remove_file(file)))
        },
        stopped,
    )?;
    for level in levels.iter().rev() {
        in_parallel(
            level,
            REMOVE_THREADS,
            REMOVE_PARALLEL_FROM,
            |part| {
                part.iter()
                    .try_for_each(|dir| ignore_missing(fs::remove_dir(dir)))
            },
            stopped,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        /// Makes this thread's writes take the fallback of systems without the exchange.
        pub(super) static NO_EXCHANGE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    #[test]
    fn the_fallback_without_exchange_replaces_the_output_too() {
        NO_EXCHANGE.with(|f| f.set(true));
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let manifest = b"{\"girder_manifest\": 1}\n".as_slice();
        for (round, text) in [b"one\n".as_slice(), b"two\n"].into_iter().enumerate() {
            replace(&out, &[("a/b.yaml", text), ("manifest.json", manifest)]).unwrap();
            assert_eq!(
                std::fs::read(out.join("a/b.yaml")).unwrap(),
                text,
                "{round}"
            );
        }
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [".out.girder-lock", "out"]);
        NO_EXCHANGE.with(|f| f.set(false));
    }

    #[test]
    fn relative_paths() {
        for good in [
            "manifest.json",
            "kubernetes/a-dev/app/configmap-x.yaml",
            "a.b/c",
        ] {
            assert_eq!(check_relative_path(good), None, "{good}");
        }
        let long = "x".repeat(256);
        for bad in [
            "",
            "/etc/passwd",
            "a//b",
            "a/",
            "./a",
            "a/../../b",
            "..",
            "a\\b",
            "C:x",
            "a\0b",
            "a\nb",
            long.as_str(),
        ] {
            assert!(check_relative_path(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn girder_manifests_are_recognized_by_their_first_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
        for (text, girder) in [
            ("{\n  \"girder_manifest\": 1,\n  \"stacks\": []\n}\n", true),
            ("  {\"girder_manifest\":1}", true),
            ("{\"stacks\": [], \"girder_manifest\": 1}", false),
            ("[\"girder_manifest\"]", false),
            ("", false),
        ] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(is_girder_manifest(&path), girder, "{text}");
        }
        assert!(!is_girder_manifest(&dir.path().join("missing.json")));
    }
}
