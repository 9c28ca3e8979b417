//! `--data-dir` with several accounts and regions: the default scope's model is in the data
//! dir itself, each other scope's in `<account>/<region>/` beside its node dirs (see
//! `save_model`). At start every one found is loaded into its scope, which then exists before
//! its first request, so its groups come back like the default scope's.

use std::path::Path;

use super::restore_on_start::load_model;
use super::save_model::model_path;
use crate::model::scope::Scope;
use crate::scopes::Scopes;
use crate::state::SharedState;

/// Loads every scope's model under `dir`; the states that had one, the default first. Any
/// document that cannot be loaded whole stops the start (see [`load_model`]).
pub fn load_every_scope(scopes: &Scopes, dir: &Path) -> Result<Vec<SharedState>, String> {
    let mut loaded = Vec::new();
    let default = scopes.default_state();
    if load_model(&default, dir)? {
        loaded.push(default);
    }
    for scope in saved_scopes(dir)? {
        if &scope == scopes.default_scope() {
            continue;
        }
        let state = scopes.get(&scope);
        if load_model(&state, state.engine.data_dir())? {
            tracing::info!(%scope, "loaded the model of another account/region");
            loaded.push(state);
        }
    }
    Ok(loaded)
}

/// The `<account>/<region>` dirs under `dir` that hold a model: an account is twelve digits
/// (group dirs start with a letter, so they are never taken for one).
fn saved_scopes(dir: &Path) -> Result<Vec<Scope>, String> {
    let mut scopes = Vec::new();
    for account in subdirs(dir)? {
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        for region in subdirs(&dir.join(&account))? {
            let holds_model = model_path(&dir.join(&account).join(&region)).exists();
            if Scope::is_valid_region(&region) && holds_model {
                scopes.push(Scope::new(&account, &region));
            }
        }
    }
    scopes.sort();
    Ok(scopes)
}

fn subdirs(dir: &Path) -> Result<Vec<String>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    Ok(entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .collect())
}
