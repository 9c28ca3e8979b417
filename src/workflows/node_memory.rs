//! A node type (or a parameter group, whose reservation lowers it) applied to running nodes:
//! their `maxmemory` follows it (see `model::node_memory`), through the same `CONFIG SET`
//! path as parameter values, which also keeps it for nodes started later (replacements, added
//! replicas, reshard nodes).

use crate::model::modify::GroupChange;
use crate::model::node_memory::maxmemory_setting;
use crate::model::scope::Scope;
use crate::state::SharedState;

/// Adds to `change`'s node settings the `maxmemory` its node type or parameter group gives the
/// group's nodes, when it changes either (run on the part applied now, immediate or at the
/// maintenance window).
pub fn add_to_change(state: &SharedState, group_id: &str, change: &mut GroupChange) {
    if change.cache_node_type.is_none() && change.cache_parameter_group_name.is_none() {
        return;
    }
    if let Some(setting) = group_setting(state, group_id, change) {
        change
            .parameter_settings
            .retain(|(name, _)| name != "maxmemory");
        change.parameter_settings.push(setting);
    }
}

/// The `maxmemory` of the nodes of `group_id` once `change` is applied (its node type, its
/// parameter group and engine version where it changes them, the group's own otherwise); an
/// empty change gives the group's current one.
pub fn group_setting(
    state: &SharedState,
    group_id: &str,
    change: &GroupChange,
) -> Option<(String, String)> {
    let model = state.model();
    let group = model.group(group_id).ok()?;
    let settings = &group.settings;
    let node_type = (change.cache_node_type.as_ref()).unwrap_or(&settings.stored.cache_node_type);
    let (engine, version) = match &change.engine_upgrade {
        Some(upgrade) => (upgrade.engine.as_str(), upgrade.engine_version.as_str()),
        None => (settings.engine.as_str(), settings.engine_version.as_str()),
    };
    let scope = Scope::new(&group.arn.account, &group.arn.region);
    let name = (change.cache_parameter_group_name.as_ref())
        .or(settings.cache_parameter_group_name.as_ref());
    let parameter_group = name.and_then(|name| model.parameter_group(name, &scope).ok());
    maxmemory_setting(
        node_type,
        parameter_group.as_ref(),
        (engine, version),
        &scope,
    )
}

/// Sets a standalone Redis/Valkey cluster's node `maxmemory` from its node type and parameter
/// group as the model now records them; a refusal is logged.
pub async fn apply_to_cache_cluster(state: &SharedState, cluster_id: &str) {
    let setting = {
        let model = state.model();
        let Ok(cluster) = model.cache_cluster(cluster_id) else {
            return;
        };
        let settings = &cluster.settings;
        let scope = Scope::new(&cluster.arn.account, &cluster.arn.region);
        let name = settings.cache_parameter_group_name.as_ref();
        let parameter_group = name.and_then(|name| model.parameter_group(name, &scope).ok());
        maxmemory_setting(
            &settings.stored.cache_node_type,
            parameter_group.as_ref(),
            (cluster.engine.as_str(), &settings.engine_version),
            &scope,
        )
    };
    let Some(setting) = setting else {
        return; // Memcached
    };
    let Ok(handle) = state.engine.cache_cluster(cluster_id) else {
        return; // still being created: it starts with the model's node type
    };
    if let Err(error) = handle.lock().await.apply_config(&[setting]).await {
        tracing::error!(cluster = %cluster_id, %error, "the node refused its node type's maxmemory");
    }
}
