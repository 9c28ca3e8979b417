//! Every event the server writes: its source and its message, in one table.

/// Every event the server writes. Wording follows AWS's current documentation ("primary"); AWS
/// has also been seen writing "master" and "Failover to replica node X completed".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EventKind {
    CacheClusterCreated {
        cluster_id: String,
    },
    CacheClusterDeleted {
        cluster_id: String,
    },
    ReplicationGroupCreateFailed {
        group_id: String,
        reason: String,
    },
    ReplicationGroupDeleted {
        group_id: String,
    },
    TestFailoverCalled {
        group_id: String,
        node_group_id: String,
    },
    FailoverCompletedOnCluster {
        old_primary: String,
        new_primary: String,
    },
    FailoverCompletedOnGroup {
        group_id: String,
        old_primary: String,
        new_primary: String,
    },
    RecoveringCacheNodes {
        cluster_id: String,
        node_id: String,
    },
    FinishedRecovery {
        cluster_id: String,
        node_id: String,
    },
    FailoverFailed {
        group_id: String,
        reason: String,
    },
    RecoveryFailed {
        cluster_id: String,
        node_id: String,
        reason: String,
    },
    AutomaticFailoverChanged {
        group_id: String,
        enabled: bool,
    },
    MultiAzChanged {
        group_id: String,
        enabled: bool,
    },
    PrimaryChanged {
        group_id: String,
        old_primary: String,
        new_primary: String,
    },
    AuthTokenChanged {
        group_id: String,
        strategy: &'static str,
    },
    ModifyFailed {
        group_id: String,
        reason: String,
    },
    /// A step of the in-transit encryption migration done: the new mode, `None` for off.
    TransitEncryptionChanged {
        group_id: String,
        mode: Option<&'static str>,
    },
    /// Every node was replaced by one of the new engine version (ModifyReplicationGroup).
    /// A deferred `CacheNodeType` applied in the maintenance window.
    NodeTypeModified {
        group_id: String,
        node_type: String,
    },
    EngineUpgraded {
        group_id: String,
        engine: String,
        version: String,
    },
    ReplicaCountChange {
        group_id: String,
        increase: bool,
        completed: bool,
        at: String,
    },
    /// ModifyReplicationGroupShardConfiguration: AWS's wording for these is not documented
    /// (see README, "Online resharding").
    Resharding {
        group_id: String,
        from: usize,
        to: usize,
        completed: bool,
    },
    NodeFailed {
        cluster_id: String,
        node_id: String,
        reason: String,
    },
    CacheClusterCreateFailed {
        cluster_id: String,
        reason: String,
    },
    /// A reboot: the node went down...
    CacheNodeShutdown {
        cluster_id: String,
        node_id: String,
    },
    /// ...and came back (empty).
    CacheNodeRestarted {
        cluster_id: String,
        node_id: String,
    },
    /// A Memcached cluster grew.
    CacheNodeAdded {
        cluster_id: String,
        node_id: String,
        zone: String,
    },
    CacheNodeRemoved {
        cluster_id: String,
        node_id: String,
    },
    CacheClusterModifyFailed {
        cluster_id: String,
        reason: String,
    },
    /// A snapshot finished (or failed); its source is the replication group or cache cluster
    /// it was taken of (`source_type` is `replication-group` or `cache-cluster`).
    SnapshotFinished {
        source_type: &'static str,
        source_id: String,
        snapshot: String,
        failure: Option<String>,
    },
}

impl EventKind {
    /// `(SourceType, SourceIdentifier)`.
    pub fn source(&self) -> (&'static str, &str) {
        match self {
            Self::CacheClusterCreated { cluster_id }
            | Self::CacheClusterDeleted { cluster_id }
            | Self::RecoveringCacheNodes { cluster_id, .. }
            | Self::FinishedRecovery { cluster_id, .. }
            | Self::RecoveryFailed { cluster_id, .. } => ("cache-cluster", cluster_id),
            Self::FailoverCompletedOnCluster { old_primary, .. } => ("cache-cluster", old_primary),
            Self::ReplicationGroupCreateFailed { group_id, .. }
            | Self::ReplicationGroupDeleted { group_id }
            | Self::TestFailoverCalled { group_id, .. }
            | Self::FailoverCompletedOnGroup { group_id, .. }
            | Self::FailoverFailed { group_id, .. }
            | Self::AutomaticFailoverChanged { group_id, .. }
            | Self::MultiAzChanged { group_id, .. }
            | Self::PrimaryChanged { group_id, .. }
            | Self::AuthTokenChanged { group_id, .. }
            | Self::ModifyFailed { group_id, .. }
            | Self::TransitEncryptionChanged { group_id, .. }
            | Self::EngineUpgraded { group_id, .. }
            | Self::NodeTypeModified { group_id, .. }
            | Self::ReplicaCountChange { group_id, .. }
            | Self::Resharding { group_id, .. } => ("replication-group", group_id),
            Self::NodeFailed { cluster_id, .. }
            | Self::CacheClusterCreateFailed { cluster_id, .. }
            | Self::CacheNodeShutdown { cluster_id, .. }
            | Self::CacheNodeRestarted { cluster_id, .. }
            | Self::CacheNodeAdded { cluster_id, .. }
            | Self::CacheNodeRemoved { cluster_id, .. }
            | Self::CacheClusterModifyFailed { cluster_id, .. } => ("cache-cluster", cluster_id),
            Self::SnapshotFinished {
                source_type,
                source_id,
                ..
            } => (source_type, source_id),
        }
    }

