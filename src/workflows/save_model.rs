//! `--data-dir`: the model is written to `model.json` after every change, at most every
//! [`INTERVAL`], atomically (a temp file, synced, renamed over the old one), so a crash leaves
//! either the previous document or the new one, never a torn one. Rather than hooking every
//! action and workflow step, a small task compares the document with the one last written:
//! nothing that changes the model can be missed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::restore_on_start::MODEL_FILE;
use crate::state::SharedState;

const INTERVAL: Duration = Duration::from_millis(100);

/// The running writer; [`ModelWriter::finish`] writes the last changes and stops it.
pub struct ModelWriter {
    task: tokio::task::JoinHandle<()>,
    state: SharedState,
    path: PathBuf,
}

pub fn spawn(state: SharedState, dir: &Path) -> ModelWriter {
    let path = dir.join(MODEL_FILE);
    let task = tokio::spawn({
        let (state, path) = (state.clone(), path.clone());
        async move {
            let mut last = None;
            loop {
                let document = state.model().to_document();
                if last.as_ref() != Some(&document) {
                    match write_atomically(&path, &document) {
                        Ok(()) => last = Some(document),
                        Err(error) => tracing::error!(%error, "cannot write the model"),
                    }
                }
                tokio::time::sleep(INTERVAL).await;
            }
        }
    });
    ModelWriter { task, state, path }
}

impl ModelWriter {
    /// Stops the task and writes the model as it is now (at shutdown, before nodes stop).
    pub async fn finish(self) {
        self.task.abort();
        let _ = self.task.await;
        let document = self.state.model().to_document();
        if let Err(error) = write_atomically(&self.path, &document) {
            tracing::error!(%error, "cannot write the model at shutdown");
        }
    }
}

fn write_atomically(path: &Path, document: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let temp = path.with_extension("json.tmp");
    let failed = |e: std::io::Error| format!("{}: {e}", temp.display());
    let mut file = std::fs::File::create(&temp).map_err(failed)?;
    file.write_all(document).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    std::fs::rename(&temp, path).map_err(|e| format!("{}: {e}", path.display()))
}
