//! Every (account, region) the server has seen, each with its own [`AppState`]: its model
//! (resources, tags, events, quota, markers), its encoded-answer caches and its engine
//! registry, whose node dirs live under `<data dir>/<account>/<region>/`. A scope is created
//! on its first request; the redis-server binary, its learned version, the clock and the
//! settings are shared. Nothing of one scope is reachable from another: the API actions only
//! ever see the state of their request's scope.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::model::Model;
use crate::model::scope::{AccountResolver, Scope};
use crate::state::{AppState, SharedState};

pub struct Scopes {
    default_scope: Scope,
    /// The default scope's state, kept apart from the registry: nearly every request is
    /// served by it, and finding it needs no lock.
    default: SharedState,
    pub accounts: AccountResolver,
    /// Where scopes other than the default keep their node dirs.
    data_dir: PathBuf,
    by_scope: Mutex<BTreeMap<Scope, SharedState>>,
}

impl Scopes {
    /// `default` serves unsigned requests and the fixtures; its settings give every new
    /// scope its quota, timing and verifier.
    pub fn new(default: SharedState, accounts: AccountResolver, data_dir: PathBuf) -> Self {
        let default_scope = Scope::new(&default.settings.account_id, &default.settings.region);
        Self {
            by_scope: Mutex::new(BTreeMap::from([(
                default_scope.clone(),
                Arc::clone(&default),
            )])),
            default,
            default_scope,
            accounts,
            data_dir,
        }
    }

    /// One state as the default scope, other scopes' dirs beside its groups' (group dirs
    /// start with a letter, accounts are digits): what benches and in-process tests use.
    pub fn single(default: SharedState) -> Self {
        let accounts = AccountResolver::trusting(&default.settings.account_id);
        let data_dir = default.engine.data_dir().to_path_buf();
        Self::new(default, accounts, data_dir)
    }

    pub fn default_scope(&self) -> &Scope {
        &self.default_scope
    }

    pub fn default_state(&self) -> SharedState {
        Arc::clone(&self.default)
    }

    /// The state of the scope `(account, region)`; see [`Self::get`].
    pub fn state_of(&self, account: &str, region: &str) -> SharedState {
        if self.default_scope.account == account && self.default_scope.region == region {
            return self.default_state();
        }
        self.get(&Scope::new(account, region))
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, BTreeMap<Scope, SharedState>> {
        self.by_scope
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The state of `scope`, created on first use like the default one.
    pub fn get(&self, scope: &Scope) -> SharedState {
        if *scope == self.default_scope {
            return self.default_state();
        }
        let mut registry = self.registry();
        if let Some(state) = registry.get(scope) {
            return Arc::clone(state);
        }
        let template = Arc::clone(&registry[&self.default_scope]);
        let state = Arc::new(self.derive(&template, scope));
        tracing::info!(account = %scope.account, region = %scope.region, "new account/region scope");
        registry.insert(scope.clone(), Arc::clone(&state));
        state
    }

    fn derive(&self, template: &AppState, scope: &Scope) -> AppState {
        let (limit, window, snapshot_quota) = {
            let model = template.model();
            (
                model.quota.limit(),
                model.quota.window(),
                model.snapshot_quota,
            )
        };
        let mut model = Model::new(limit, window);
        model.snapshot_quota = snapshot_quota;
        let mut settings = template.settings.clone();
        settings.account_id = scope.account.clone();
        settings.region = scope.region.clone();
        let engine = template
            .engine
            .with_data_dir(self.data_dir.join(scope.dir_name()));
        AppState::new(model, engine, settings, Arc::clone(&template.clock))
    }

    /// Every scope so far, in (account, region) order.
    pub fn all(&self) -> Vec<(Scope, SharedState)> {
        self.registry()
            .iter()
            .map(|(scope, state)| (scope.clone(), Arc::clone(state)))
            .collect()
    }

    /// Stops every node of every scope.
    pub async fn shutdown(&self) {
        for (_, state) in self.all() {
            state.engine.shutdown().await;
        }
    }
}
