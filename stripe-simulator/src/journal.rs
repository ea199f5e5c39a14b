//! The simulator's durable state: an append-only journal of changed objects, read back on demand.
//!
//! Each save appends one line per object changed since the previous save (its new value, or its
//! removal), so a call costs the same after a million objects as after ten. Objects a request no
//! longer needs leave memory once saved: memory keeps only where each object's latest line is
//! ([`Location`], a few dozen bytes per object), and a request that needs an object again reads
//! and parses that one line. When the lines outnumber twice the objects (and at least
//! [`COMPACT_AFTER`]), and at every start, the file is rewritten with one line per live object
//! (written aside, then renamed), so it stays proportional to the objects and the rewrite's cost
//! is spread over the saves that made it necessary. A torn last line (a crash in the middle of an
//! append) is ignored. Without a file (tests), every object stays in memory.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Lines appended after a rewrite before another rewrite is considered.
pub(crate) const COMPACT_AFTER: usize = 10_000;

/// Where an object's latest line is in the journal file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Location {
    offset: u64,
    len: u32,
}

/// The journal file objects are read back from; a rewrite puts the new file in its place.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reader(Arc<RwLock<Option<Arc<File>>>>);

impl Reader {
    pub(crate) fn set(&self, file: File) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(file));
    }

    fn line(&self, at: Location) -> std::io::Result<Vec<u8>> {
        let file = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or_else(|| std::io::Error::other("the journal is not open"))?;
        let mut bytes = vec![0; at.len as usize];
        file.read_exact_at(&mut bytes, at.offset)?;
        Ok(bytes)
    }
}

/// A map of objects whose changes are remembered until the next save takes them, and whose
/// saved objects may live only in the journal file until they are needed.
#[derive(Debug)]
pub(crate) struct Journaled<V> {
    collection: &'static str,
    /// Objects in memory: changed since the last save, or read back since.
    hot: HashMap<String, V>,
    /// The latest saved line of every saved object.
    saved: HashMap<String, Location>,
    changed: HashSet<String>,
    reader: Reader,
    /// Where a rewrite in progress put each object; they replace `saved` once the new file is in
    /// place (a failed rewrite leaves `saved` pointing into the old file, which stays valid).
    rewritten: Vec<(String, Location)>,
}

impl<V> Journaled<V> {
    /// An empty collection named `collection` in the journal, read back through `reader`.
    pub(crate) fn new(collection: &'static str, reader: Reader) -> Self {
        Journaled {
            collection,
            hot: HashMap::new(),
            saved: HashMap::new(),
            changed: HashSet::new(),
            reader,
            rewritten: Vec::new(),
        }
    }

    /// Adds or replaces an object.
    pub(crate) fn insert(&mut self, key: String, value: V) {
        self.changed.insert(key.clone());
        self.hot.insert(key, value);
    }

    /// Forgets an object.
    pub(crate) fn remove(&mut self, key: &str) -> bool {
        let known = self.hot.remove(key).is_some() | self.saved.remove(key).is_some();
        if known {
            self.changed.insert(key.to_owned());
        }
        known
    }

    /// Whether there is such an object.
    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.hot.contains_key(key) || self.saved.contains_key(key)
    }

    /// How many objects there are.
    pub(crate) fn len(&self) -> usize {
        self.saved.len()
            + self
                .hot
                .keys()
                .filter(|k| !self.saved.contains_key(*k))
                .count()
    }

    /// How many objects are in memory.
    #[cfg(test)]
    pub(crate) fn hot_len(&self) -> usize {
        self.hot.len()
    }

    /// Every object's key.
    pub(crate) fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.saved.keys().cloned().collect();
        keys.extend(
            self.hot
                .keys()
                .filter(|k| !self.saved.contains_key(*k))
                .cloned(),
        );
        keys
    }

    /// Lets saved, unchanged objects leave memory (they are read back when needed again).
    pub(crate) fn evict(&mut self) {
        let changed = &self.changed;
        let saved = &self.saved;
        self.hot
            .retain(|key, _| changed.contains(key) || !saved.contains_key(key));
    }
}

