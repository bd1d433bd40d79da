//! The import's threads: one parses files into sorted row batches, the calling thread writes
//! them into the store, and a third runs checkpoints ([`super::checkpoint`]).
//!
//! The parser and the writer walk the same list of source groups in the same order. For every
//! file of every group that is parsed, the channel carries the file's [`RowBatch`]es and then
//! one [`Parsed::FileEnd`], so the writer can tell where each file ends without file names.

use std::mem;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Condvar, Mutex, PoisonError};
use std::thread;

use tiq_feeds::{FeedFile, Sink, SinkError};
use tiq_model::{AllowEntry, AsnRange, Sighting};
use tiq_store::{RowBatch, SourceWriter, Store, StoreError};

use super::{FileOutcome, FileStatus, ImportOptions, REJECTED_LINES_KEPT};

/// Rows per batch. A batch is sorted before it is sent, so larger batches make inserts more
/// sequential.
const BATCH_ROWS: usize = 64 * 1024;
/// Rows the parser may have sent that the writer has not inserted yet. Several batches let
/// the parser run ahead through small files while the writer is busy with a large one, and
/// bound the memory that costs.
const ROWS_IN_FLIGHT: usize = 4 * BATCH_ROWS;
/// Value of the failed-group marker while no group has failed.
const NO_GROUP: usize = usize::MAX;

/// Parses and writes every group, with parsing and SQLite's B-tree work on two threads.
pub(super) fn run(
    store: &mut Store,
    data_dir: &Path,
    groups: &[Vec<FeedFile>],
    options: &ImportOptions,
) -> Result<Vec<FileOutcome>, StoreError> {
    let budget = RowBudget::default();
    let failed_group = AtomicUsize::new(NO_GROUP);
    let (sender, receiver) = mpsc::channel();
    let (commits, committed) = mpsc::sync_channel(1);
    thread::scope(|scope| {
        let checkpointer = scope.spawn(|| super::checkpoint::run(data_dir, committed));
        let parser = scope.spawn(|| {
            let queue = Queue {
                sender,
                budget: &budget,
            };
            parse_groups(groups, &queue, &failed_group);
        });
        let mut writer = Writer {
            store,
            receiver,
            budget: &budget,
            failed_group: &failed_group,
            commits,
            written: 0,
        };
        let written = writer.write_groups(data_dir, groups, options);
        // Stops the parser if the writer ended early, and the checkpointer in any case.
        drop(writer);
        for thread in [parser, checkpointer] {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        written
    })
}

/// A message from the parsing thread to the writing thread.
enum Parsed {
    /// Rows of the file being parsed, sorted.
    Rows(RowBatch),
    /// End of the file being parsed.
    FileEnd(FileParse),
}

impl Parsed {
    /// Size counted against [`ROWS_IN_FLIGHT`]: the rows or rejected lines, at least one.
    fn weight(&self) -> usize {
        let size = match self {
            Parsed::Rows(batch) => batch.len(),
            Parsed::FileEnd(parse) => parse.rejected_lines.len(),
        };
        size.max(1)
    }
}

/// Parse result of one file, as the parser reported it.
struct FileParse {
    rejected: u64,
    rejected_lines: Vec<(u64, String)>,
    /// Skipped entries, or the message of the error that stopped the parse.
    result: Result<u64, String>,
}

/// Limit on what is in the channel: the parser takes from the budget before it sends, and
/// the writer gives back after it has handled a message.
#[derive(Default)]
struct RowBudget {
    state: Mutex<BudgetState>,
    changed: Condvar,
}

#[derive(Default)]
struct BudgetState {
    in_flight: usize,
    /// Set when the writer stops, so that a parser waiting for room stops too.
    closed: bool,
}

impl RowBudget {
    /// Waits until `weight` fits under [`ROWS_IN_FLIGHT`] (a message larger than the limit
    /// waits for an empty channel) and takes it. Returns `false` once the writer has stopped.
    fn take(&self, weight: usize) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while !state.closed && state.in_flight > 0 && state.in_flight + weight > ROWS_IN_FLIGHT {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.in_flight += weight;
        !state.closed
    }

    fn give_back(&self, weight: usize) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.in_flight = state.in_flight.saturating_sub(weight);
        self.changed.notify_one();
    }

    fn close(&self) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed = true;
        self.changed.notify_one();
    }
}

/// The parser's end of the channel.
struct Queue<'a> {
    sender: Sender<Parsed>,
    budget: &'a RowBudget,
}

impl Queue<'_> {
    /// Sends a message once the budget has room. Returns `false` once the writer has stopped.
    fn send(&self, message: Parsed) -> bool {
        self.budget.take(message.weight()) && self.sender.send(message).is_ok()
    }
}

