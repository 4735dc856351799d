//! The log cleaner's throughput on a large dirty log, next to `cp` of the same log in the same
//! run: each run copies a freshly written dirty log with `cp -r` (timed: the reference), then
//! cleans the copy (timed: plan, offset map, rewrite, swap). Both read what the page cache
//! holds, so the figures compare the cleaner's CPU and write path with a plain copy's.
//! Run by `tests/bench/cleaner.sh` (`BENCH_MB`, `BENCH_RUNS`); ignored in the test suite.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use broker::log::{DEDUPE_BUFFER_BYTES_DEFAULT, FileCache, LogConfig, PartitionLog};
use broker::testkit::batch;
use kafka_protocol::records::Compression;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 64 * 1024 * 1024,
        cleanup_policy_compact: true,
        cleanup_policy_delete: false,
        ..LogConfig::default()
    }
}

/// Writes about `megabytes` of batches of 16 records (1 KB values) whose keys are drawn from a
/// space of a fifth as many keys as records, so most records have a later one with their key.
fn write_dirty_log(dir: &Path, megabytes: u64) -> u64 {
    let files = FileCache::new(64);
    let (mut log, _) = PartitionLog::open(dir, config(), 0, &files).expect("open");
    let records_total = megabytes * 1024;
    let keys = (records_total / 5).max(1);
    let value = "v".repeat(1_000);
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut written = 0;
    while written < records_total {
        let keys_of_batch: Vec<String> = (0..16)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                format!("key-{}", rng % keys)
            })
            .collect();
        let records: Vec<(Option<&str>, &str)> =
            keys_of_batch.iter().map(|k| (Some(k.as_str()), value.as_str())).collect();
        let bytes = batch(&records, 1_000, Compression::None).to_vec();
        log.append(&bytes, 0, 1_000).expect("append");
        written += 16;
    }
    // Roll so that everything written is sealed, hence cleanable.
    let last = batch(&[(Some("last"), "x")], 10_000, Compression::None).to_vec();
    log.set_config(LogConfig { segment_ms: 1, ..config() });
    log.append(&last, 0, 10_000).expect("roll");
    log.flush().expect("flush");
    log.size_in_bytes()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[test]
#[ignore = "a benchmark: run by tests/bench/cleaner.sh"]
fn cleaner_throughput_next_to_cp() {
    let megabytes = env_or("BENCH_MB", 256);
    let runs = env_or("BENCH_RUNS", 3).max(1);
    let work = tempfile::tempdir().expect("tempdir");
    let source = work.path().join("source");
    let log_bytes = write_dirty_log(&source, megabytes);
    let (mut cleaner_mb_s, mut cp_mb_s, mut kept) = (Vec::new(), Vec::new(), 0);
    for run in 0..runs {
        let copy = work.path().join(format!("run-{run}"));
        let started = Instant::now();
        let status = Command::new("cp").arg("-r").arg(&source).arg(&copy).status().expect("cp runs");
        assert!(status.success());
        let cp_s = started.elapsed().as_secs_f64();

        let files = FileCache::new(64);
        let (mut log, _) = PartitionLog::open(&copy, config(), 0, &files).expect("open the copy");
        let started = Instant::now();
        let to_clean = log.log_to_clean(log.log_end_offset(), 20_000).expect("plan").expect("compacted");
        assert!(to_clean.is_due());
        let cleaned = to_clean.clean(20_000, DEDUPE_BUFFER_BYTES_DEFAULT).expect("clean");
        log.replace_cleaned(cleaned, 20_000).expect("swap");
        let clean_s = started.elapsed().as_secs_f64();
        kept = log.size_in_bytes();

        let mb = log_bytes as f64 / (1024.0 * 1024.0);
        cleaner_mb_s.push(mb / clean_s);
        cp_mb_s.push(mb / cp_s);
        drop(log);
        std::fs::remove_dir_all(&copy).expect("remove the copy");
    }
    let mb = log_bytes as f64 / (1024.0 * 1024.0);
    let (cleaner, cp) = (median(cleaner_mb_s), median(cp_mb_s));
    println!(
        "cleaner: {mb:.0} MB dirty log -> {:.0} MB, median of {runs}: cleaner {cleaner:.0} MB/s, cp {cp:.0} MB/s ({:.0}% of cp)",
        kept as f64 / (1024.0 * 1024.0),
        100.0 * cleaner / cp
    );
}