impl<V: DeserializeOwned> Journaled<V> {
    /// Brings a saved object back into memory, if it is not there.
    fn load(&mut self, key: &str) {
        if self.hot.contains_key(key) {
            return;
        }
        let Some(at) = self.saved.get(key).copied() else {
            return;
        };
        let read = self.reader.line(at).and_then(|line| {
            match serde_json::from_slice::<Record>(&line).map_err(std::io::Error::other)? {
                Record::Set {
                    collection,
                    key: found,
                    value,
                } if collection == self.collection && found == key => {
                    serde_json::from_value::<V>(value).map_err(std::io::Error::other)
                }
                _ => Err(std::io::Error::other("the line there is not this object's")),
            }
        });
        match read {
            Ok(value) => {
                self.hot.insert(key.to_owned(), value);
            }
            Err(error) => tracing::error!(
                %error, collection = self.collection, %key,
                "the simulator cannot read an object back from its journal"
            ),
        }
    }

    /// An object.
    pub(crate) fn get(&mut self, key: &str) -> Option<&V> {
        self.load(key);
        self.hot.get(key)
    }

    /// An object to change.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.load(key);
        let value = self.hot.get_mut(key)?;
        self.changed.insert(key.to_owned());
        Some(value)
    }

    /// Every object (reads all of them back: for inspection only).
    pub(crate) fn all(&mut self) -> Vec<&V> {
        for key in self.keys() {
            self.load(&key);
        }
        self.hot.values().collect()
    }
}

impl<V: Serialize> Journaled<V> {
    /// Appends the journal lines of the changes since the last call to `lines`, which will be
    /// written at `start` in the file, and notes where each object's line will be.
    pub(crate) fn take_changes(
        &mut self,
        start: u64,
        lines: &mut Vec<u8>,
    ) -> std::io::Result<usize> {
        let mut count = 0;
        for key in std::mem::take(&mut self.changed) {
            let record = match self.hot.get(&key) {
                Some(value) => Record::Set {
                    collection: self.collection.to_owned(),
                    key: key.clone(),
                    value: serde_json::to_value(value).map_err(std::io::Error::other)?,
                },
                None => Record::Remove {
                    collection: self.collection.to_owned(),
                    key: key.clone(),
                },
            };
            let offset = start + lines.len() as u64;
            serde_json::to_writer(&mut *lines, &record).map_err(std::io::Error::other)?;
            let len = u32::try_from(start + lines.len() as u64 - offset)
                .map_err(|_| std::io::Error::other("an object's line is over 4 GiB"))?;
            lines.push(b'\n');
            if matches!(record, Record::Set { .. }) {
                self.saved.insert(key, Location { offset, len });
            }
            count += 1;
        }
        Ok(count)
    }

    /// Writes every object as one line to `out` (a rewrite of the journal), noting where each
    /// went (used from [`Self::rewrite_done`], once the new file is in place); objects only in
    /// the old file are copied without being parsed, unless `adjust` has to change them.
    pub(crate) fn write_all(
        &mut self,
        out: &mut JournalWriter,
        adjust: Option<&dyn Fn(&mut V)>,
    ) -> std::io::Result<usize>
    where
        V: DeserializeOwned,
    {
        let mut count = 0;
        for key in self.keys() {
            let cold = !self.hot.contains_key(&key);
            let line = match (cold, adjust) {
                (true, None) => {
                    let Some(at) = self.saved.get(&key).copied() else {
                        continue;
                    };
                    self.reader.line(at)?
                }
                _ => {
                    self.load(&key);
                    let Some(value) = self.hot.get_mut(&key) else {
                        continue;
                    };
                    if let Some(adjust) = adjust {
                        adjust(value);
                    }
                    serde_json::to_vec(&Record::Set {
                        collection: self.collection.to_owned(),
                        key: key.clone(),
                        value: serde_json::to_value(&*value).map_err(std::io::Error::other)?,
                    })
                    .map_err(std::io::Error::other)?
                }
            };
            let at = out.line(&line)?;
            self.rewritten.push((key.clone(), at));
            if cold && adjust.is_some() {
                // Read back only to be adjusted: it stays in memory until the rewrite is in
                // place (its old line does not have the adjustment).
                self.changed.insert(key);
            }
            count += 1;
        }
        Ok(count)
    }

    /// The rewrite is in place: objects are read from their new lines, and nothing waits to be
    /// written.
    pub(crate) fn rewrite_done(&mut self) {
        for (key, at) in std::mem::take(&mut self.rewritten) {
            self.saved.insert(key, at);
        }
        self.changed.clear();
    }

