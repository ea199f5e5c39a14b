//! The simulator's durable state: an append-only journal of changed objects.
//!
//! Each save appends one line per object changed since the previous save (its new value, or its
//! removal), so a call costs the same after a million objects as after ten. The file starts with
//! a snapshot of every object; when the lines after it outnumber twice the objects (and at
//! least [`COMPACT_AFTER`]), a fresh snapshot replaces the file (written aside, then renamed), so
//! the file stays proportional to the objects and the rewrite's cost is spread over the saves
//! that made it necessary. A torn last line (a crash in the middle of an append) is ignored.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write as _;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Lines appended after a snapshot before a new snapshot is considered.
pub(crate) const COMPACT_AFTER: usize = 10_000;

/// A map whose changes are remembered until the next save takes them. Reads go through `Deref`;
/// every write goes through the methods below, which note the key.
#[derive(Debug)]
pub(crate) struct Journaled<V> {
    map: HashMap<String, V>,
    changed: HashSet<String>,
}

impl<V> Default for Journaled<V> {
    fn default() -> Self {
        Journaled {
            map: HashMap::new(),
            changed: HashSet::new(),
        }
    }
}

impl<V> Deref for Journaled<V> {
    type Target = HashMap<String, V>;

    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl<V> From<HashMap<String, V>> for Journaled<V> {
    /// Objects as saved: nothing to write until they change.
    fn from(map: HashMap<String, V>) -> Self {
        Journaled {
            map,
            changed: HashSet::new(),
        }
    }
}

impl<V> Journaled<V> {
    /// Adds or replaces an object.
    pub(crate) fn insert(&mut self, key: String, value: V) -> Option<V> {
        self.changed.insert(key.clone());
        self.map.insert(key, value)
    }

    /// An object to change.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let value = self.map.get_mut(key)?;
        self.changed.insert(key.to_owned());
        Some(value)
    }

    /// Forgets an object.
    pub(crate) fn remove(&mut self, key: &str) -> Option<V> {
        let value = self.map.remove(key)?;
        self.changed.insert(key.to_owned());
        Some(value)
    }

    /// The objects as they are now, for a snapshot.
    pub(crate) fn snapshot(&self) -> HashMap<String, V>
    where
        V: Clone,
    {
        self.map.clone()
    }
}

impl<V: Serialize> Journaled<V> {
    /// The journal lines of the changes since the last call (the changes are then forgotten).
    pub(crate) fn take_changes(
        &mut self,
        collection: &'static str,
        lines: &mut Vec<u8>,
    ) -> serde_json::Result<usize> {
        let mut count = 0;
        for key in self.changed.drain() {
            let record = match self.map.get(&key) {
                Some(value) => Record::Set {
                    collection: collection.to_owned(),
                    key,
                    value: serde_json::to_value(value)?,
                },
                None => Record::Remove {
                    collection: collection.to_owned(),
                    key,
                },
            };
            serde_json::to_writer(&mut *lines, &record)?;
            lines.push(b'\n');
            count += 1;
        }
        Ok(count)
    }
}

/// One line of the journal.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub(crate) enum Record {
    /// Every object, as at the moment the file was (re)written.
    Snapshot { objects: Value },
    /// An object's new value.
    Set {
        collection: String,
        key: String,
        value: Value,
    },
    /// An object removed.
    Remove { collection: String, key: String },
}

