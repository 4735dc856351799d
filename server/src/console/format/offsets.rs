//! `kafka-get-offsets.sh`: `GetOffsetShell`'s `topic:partition:offset` lines.

/// One partition's answer to ListOffsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetRow {
    pub topic: String,
    pub partition: i32,
    /// `None` when the broker found no offset (`UNKNOWN_OFFSET`, e.g. a timestamp after the last
    /// record): the row is left out, as the real tool leaves it out.
    pub offset: Option<i64>,
}

/// `topic:partition:offset` lines (`GetOffsetShell.execute`), sorted like the tool's `TreeMap` on
/// `TopicPartition.toString()`, so `orders-10` comes before `orders-2`.
pub fn get_offsets(rows: &[OffsetRow]) -> String {
    let mut rows: Vec<&OffsetRow> = rows.iter().filter(|row| row.offset.is_some()).collect();
    rows.sort_by_cached_key(|row| format!("{}-{}", row.topic, row.partition));
    rows.iter()
        .filter_map(|row| row.offset.map(|offset| format!("{}:{}:{offset}\n", row.topic, row.partition)))
        .collect()
}

/// No partition matched the filters (`GetOffsetShell.fetchOffsets`).
pub fn get_offsets_no_match() -> String {
    "Error occurred: Could not match any topic-partitions with the specified filters\n".into()
}
