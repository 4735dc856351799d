//! A bounded cache of open file handles, shared by every partition log of a cluster, so the
//! number of partitions never decides how many files the process holds open.
//!
//! Kafka keeps every segment's log file open and relies on a large `ulimit -n` (its docs ask
//! for 100,000). A learning broker on a laptop with the usual limit of 1,024 cannot: a few
//! topics with a thousand partitions would take every descriptor, and then neither the
//! listeners nor the web site can accept a connection, nor can the broker start again. Here a
//! segment names its files with [`CachedFile`] and opens them on demand through the
//! [`FileCache`], which closes the least recently used handle once more than its capacity are
//! open. The files written most recently — the active segments taking appends — are the ones
//! that stay; a reader of an old segment opens it, reads, and leaves it to be closed.
//!
//! # Closing never loses data
//!
//! A `write` reaches the page cache, and closing a descriptor does not discard it. What closing
//! can lose is the *error* of a later write-back: once the last descriptor of a file is gone, a
//! failed write-back may never be reported to anyone (the PostgreSQL "fsyncgate" lesson). So a
//! handle written since its last fsync is fsynced when it closes ([`Handle`]'s `Drop`), and a
//! failure there is kept in the file's state for the owner's next flush to report, which takes
//! the log offline as any failed fsync does. Group commit does not hold handles either: it takes
//! [`FileRef`]s and syncs each through the cache, so a round over thousands of partitions stays
//! within the budget.
//!
//! The capacity is a soft bound: a handle in use (an `Arc<Handle>` held by a read or an fsync in
//! progress) stays open until it is dropped even if the cache has let go of it, so the excess
//! is at most the operations running at once.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::LogError;

/// Open handles, least recently used first out. Cheap to clone: every clone is the same cache.
#[derive(Debug, Clone)]
pub struct FileCache {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    capacity: usize,
    state: Mutex<CacheState>,
}

#[derive(Debug, Default)]
struct CacheState {
    entries: HashMap<u64, Entry>,
    /// `last_use` → file id: the oldest use first, for eviction.
    by_use: BTreeMap<u64, u64>,
    clock: u64,
    next_id: u64,
    stats: FileCacheStats,
}

#[derive(Debug)]
struct Entry {
    handle: Arc<Handle>,
    last_use: u64,
}

/// What the cache has done, for tests and the startup log line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileCacheStats {
    /// Handles open in the cache now.
    pub open: usize,
    /// Files opened (first opens and reopens after an eviction).
    pub opened: u64,
    /// Handles closed to stay within the capacity.
    pub evicted: u64,
}

/// One open file. Closing it fsyncs it first if it was written since its last fsync (see the
/// module documentation).
#[derive(Debug)]
pub(crate) struct Handle {
    file: File,
    state: Arc<FileState>,
}

impl Handle {
    pub(crate) fn file(&self) -> &File {
        &self.file
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if self.state.dirty.swap(false, Ordering::AcqRel)
            && let Err(error) = self.file.sync_data()
        {
            tracing::error!(%error, path = %self.state.path.display(), "fsync before closing a file failed");
            self.state.sync_failed.store(true, Ordering::Release);
        }
    }
}

/// What the owner and the cache both know about one file.
#[derive(Debug)]
struct FileState {
    path: PathBuf,
    /// Written since its last fsync.
    dirty: AtomicBool,
    /// An fsync on closing failed: the owner's next flush reports it.
    sync_failed: AtomicBool,
    /// The owner is gone (segment deleted, log dropped): never open it again.
    forgotten: AtomicBool,
}

impl FileCache {
    /// A cache that keeps at most `capacity` handles open (at least one).
    pub fn new(capacity: usize) -> FileCache {
        FileCache { shared: Arc::new(Shared { capacity: capacity.max(1), state: Mutex::new(CacheState::default()) }) }
    }

    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    pub fn stats(&self) -> FileCacheStats {
        let state = self.state();
        FileCacheStats { open: state.entries.len(), ..state.stats }
    }