/// Replays a journal onto `apply`: the snapshot's objects first (`Snapshot`), then each change.
/// A file written before the journal (one JSON document of every object) reads as a snapshot.
///
/// # Errors
/// A line other than the last that is not a record.
pub(crate) fn replay(bytes: &[u8], mut apply: impl FnMut(Record)) -> std::io::Result<()> {
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .collect();
    let last = lines.len().saturating_sub(1);
    for (n, line) in lines.into_iter().enumerate() {
        match serde_json::from_slice::<Record>(line) {
            Ok(record) => apply(record),
            Err(error) => {
                if n == 0
                    && let Ok(objects) = serde_json::from_slice::<Value>(line)
                    && objects.is_object()
                {
                    apply(Record::Snapshot { objects });
                } else if n == last {
                    tracing::warn!(%error, "the simulator's journal ends with a torn line; it is ignored");
                } else {
                    return Err(std::io::Error::other(format!(
                        "line {} of the simulator's journal is not readable: {error}",
                        n + 1
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Applies one change to a collection of typed objects (an unreadable value is skipped).
pub(crate) fn apply_change<V: DeserializeOwned>(
    map: &mut HashMap<String, V>,
    key: String,
    value: Option<Value>,
) {
    match value.map(serde_json::from_value::<V>) {
        Some(Ok(value)) => {
            map.insert(key, value);
        }
        Some(Err(error)) => {
            tracing::warn!(%error, %key, "an object of the simulator's journal is not readable");
        }
        None => {
            map.remove(&key);
        }
    }
}

/// The journal file: appended to, rewritten when compacted.
pub(crate) struct JournalFile {
    path: PathBuf,
    file: File,
    /// Lines appended since the last snapshot.
    appended: usize,
}

impl JournalFile {
    /// Writes `snapshot` as the whole file (aside, then renamed over it) and opens it for
    /// appending.
    pub(crate) fn rewrite(path: &Path, snapshot: &Value) -> std::io::Result<JournalFile> {
        let temporary = path.with_extension("tmp");
        let mut bytes = serde_json::to_vec(&Record::Snapshot {
            objects: snapshot.clone(),
        })
        .map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(&temporary, path)?;
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(JournalFile {
            path: path.to_owned(),
            file,
            appended: 0,
        })
    }

    /// Appends lines written by [`Journaled::take_changes`].
    pub(crate) fn append(&mut self, lines: &[u8], count: usize) -> std::io::Result<()> {
        self.file.write_all(lines)?;
        self.appended = self.appended.saturating_add(count);
        Ok(())
    }

    /// Whether the lines after the snapshot now outweigh the `objects` it would hold.
    pub(crate) fn wants_compaction(&self, objects: usize) -> bool {
        self.appended > COMPACT_AFTER.max(objects.saturating_mul(2))
    }

    /// Replaces the file with `snapshot`.
    pub(crate) fn compact(&mut self, snapshot: &Value) -> std::io::Result<()> {
        *self = JournalFile::rewrite(&self.path, snapshot)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn records(bytes: &[u8]) -> Vec<Value> {
        let mut seen = Vec::new();
        replay(bytes, |record| {
            seen.push(serde_json::to_value(record).expect("serialisable"));
        })
        .expect("readable");
        seen
    }

    #[test]
    fn only_changed_objects_are_written_and_a_removal_is_a_record() {
        let mut objects: Journaled<Value> =
            HashMap::from([("a".to_owned(), json!(1)), ("b".to_owned(), json!(2))]).into();
        let mut lines = Vec::new();
        assert_eq!(objects.take_changes("things", &mut lines).expect("json"), 0);
        objects.insert("c".into(), json!(3));
        if let Some(a) = objects.get_mut("a") {
            *a = json!(10);
        }
        objects.remove("b");
        assert!(objects.get_mut("missing").is_none());
        assert_eq!(objects.take_changes("things", &mut lines).expect("json"), 3);
        let mut seen = records(&lines);
        seen.sort_by_key(|r| r["key"].as_str().unwrap_or_default().to_owned());
        assert_eq!(
            seen,
            [
                json!({"record": "set", "collection": "things", "key": "a", "value": 10}),
                json!({"record": "remove", "collection": "things", "key": "b"}),
                json!({"record": "set", "collection": "things", "key": "c", "value": 3}),
            ]
        );
        let mut again = Vec::new();
        assert_eq!(objects.take_changes("things", &mut again).expect("json"), 0);
    }

    #[test]
    fn a_torn_last_line_is_ignored_but_a_torn_middle_is_not() {
        let good = br#"{"record":"remove","collection":"things","key":"a"}"#;
        let mut torn_end = good.to_vec();
        torn_end.extend_from_slice(b"\n{\"record\":\"se");
        assert_eq!(records(&torn_end).len(), 1);
        let mut torn_middle = b"{\"record\":\"se\n".to_vec();
        torn_middle.extend_from_slice(good);
        assert!(replay(&torn_middle, |_| {}).is_err());
        // A file from before the journal: one document of every object.
        assert_eq!(
            records(br#"{"base_url":"x","sessions":{}}"#),
            [json!({"record": "snapshot", "objects": {"base_url": "x", "sessions": {}}})]
        );
    }
}
