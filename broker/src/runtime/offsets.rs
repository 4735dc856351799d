//! Committed offsets on disk: `<data-dir>/consumer_offsets.jsonl`, one JSON record per line.
//!
//! Kafka keeps them in the compacted `__consumer_offsets` topic; this is the same idea in its
//! simplest durable form: an append-only file of commits and deletions, replayed at start-up
//! (a torn last line from a crash is ignored) and rewritten compacted when it has grown. Appends
//! are fsynced by group commit, and OffsetCommit is answered only after that.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::core::group::{CommittedOffset, GroupCoordinator};

pub(crate) const OFFSETS_FILE: &str = "consumer_offsets.jsonl";

/// One line of the file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum OffsetRecord {
    Commit {
        group: String,
        topic: String,
        partition: i32,
        offset: i64,
        leader_epoch: i32,
        metadata: Option<String>,
        timestamp_ms: i64,
    },
    DeleteGroup {
        group: String,
    },
    DeleteTopic {
        topic: String,
    },
}

#[derive(Debug)]
pub(crate) struct OffsetStore {
    file: File,
    dirty: bool,
}

impl OffsetStore {
    /// Opens the file, replays it into `coordinator`, and compacts it.
    pub(crate) fn open(dir: &Path, coordinator: &mut GroupCoordinator) -> std::io::Result<OffsetStore> {
        let path = dir.join(OFFSETS_FILE);
        let mut lines = 0usize;
        if let Ok(file) = File::open(&path) {
            for line in BufReader::new(file).lines() {
                let line = line?;
                lines += 1;
                match serde_json::from_str::<OffsetRecord>(&line) {
                    Ok(record) => apply(coordinator, record),
                    // Only the last line can be torn by a crash; anything unreadable is skipped.
                    Err(error) => {
                        tracing::warn!(%error, line = lines, "skipping an unreadable committed-offset record")
                    }
                }
            }
        }
        let live: usize = coordinator.groups().map(|g| g.offsets.len()).sum();
        if lines > 2 * live + 1024 {
            compact(&path, coordinator)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(OffsetStore { file, dirty: false })
    }

    /// Appends records (durable after the next [`OffsetStore::flush`]).
    pub(crate) fn append(&mut self, records: &[OffsetRecord]) -> std::io::Result<()> {
        let mut bytes = Vec::new();
        for record in records {
            serde_json::to_writer(&mut bytes, record).map_err(std::io::Error::other)?;
            bytes.push(b'\n');
        }
        self.file.write_all(&bytes)?;
        self.dirty = true;
        Ok(())
    }

    pub(crate) fn flush(&mut self) -> std::io::Result<()> {
        if self.dirty {
            self.file.sync_data()?;
            self.dirty = false;
        }
        Ok(())
    }
}

pub(crate) fn apply(coordinator: &mut GroupCoordinator, record: OffsetRecord) {
    match record {
        OffsetRecord::Commit { group, topic, partition, offset, leader_epoch, metadata, timestamp_ms } => {
            coordinator.store_offset(
                &group,
                &topic,
                partition,
                CommittedOffset { offset, leader_epoch, metadata, commit_timestamp_ms: timestamp_ms },
            );
        }
        OffsetRecord::DeleteGroup { group } => {
            coordinator.delete_group(&group);
        }
        OffsetRecord::DeleteTopic { topic } => coordinator.remove_topic_offsets(&topic),
    }
}

/// Rewrites the file with only the live offsets (temporary file, fsync, rename).
fn compact(path: &Path, coordinator: &GroupCoordinator) -> std::io::Result<()> {
    let mut bytes = Vec::new();
    for group in coordinator.groups() {
        for ((topic, partition), committed) in &group.offsets {
            let record = OffsetRecord::Commit {
                group: group.group_id.clone(),
                topic: topic.clone(),
                partition: *partition,
                offset: committed.offset,
                leader_epoch: committed.leader_epoch,
                metadata: committed.metadata.clone(),
                timestamp_ms: committed.commit_timestamp_ms,
            };
            serde_json::to_writer(&mut bytes, &record).map_err(std::io::Error::other)?;
            bytes.push(b'\n');
        }
    }
    super::replace_file(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_survive_reopen_and_a_torn_last_line_is_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut coordinator = GroupCoordinator::new(1, 0);
        let mut store = OffsetStore::open(dir.path(), &mut coordinator).expect("open");
        let commit = |offset| OffsetRecord::Commit {
            group: "g".into(),
            topic: "t".into(),
            partition: 0,
            offset,
            leader_epoch: 0,
            metadata: Some("m".into()),
            timestamp_ms: 1,
        };
        store.append(&[commit(5), commit(7)]).expect("append");
        store.append(&[OffsetRecord::DeleteTopic { topic: "gone".into() }]).expect("append");
        store.flush().expect("flush");
        drop(store);
        let path = dir.path().join(OFFSETS_FILE);
        // A crash mid-append leaves half a line.
        let mut file = OpenOptions::new().append(true).open(&path).expect("open");
        file.write_all(b"{\"type\":\"commit\",\"gro").expect("write");

        let mut reopened = GroupCoordinator::new(2, 0);
        OffsetStore::open(dir.path(), &mut reopened).expect("reopen");
        assert_eq!(
            reopened.committed_offset("g", "t", 0).map(|c| (c.offset, c.metadata.clone())),
            Some((7, Some("m".into())))
        );
    }
}
