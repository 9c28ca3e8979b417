//! `--data-dir`: every scope's model (the default one's in `DIR/model.json`, each other
//! account and region's in `DIR/<account>/<region>/model.json`, beside its node dirs) is
//! written after every change, at most every [`INTERVAL`], atomically (a temp file, synced,
//! renamed over the old one), so a crash leaves either the previous document or the new one,
//! never a torn one. Rather than hooking every action and workflow step, a small task compares
//! each document with the one last written: nothing that changes a model can be missed, and a
//! scope made by its first request is saved from then on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::restore_on_start::MODEL_FILE;
use crate::model::scope::Scope;
use crate::scopes::Scopes;

const INTERVAL: Duration = Duration::from_millis(100);

/// The running writer; [`ModelWriter::finish`] writes the last changes and stops it.
pub struct ModelWriter {
    task: tokio::task::JoinHandle<()>,
    scopes: Arc<Scopes>,
}

pub fn spawn(scopes: Arc<Scopes>) -> ModelWriter {
    let task = tokio::spawn({
        let scopes = scopes.clone();
        async move {
            let mut last: BTreeMap<Scope, Vec<u8>> = BTreeMap::new();
            loop {
                write_changed(&scopes, &mut last);
                tokio::time::sleep(INTERVAL).await;
            }
        }
    });
    ModelWriter { task, scopes }
}

impl ModelWriter {
    /// Stops the task and writes every model as it is now (at shutdown, before nodes stop).
    pub async fn finish(self) {
        self.task.abort();
        let _ = self.task.await;
        write_changed(&self.scopes, &mut BTreeMap::new());
    }
}

/// Writes each scope's document that differs from the one in `last`.
fn write_changed(scopes: &Scopes, last: &mut BTreeMap<Scope, Vec<u8>>) {
    for (scope, state) in scopes.all() {
        let document = state.model().to_document();
        if last.get(&scope) == Some(&document) {
            continue;
        }
        let path = model_path(state.engine.data_dir());
        match write_atomically(&path, &document) {
            Ok(()) => {
                last.insert(scope, document);
            }
            Err(error) => tracing::error!(%scope, %error, "cannot write the model"),
        }
    }
}

/// Where the model of the scope whose node dirs are in `scope_dir` is kept.
pub fn model_path(scope_dir: &Path) -> PathBuf {
    scope_dir.join(MODEL_FILE)
}

fn write_atomically(path: &Path, document: &[u8]) -> Result<(), String> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let temp = path.with_extension("json.tmp");
    let failed = |e: std::io::Error| format!("{}: {e}", temp.display());
    let mut file = std::fs::File::create(&temp).map_err(failed)?;
    file.write_all(document).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    std::fs::rename(&temp, path).map_err(|e| format!("{}: {e}", path.display()))
}
