//! Checkpoints on a connection of their own while the importer commits.
//!
//! A checkpoint fsyncs the WAL, copies its pages into the database file and fsyncs that. Run
//! on the committing connection, every fsync stalls the import; run here, the disk writes
//! overlap with parsing and inserting.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use tiq_store::Store;

/// Shortest time between two checkpoints. A page that many sources change in a row (an
/// index page shared by all of them) is copied once per interval instead of once per commit.
const MIN_INTERVAL: Duration = Duration::from_millis(100);

/// Runs a checkpoint after commits, at most one per [`MIN_INTERVAL`], until `commits`
/// disconnects. The importing connection checkpoints by itself when this falls behind or
/// fails, so a failure here is logged and ends the loop.
pub(super) fn run(data_dir: &Path, commits: Receiver<()>) {
    let store = match Store::open(data_dir) {
        Ok(store) => store,
        Err(error) => {
            tracing::warn!(%error, "cannot open a connection for checkpoints during the import");
            return;
        }
    };
    let mut pending = false;
    loop {
        if !pending && commits.recv().is_err() {
            return;
        }
        let started = Instant::now();
        if let Err(error) = store.checkpoint() {
            tracing::warn!(%error, "checkpoint during the import failed");
            return;
        }
        pending = false;
        // Wait out the interval, noting commits, and stop as soon as the writer is done:
        // closing its connection runs the last checkpoint.
        let next = started + MIN_INTERVAL;
        while let Some(left) = next.checked_duration_since(Instant::now()) {
            match commits.recv_timeout(left) {
                Ok(()) => pending = true,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}