/// Parses every file of every group that is not a MaxMind DB file and sends its rows,
/// until the writer stops. `failed_group` is the index of a group whose rows the writer
/// no longer stores, so they are not sent.
fn parse_groups(groups: &[Vec<FeedFile>], queue: &Queue<'_>, failed_group: &AtomicUsize) {
    for (group, files) in groups.iter().enumerate() {
        if super::is_copied_group(files) {
            continue;
        }
        for file in files {
            let mut sink = BatchSink {
                queue,
                batch: RowBatch::new(),
                group,
                failed_group,
                rejected: 0,
                rejected_lines: Vec::new(),
            };
            let result = tiq_feeds::parse(file, &mut sink);
            if sink.send_batch().is_err() {
                return;
            }
            let end = FileParse {
                rejected: sink.rejected,
                rejected_lines: sink.rejected_lines,
                result: result
                    .map(|stats| stats.skipped)
                    .map_err(|error| error.to_string()),
            };
            if !queue.send(Parsed::FileEnd(end)) {
                return;
            }
        }
    }
}

/// Collects parsed records into sorted batches for the writer.
struct BatchSink<'a> {
    queue: &'a Queue<'a>,
    batch: RowBatch,
    group: usize,
    failed_group: &'a AtomicUsize,
    rejected: u64,
    rejected_lines: Vec<(u64, String)>,
}

/// The writing thread stopped, so records can no longer be stored.
#[derive(Debug, thiserror::Error)]
#[error("the import stopped before this record was stored")]
struct WriterStopped;

impl BatchSink<'_> {
    fn send_if_full(&mut self) -> Result<(), SinkError> {
        match self.batch.len() >= BATCH_ROWS {
            true => self.send_batch(),
            false => Ok(()),
        }
    }

    fn send_batch(&mut self) -> Result<(), SinkError> {
        let mut batch = mem::take(&mut self.batch);
        if batch.is_empty() || self.failed_group.load(Ordering::Relaxed) == self.group {
            return Ok(());
        }
        batch.sort();
        match self.queue.send(Parsed::Rows(batch)) {
            true => Ok(()),
            false => Err(Box::new(WriterStopped)),
        }
    }
}

impl Sink for BatchSink<'_> {
    fn sighting(&mut self, sighting: Sighting) -> Result<(), SinkError> {
        self.batch.push_sighting(sighting);
        self.send_if_full()
    }

    fn allow(&mut self, entry: AllowEntry) -> Result<(), SinkError> {
        self.batch.push_allow(entry);
        self.send_if_full()
    }

    fn asn_range(&mut self, range: AsnRange) -> Result<(), SinkError> {
        self.batch.push_asn_range(range);
        self.send_if_full()
    }

    fn reject(&mut self, line: u64, reason: String) {
        self.rejected += 1;
        if self.rejected_lines.len() < REJECTED_LINES_KEPT {
            self.rejected_lines.push((line, reason));
        }
    }
}

/// The writing side: the store, the receiving end of the channel, and the signal to the
/// checkpointer. Dropping it closes the budget, which stops a waiting parser.
struct Writer<'a> {
    store: &'a mut Store,
    receiver: Receiver<Parsed>,
    budget: &'a RowBudget,
    failed_group: &'a AtomicUsize,
    commits: SyncSender<()>,
    /// Records written by this run, for [`ImportOptions::progress`].
    written: u64,
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        self.budget.close();
    }
}

/// Reason writing a group stopped.
enum WriteError {
    /// Starting or committing the replacement failed: the import stops.
    Store(StoreError),
    /// The parsing thread ended before sending every file, which only a panic does.
    ParserGone,
}

impl From<StoreError> for WriteError {
    fn from(error: StoreError) -> WriteError {
        WriteError::Store(error)
    }
}

impl Writer<'_> {
    /// Writes every group in order: MaxMind DB files are copied here, the other groups' rows
    /// come from the parsing thread. Stops at the first error that is not about one file.
    fn write_groups(
        &mut self,
        data_dir: &Path,
        groups: &[Vec<FeedFile>],
        options: &ImportOptions,
    ) -> Result<Vec<FileOutcome>, StoreError> {
        let mut outcomes = Vec::new();
        for (index, files) in groups.iter().enumerate() {
            if super::is_copied_group(files) {
                outcomes.extend(super::import_copied_group(
                    self.store, data_dir, files, options,
                )?);
                continue;
            }
            match self.write_group(files, index, options) {
                Ok(group) => outcomes.extend(group),
                Err(WriteError::Store(error)) => return Err(error),
                // The caller resumes the parsing thread's panic.
                Err(WriteError::ParserGone) => break,
            }
            // A full signal channel means a checkpoint is due already.
            let _ = self.commits.try_send(());
        }
        Ok(outcomes)
    }

    /// Writes every file of one group (one source) in one transaction. After an insert fails,
    /// the group is marked in `failed_group` and its remaining rows are not stored.
    fn write_group(
        &mut self,
        files: &[FeedFile],
        group: usize,
        options: &ImportOptions,
    ) -> Result<Vec<FileOutcome>, WriteError> {
        let origin = files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let meta = super::source_meta(&files[0], origin, None, options);
        let mut writer = self.store.begin_replace(&meta)?;
        let mut outcomes: Vec<FileOutcome> = Vec::new();
        let mut failure: Option<String> = None;
        let mut storing = true;

        for file in files {
            let before = writer.records();
            let mut insert_error = None;
            let parse = loop {
                let message = self.receiver.recv().map_err(|_| WriteError::ParserGone)?;
                self.budget.give_back(message.weight());
                match message {
                    Parsed::Rows(batch) if storing => match writer.insert(&batch) {
                        Ok(inserted) => {
                            self.written += inserted;
                            if let Some(progress) = &options.progress {
                                progress(self.written);
                            }
                        }
                        Err(error) => {
                            self.failed_group.store(group, Ordering::Relaxed);
                            storing = false;
                            insert_error = Some(error);
                        }
                    },
                    Parsed::Rows(_) => {}
                    Parsed::FileEnd(parse) => break parse,
                }
            };
            let outcome = file_outcome(file, parse, insert_error, writer.records() - before);
            if let FileStatus::Failed(_) = outcome.status {
                failure = Some(format!("{} failed", file.path.display()));
            }
            outcomes.push(outcome);
        }

        let decision = failure.or_else(|| super::rejection_reason(&writer, &outcomes, options));
        finish_group(writer, &files[0], &mut outcomes, decision)?;
        Ok(outcomes)
    }
}