    fn state(&self) -> MutexGuard<'_, CacheState> {
        // The state is a map of handles; a panic elsewhere leaves it consistent.
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The open handle of `file`, opening it (and closing the least recently used ones beyond
    /// the capacity) if needed.
    fn handle(&self, file: &FileRef) -> Result<Arc<Handle>, LogError> {
        {
            let mut state = self.state();
            if let Some(handle) = state.touch(file.id) {
                return Ok(handle);
            }
        }
        // Opened outside the lock: other logs keep using the cache meanwhile.
        let opened = open_read_append(&file.state.path)?;
        let handle = Arc::new(Handle { file: opened, state: file.state.clone() });
        let evicted = {
            let mut state = self.state();
            if file.state.forgotten.load(Ordering::Acquire) {
                // Deleted while this was opening: hand it out once, keep nothing.
                return Ok(handle);
            }
            if let Some(existing) = state.touch(file.id) {
                return Ok(existing);
            }
            state.clock += 1;
            let last_use = state.clock;
            state.by_use.insert(last_use, file.id);
            state.entries.insert(file.id, Entry { handle: handle.clone(), last_use });
            state.stats.opened += 1;
            state.evict_beyond(self.shared.capacity)
        };
        // Dropped (and fsynced if written) outside the lock.
        drop(evicted);
        Ok(handle)
    }

    /// Closes `file`'s handle if the cache holds it (fsyncing it if written).
    fn close(&self, id: u64) {
        let removed = self.state().remove(id);
        drop(removed);
    }
}

impl CacheState {
    fn touch(&mut self, id: u64) -> Option<Arc<Handle>> {
        self.clock += 1;
        let clock = self.clock;
        let entry = self.entries.get_mut(&id)?;
        self.by_use.remove(&entry.last_use);
        entry.last_use = clock;
        self.by_use.insert(clock, id);
        Some(entry.handle.clone())
    }

    fn remove(&mut self, id: u64) -> Option<Arc<Handle>> {
        let entry = self.entries.remove(&id)?;
        self.by_use.remove(&entry.last_use);
        Some(entry.handle)
    }

    fn evict_beyond(&mut self, capacity: usize) -> Vec<Arc<Handle>> {
        let mut evicted = Vec::new();
        while self.entries.len() > capacity {
            let Some((_, id)) = self.by_use.pop_first() else { break };
            if let Some(entry) = self.entries.remove(&id) {
                evicted.push(entry.handle);
                self.stats.evicted += 1;
            }
        }
        evicted
    }
}

/// A file known to the cache, opened on demand. Cloned into group-commit work; the
/// [`CachedFile`] that owns it decides when it is gone.
#[derive(Debug, Clone)]
pub(crate) struct FileRef {
    cache: FileCache,
    id: u64,
    state: Arc<FileState>,
}

impl FileRef {
    pub(crate) fn path(&self) -> &Path {
        &self.state.path
    }

    /// The open handle, opening the file if the cache closed it.
    pub(crate) fn handle(&self) -> Result<Arc<Handle>, LogError> {
        if self.state.forgotten.load(Ordering::Acquire) {
            return Err(LogError::Io {
                context: format!("{} was deleted", self.path().display()),
                source: io::ErrorKind::NotFound.into(),
            });
        }
        self.cache.handle(self)
    }

    /// Records a write, so the file is fsynced by the next flush or when its handle closes.
    /// Called after the write, while the caller still holds the handle it wrote through.
    pub(crate) fn mark_written(&self) {
        self.state.dirty.store(true, Ordering::Release);
    }

    #[cfg(test)]
    pub(crate) fn is_dirty(&self) -> bool {
        self.state.dirty.load(Ordering::Acquire)
    }

    /// fsyncs the file if it was written since its last fsync. An fsync that failed when its
    /// handle was closed is reported here. A deleted file has nothing left to make durable.
    pub(crate) fn sync(&self) -> Result<(), LogError> {
        if self.state.sync_failed.load(Ordering::Acquire) {
            return Err(LogError::Io {
                context: format!("an fsync of {} failed when its handle was closed", self.path().display()),
                source: io::Error::other("earlier fsync failure"),
            });
        }
        if self.state.forgotten.load(Ordering::Acquire) || !self.state.dirty.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let synced = self.handle().and_then(|handle| {
            handle
                .file
                .sync_data()
                .map_err(|source| LogError::Io { context: format!("cannot fsync {}", self.path().display()), source })
        });
        if synced.is_err() {
            // Not durable: a retry must not think it is.
            self.state.dirty.store(true, Ordering::Release);
        }
        synced
    }

    /// Closes the handle now if the cache holds it (fsyncing it first if written): a sealed
    /// segment's index files will not be written again.
    pub(crate) fn close(&self) {
        self.cache.close(self.id);
    }
}

/// A file owned by a segment: registered with the cache on creation, forgotten on drop
/// (without an fsync: the owner is deleting the file or going away like a crash).
#[derive(Debug)]
pub(crate) struct CachedFile {
    file: FileRef,
}

impl CachedFile {
    /// Registers `path` without opening it.
    pub(crate) fn new(cache: &FileCache, path: PathBuf) -> CachedFile {
        let id = {
            let mut state = cache.state();
            state.next_id += 1;
            state.next_id
        };
        let state = Arc::new(FileState {
            path,
            dirty: AtomicBool::new(false),
            sync_failed: AtomicBool::new(false),
            forgotten: AtomicBool::new(false),
        });
        CachedFile { file: FileRef { cache: cache.clone(), id, state } }
    }
}

impl std::ops::Deref for CachedFile {
    type Target = FileRef;

