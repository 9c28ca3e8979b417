//! The settings a replication group and a cache cluster both keep of their create request (or
//! AWS's defaults), one struct for both: node type, maintenance and snapshot windows, the
//! notification topic, subnet and security groups, snapshot retention, minor version upgrades.

/// What every node-based resource stores beyond its own rules (see README for which of these
/// have a local effect: the snapshot window and retention do).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct StoredSettings {
    pub cache_node_type: String,
    pub preferred_maintenance_window: Option<String>,
    pub notification_topic_arn: Option<String>,
    /// `active` when a topic is given, as AWS reports it.
    pub notification_topic_status: Option<String>,
    /// Lower-cased; `default` unless the create named another.
    pub cache_subnet_group_name: String,
    pub security_group_ids: Vec<String>,
    pub snapshot_retention_limit: i64,
    pub snapshot_window: Option<String>,
    pub auto_minor_version_upgrade: bool,
}