/// Returns the outcome of one file of a group still being written: failed when its parse or an
/// insert of its rows failed, imported otherwise.
fn file_outcome(
    file: &FeedFile,
    parse: FileParse,
    insert_error: Option<StoreError>,
    records: u64,
) -> FileOutcome {
    let mut outcome = FileOutcome::for_file(file);
    outcome.rejected = parse.rejected;
    outcome.rejected_lines = parse.rejected_lines;
    outcome.records = records;
    let status = match (insert_error, parse.result) {
        (Some(error), _) => Err(format!(
            "{}: failed to store a record: {error}",
            file.path.display()
        )),
        (None, result) => result,
    };
    match status {
        Ok(skipped) => outcome.skipped = skipped,
        Err(message) => outcome.status = FileStatus::Failed(message),
    }
    outcome
}

/// Commits the replacement, or rolls it back and marks the imported files as kept.
fn finish_group(
    writer: SourceWriter<'_>,
    first: &FeedFile,
    outcomes: &mut [FileOutcome],
    decision: Option<String>,
) -> Result<(), StoreError> {
    let Some(reason) = decision else {
        let rejected = outcomes.iter().map(|o| o.rejected).sum();
        writer.commit(rejected)?;
        return Ok(());
    };
    drop(writer);
    tracing::warn!(source = %first.source.name, %reason, "did not replace the records of a source");
    for outcome in outcomes
        .iter_mut()
        .filter(|o| o.status == FileStatus::Imported)
    {
        outcome.status = FileStatus::Kept(reason.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use tiq_store::Store;

    use super::*;

    /// Writes an IPsum file with `count` distinct addresses, then the first address again with
    /// another blocklist count.
    fn large_ipsum(dir: &Path, count: usize) -> std::path::PathBuf {
        let mut body =
            String::from("# IPsum Threat Intelligence Feed\n# IP\tnumber of (black)lists\n");
        for i in 0..count {
            writeln!(body, "10.{}.{}.{}\t1", i >> 16, (i >> 8) & 0xff, i & 0xff).unwrap();
        }
        body.push_str("10.0.0.0\t8\n");
        let path = dir.join("ipsum.txt");
        std::fs::write(&path, body).unwrap();
        path
    }

    #[test]
    fn file_over_several_batches_keeps_first_copy() {
        let feeds = tempfile::tempdir().unwrap();
        let count = BATCH_ROWS + BATCH_ROWS / 2;
        let path = large_ipsum(feeds.path(), count);
        let data = tempfile::tempdir().unwrap();

        let summary =
            super::super::import(data.path(), &[path], &ImportOptions::default()).unwrap();
        assert_eq!(summary.files.len(), 1);
        assert_eq!(summary.files[0].status, FileStatus::Imported);
        assert_eq!(summary.files[0].records, count as u64);

        let store = Store::open(data.path()).unwrap();
        let first = store
            .sightings_by_values(&["10.0.0.0".to_string()])
            .unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].labels, ["blocklists:1"]);
        let last = format!(
            "10.{}.{}.{}",
            (count - 1) >> 16,
            ((count - 1) >> 8) & 0xff,
            (count - 1) & 0xff
        );
        assert_eq!(store.sightings_by_values(&[last]).unwrap().len(), 1);
    }

    #[test]
    fn budget_waits_for_room_and_stops_when_closed() {
        let budget = RowBudget::default();
        assert!(budget.take(ROWS_IN_FLIGHT));
        thread::scope(|scope| {
            let waiting = scope.spawn(|| budget.take(1));
            budget.give_back(ROWS_IN_FLIGHT);
            assert!(waiting.join().unwrap(), "room was given back");
        });
        budget.close();
        assert!(!budget.take(1), "the writer has stopped");
    }
}