    /// The event's text. One exhaustive match on purpose: it is the one table of event kinds
    /// to AWS's wordings (a new kind cannot compile without its text, and every text is found
    /// in one place); the wordings that branch live in the helpers below.
    pub fn message(&self) -> String {
        match self {
            Self::CacheClusterCreated { .. } => "Cache cluster created".into(),
            Self::CacheClusterDeleted { .. } => "Cache cluster deleted".into(),
            Self::ReplicationGroupCreateFailed { reason, .. } => {
                format!("Failed to create replication group: {reason}")
            }
            Self::ReplicationGroupDeleted { .. } => "Replication group deleted".into(),
            Self::TestFailoverCalled { node_group_id, .. } => {
                format!("Test Failover API called for node group {node_group_id}")
            }
            Self::FailoverCompletedOnCluster {
                old_primary,
                new_primary,
            }
            | Self::FailoverCompletedOnGroup {
                old_primary,
                new_primary,
                ..
            } => format!(
                "Failover from primary node {old_primary} to replica node {new_primary} completed"
            ),
            Self::RecoveringCacheNodes { node_id, .. } => {
                format!("Recovering cache nodes {node_id}")
            }
            Self::FinishedRecovery { node_id, .. } => {
                format!("Finished recovery for cache nodes {node_id}")
            }
            Self::FailoverFailed { reason, .. } => format!("Failover failed: {reason}"),
            Self::RecoveryFailed {
                node_id, reason, ..
            } => {
                format!("Failed to recover cache nodes {node_id}: {reason}")
            }
            Self::AutomaticFailoverChanged { group_id, enabled } => {
                turned("Automatic failover", group_id, *enabled)
            }
            Self::MultiAzChanged { group_id, enabled } => turned("Multi-AZ", group_id, *enabled),
            Self::PrimaryChanged {
                group_id,
                old_primary,
                new_primary,
            } => format!(
                "Primary cache cluster of replication group {group_id} changed from {old_primary} to {new_primary}"
            ),
            Self::AuthTokenChanged { group_id, strategy } => {
                format!(
                    "AUTH token updated with strategy {strategy} for replication group {group_id}"
                )
            }
            Self::ModifyFailed { group_id, reason } => {
                format!("Failed to modify replication group {group_id}: {reason}")
            }
            Self::TransitEncryptionChanged { group_id, mode } => {
                transit_encryption(group_id, *mode)
            }
            Self::NodeTypeModified {
                group_id,
                node_type,
            } => format!("Cache node type modified to {node_type} on replication group {group_id}"),
            Self::EngineUpgraded {
                group_id,
                engine,
                version,
            } => format!(
                "Cache engine upgraded to {engine} {version} on replication group {group_id}"
            ),
            Self::ReplicaCountChange {
                group_id,
                increase,
                completed,
                at,
            } => replica_count_change(group_id, *increase, *completed, at),
            Self::Resharding {
                group_id,
                from,
                to,
                completed,
            } => resharding(group_id, *from, *to, *completed),
            Self::NodeFailed {
                node_id, reason, ..
            } => format!("Cache node {node_id} failed: {reason}"),
            Self::CacheClusterCreateFailed { reason, .. } => {
                format!("Failed to create cache cluster: {reason}")
            }
            Self::CacheNodeShutdown { node_id, .. } => format!("Cache node {node_id} shutdown"),
            Self::CacheNodeRestarted { node_id, .. } => format!("Cache node {node_id} restarted"),
            Self::CacheNodeAdded { node_id, zone, .. } => {
                format!("Added cache node {node_id} in availability zone {zone}")
            }
            Self::CacheNodeRemoved { node_id, .. } => format!("Removed cache node {node_id}"),
            Self::CacheClusterModifyFailed { reason, .. } => {
                format!("Failed to modify cache cluster: {reason}")
            }
            Self::SnapshotFinished {
                source_type,
                source_id,
                snapshot,
                failure,
            } => snapshot_finished(source_type, source_id, snapshot, failure.as_deref()),
        }
    }
}

/// "Multi-AZ has been turned on for replication group g1", AWS's wording for both switches.
fn turned(what: &str, group_id: &str, enabled: bool) -> String {
    let state = if enabled { "on" } else { "off" };
    format!("{what} has been turned {state} for replication group {group_id}")
}

/// In-transit encryption's migration step: the new mode, or `None` for off.
fn transit_encryption(group_id: &str, mode: Option<&str>) -> String {
    match mode {
        Some(mode) => {
            format!("In-transit encryption mode changed to {mode} for replication group {group_id}")
        }
        None => format!("In-transit encryption disabled for replication group {group_id}"),
    }
}

/// "Increase replica count started for replication group g1 on <time>" and its variants.
fn replica_count_change(group_id: &str, increase: bool, completed: bool, at: &str) -> String {
    format!(
        "{} replica count {} for replication group {group_id} on {at}",
        if increase { "Increase" } else { "Decrease" },
        if completed { "completed" } else { "started" }
    )
}

/// Our own wording (AWS's is not documented): a start names both counts, the end the new one.
fn resharding(group_id: &str, from: usize, to: usize, completed: bool) -> String {
    if completed {
        format!("Online resharding completed for replication group {group_id}: {to} node groups")
    } else {
        format!(
            "Online resharding started for replication group {group_id}: from {from} to {to} node groups"
        )
    }
}

/// A snapshot's end, named after its source kind (`replication-group` or `cache-cluster`).
fn snapshot_finished(
    source_type: &str,
    source_id: &str,
    snapshot: &str,
    failure: Option<&str>,
) -> String {
    let of = match source_type {
        "replication-group" => "replication group",
        _ => "cache cluster",
    };
    match failure {
        None => format!(
            "Snapshot succeeded for snapshot with ID '{snapshot}' of {of} with ID '{source_id}'"
        ),
        Some(reason) => format!(
            "Snapshot failed for snapshot with ID '{snapshot}' of {of} with ID '{source_id}': {reason}"
        ),
    }
}