    fn deref(&self) -> &FileRef {
        &self.file
    }
}

impl Drop for CachedFile {
    fn drop(&mut self) {
        self.file.state.dirty.store(false, Ordering::Release);
        self.file.state.forgotten.store(true, Ordering::Release);
        self.file.cache.close(self.file.id);
    }
}

/// Opens for positioned reads and appends, creating the file if needed.
pub(crate) fn open_read_append(path: &Path) -> Result<File, LogError> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|source| LogError::Io { context: format!("cannot open {}", path.display()), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_all(file: &FileRef) -> Vec<u8> {
        std::fs::read(file.path()).expect("reads")
    }

    #[test]
    fn the_least_recently_used_handle_closes_beyond_the_capacity() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = FileCache::new(2);
        let files: Vec<CachedFile> =
            (0..3).map(|i| CachedFile::new(&cache, dir.path().join(format!("{i}.log")))).collect();
        files[0].handle().expect("opens");
        files[1].handle().expect("opens");
        files[0].handle().expect("still open"); // 1 is now the least recently used
        files[2].handle().expect("opens");
        let stats = cache.stats();
        assert_eq!((stats.open, stats.opened, stats.evicted), (2, 3, 1));
        files[0].handle().expect("still open");
        assert_eq!(cache.stats().opened, 3, "0 was kept: 1 was the one closed");
        files[1].handle().expect("reopens");
        assert_eq!((cache.stats().opened, cache.stats().evicted), (4, 2));
    }

    #[test]
    fn an_evicted_file_reopens_and_appends_after_what_it_had() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = FileCache::new(1);
        let a = CachedFile::new(&cache, dir.path().join("a.log"));
        let b = CachedFile::new(&cache, dir.path().join("b.log"));
        for (round, bytes) in [(0, b"one "), (1, b"two ")] {
            for file in [&a, &b] {
                let handle = file.handle().expect("opens");
                handle.file().write_all(bytes).expect("appends");
                file.mark_written();
            }
            assert_eq!(cache.stats().evicted, 2 * round + 1, "each switch closes the other file");
        }
        assert_eq!(read_all(&a), b"one two ");
        assert_eq!(read_all(&b), b"one two ");
    }

    #[test]
    fn closing_a_written_handle_fsyncs_it_and_a_flush_then_has_nothing_to_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = FileCache::new(1);
        let a = CachedFile::new(&cache, dir.path().join("a.log"));
        let b = CachedFile::new(&cache, dir.path().join("b.log"));
        let handle = a.handle().expect("opens");
        handle.file().write_all(b"acknowledged").expect("appends");
        a.mark_written();
        drop(handle);
        assert!(a.is_dirty());
        b.handle().expect("opens, closing a");
        assert!(!a.is_dirty(), "closed through an fsync");
        let opened = cache.stats().opened;
        a.sync().expect("nothing to sync");
        assert_eq!(cache.stats().opened, opened, "a flush does not reopen a file that is already durable");
        assert_eq!(read_all(&a), b"acknowledged");
    }

    #[test]
    fn a_handle_in_use_outlives_its_eviction_and_is_synced_when_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = FileCache::new(1);
        let a = CachedFile::new(&cache, dir.path().join("a.log"));
        let b = CachedFile::new(&cache, dir.path().join("b.log"));
        let held = a.handle().expect("opens");
        b.handle().expect("opens, evicting a from the cache");
        held.file().write_all(b"late").expect("still writable");
        a.mark_written();
        drop(held);
        assert!(!a.is_dirty(), "the last holder fsynced it on close");
        assert_eq!(read_all(&a), b"late");
    }

    #[test]
    fn a_dropped_file_is_never_reopened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = FileCache::new(4);
        let a = CachedFile::new(&cache, dir.path().join("a.log"));
        a.handle().expect("opens");
        a.mark_written();
        let work = FileRef::clone(&a);
        drop(a);
        std::fs::remove_file(dir.path().join("a.log")).expect("deletes");
        work.sync().expect("a deleted file has nothing to sync");
        assert!(work.handle().is_err());
        assert!(!dir.path().join("a.log").exists(), "not recreated");
        assert_eq!(cache.stats().open, 0);
    }
}