    /// The rewrite failed: objects stay where they were, changes still wait to be written.
    pub(crate) fn rewrite_failed(&mut self) {
        self.rewritten.clear();
    }
}

/// One line of the journal.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub(crate) enum Record {
    /// The start of a rewritten file: the simulator's address when it was written (hosted-page
    /// URLs of later lines use it).
    Begin { base_url: String },
    /// Every object at once (files written by earlier versions).
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

/// Replays a journal: `apply` gets each record and where its line is. A file written before the
/// journal (one JSON document of every object) reads as a snapshot.
///
/// # Errors
/// A line other than the last that is not a record.
pub(crate) fn replay(bytes: &[u8], mut apply: impl FnMut(Record, Location)) -> std::io::Result<()> {
    let mut offset = 0_u64;
    let mut lines = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        let at = Location {
            offset,
            len: u32::try_from(line.len()).unwrap_or(u32::MAX),
        };
        offset += line.len() as u64 + 1;
        if !line.iter().all(u8::is_ascii_whitespace) {
            lines.push((line, at));
        }
    }
    let last = lines.len().saturating_sub(1);
    for (n, (line, at)) in lines.into_iter().enumerate() {
        match serde_json::from_slice::<Record>(line) {
            Ok(record) => apply(record, at),
            Err(error) => {
                if n == 0
                    && let Ok(objects) = serde_json::from_slice::<Value>(line)
                    && objects.is_object()
                {
                    apply(Record::Snapshot { objects }, at);
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

impl<V: DeserializeOwned> Journaled<V> {
    /// Takes a saved line over when replaying: the object stays in the file (its value is read
    /// back when needed), or in memory when `keep` says so.
    pub(crate) fn replayed(&mut self, key: String, value: Option<Value>, at: Location, keep: bool) {
        match value {
            Some(value) if keep => match serde_json::from_value::<V>(value) {
                Ok(value) => {
                    self.saved.insert(key.clone(), at);
                    self.hot.insert(key, value);
                }
                Err(error) => {
                    tracing::warn!(%error, %key, "an object of the simulator's journal is not readable");
                }
            },
            Some(_) => {
                self.hot.remove(&key);
                self.saved.insert(key, at);
            }
            None => {
                self.hot.remove(&key);
                self.saved.remove(&key);
            }
        }
    }

    /// Takes over an object of an old snapshot (kept in memory until the start's rewrite).
    pub(crate) fn restored(&mut self, key: String, value: V) {
        self.saved.remove(&key);
        self.hot.insert(key, value);
    }
}

/// A journal file being rewritten: lines go to a file beside it, which then replaces it.
pub(crate) struct JournalWriter {
    out: BufWriter<File>,
    written: u64,
}

impl JournalWriter {
    fn line(&mut self, line: &[u8]) -> std::io::Result<Location> {
        let at = Location {
            offset: self.written,
            len: u32::try_from(line.len())
                .map_err(|_| std::io::Error::other("an object's line is over 4 GiB"))?,
        };
        self.out.write_all(line)?;
        self.out.write_all(b"\n")?;
        self.written += line.len() as u64 + 1;
        Ok(at)
    }
}

/// The journal file: appended to, rewritten when compacted.
pub(crate) struct JournalFile {
    path: PathBuf,
    file: File,
    /// Where the next line goes.
    end: u64,
    /// Lines appended since the last rewrite.
    appended: usize,
}

/// Something whose objects a rewrite writes out (the simulator's state).
pub(crate) trait Rewritable {
    /// The `Begin` record's address.
    fn base_url(&self) -> String;
    /// Writes every object's line.
    fn write_objects(&mut self, out: &mut JournalWriter) -> std::io::Result<usize>;
    /// The new file is in place ([`Journaled::rewrite_done`] for every collection).
    fn rewrite_done(&mut self);
    /// The new file could not be put in place ([`Journaled::rewrite_failed`]).
    fn rewrite_failed(&mut self);
}

impl JournalFile {
    /// Rewrites the file at `path` with every object of `objects` (aside, then renamed) and opens
    /// it for appending; `reader` reads the new file from now on.
    pub(crate) fn rewrite(
        path: &Path,
        objects: &mut dyn Rewritable,
        reader: &Reader,
    ) -> std::io::Result<JournalFile> {
        match JournalFile::write_aside(path, objects, reader) {
            Ok(journal) => {
                objects.rewrite_done();
                Ok(journal)
            }
            Err(error) => {
                objects.rewrite_failed();
                Err(error)
            }
        }
    }

    fn write_aside(
        path: &Path,
        objects: &mut dyn Rewritable,
        reader: &Reader,
    ) -> std::io::Result<JournalFile> {
        let temporary = path.with_extension("tmp");
        let mut out = JournalWriter {
            out: BufWriter::new(File::create(&temporary)?),
            written: 0,
        };
        let begin = serde_json::to_vec(&Record::Begin {
            base_url: objects.base_url(),
        })
        .map_err(std::io::Error::other)?;
        out.line(&begin)?;
        objects.write_objects(&mut out)?;
        let JournalWriter { out, written } = out;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        let reopened = File::open(&temporary)?;
        let file = std::fs::OpenOptions::new().append(true).open(&temporary)?;
        std::fs::rename(&temporary, path)?;
        reader.set(reopened);
        Ok(JournalFile {
            path: path.to_owned(),
            file,
            end: written,
            appended: 0,
        })
    }

    /// Where the next appended line starts.
    pub(crate) fn end(&self) -> u64 {
        self.end
    }

    /// Appends lines written by [`Journaled::take_changes`] (which were placed at [`Self::end`]).
    pub(crate) fn append(&mut self, lines: &[u8], count: usize) -> std::io::Result<()> {
        self.file.write_all(lines)?;
        self.end += lines.len() as u64;
        self.appended = self.appended.saturating_add(count);
        Ok(())
    }

    /// Whether the lines after the last rewrite now outweigh the `objects` it would hold.
    pub(crate) fn wants_compaction(&self, objects: usize) -> bool {
        self.appended > COMPACT_AFTER.max(objects.saturating_mul(2))
    }

    /// Rewrites the file with the current objects.
    pub(crate) fn compact(
        &mut self,
        objects: &mut dyn Rewritable,
        reader: &Reader,
    ) -> std::io::Result<()> {
        *self = JournalFile::rewrite(&self.path, objects, reader)?;
        Ok(())
    }
}

/// Applies one change to a map of typed objects, for reading a whole journal at once (an
/// unreadable value is skipped).
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn records(bytes: &[u8]) -> Vec<Value> {
        let mut seen = Vec::new();
        replay(bytes, |record, _| {
            seen.push(serde_json::to_value(record).expect("serialisable"));
        })
        .expect("readable");
        seen
    }

    #[test]
    fn only_changed_objects_are_written_and_a_removal_is_a_record() {
        let mut objects: Journaled<Value> = Journaled::new("things", Reader::default());
        objects.insert("a".into(), json!(1));
        objects.insert("b".into(), json!(2));
        let mut lines = Vec::new();
        assert_eq!(objects.take_changes(0, &mut lines).expect("json"), 2);
        let mut lines = Vec::new();
        assert_eq!(objects.take_changes(0, &mut lines).expect("json"), 0);
        objects.insert("c".into(), json!(3));
        if let Some(a) = objects.get_mut("a") {
            *a = json!(10);
        }
        assert!(objects.remove("b"));
        assert!(objects.get_mut("missing").is_none());
        assert_eq!(objects.take_changes(0, &mut lines).expect("json"), 3);
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
        assert_eq!(objects.len(), 2);
    }

    #[test]
    fn a_torn_last_line_is_ignored_but_a_torn_middle_is_not() {
        let good = br#"{"record":"remove","collection":"things","key":"a"}"#;
        let mut torn_end = good.to_vec();
        torn_end.extend_from_slice(b"\n{\"record\":\"se");
        assert_eq!(records(&torn_end).len(), 1);
        let mut torn_middle = b"{\"record\":\"se\n".to_vec();
        torn_middle.extend_from_slice(good);
        assert!(replay(&torn_middle, |_, _| {}).is_err());
        // A file from before the journal: one document of every object.
        assert_eq!(
            records(br#"{"base_url":"x","sessions":{}}"#),
            [json!({"record": "snapshot", "objects": {"base_url": "x", "sessions": {}}})]
        );
    }
}
