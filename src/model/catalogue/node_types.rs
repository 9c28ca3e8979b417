//! The cache node types AWS lists ("Supported node types" in the ElastiCache user guide): each
//! family's sizes with the memory a node offers and what the family supports. `CacheNodeType`
//! on every create and modify is checked here, so a type AWS does not sell is refused at the edge.

use crate::protocol::ApiError;

/// One node type, e.g. `cache.r6gd.xlarge`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeType {
    pub name: &'static str,
    /// The memory a node of this type offers, in GiB (AWS's table).
    pub memory_gib: f64,
    pub family: Family,
}

/// What the family of a node type supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// T1 (previous generation): no automatic failover at all.
    T1,
    /// T2: automatic failover only with cluster mode enabled (AWS's AutoFailover notes).
    T2,
    /// T3, T4g: burstable, every feature but data tiering.
    Burstable,
    /// M and R families.
    Standard,
    /// R6gd: memory plus SSD; the only family with data tiering.
    DataTiering,
}

impl NodeType {
    pub fn supports_data_tiering(&self) -> bool {
        self.family == Family::DataTiering
    }

    /// Whether automatic failover (and so Multi-AZ) may be on, given the cluster mode.
    pub fn supports_automatic_failover(&self, cluster_mode: bool) -> bool {
        match self.family {
            Family::T1 => false,
            Family::T2 => cluster_mode,
            _ => true,
        }
    }

    /// The memory in bytes (`maxmemory` a node of this type would have).
    pub fn memory_bytes(&self) -> u64 {
        (self.memory_gib * 1024.0 * 1024.0 * 1024.0) as u64
    }
}

macro_rules! types {
    ($family:expr; $($name:literal = $gib:literal),+ $(,)?) => {
        [$(NodeType { name: $name, memory_gib: $gib, family: $family }),+]
    };
}

const T1: [NodeType; 1] = types!(Family::T1; "cache.t1.micro" = 0.555);
const T2: [NodeType; 3] = types!(Family::T2;
    "cache.t2.micro" = 0.555, "cache.t2.small" = 1.55, "cache.t2.medium" = 3.22);
const BURSTABLE: [NodeType; 6] = types!(Family::Burstable;
    "cache.t3.micro" = 0.5, "cache.t3.small" = 1.37, "cache.t3.medium" = 3.09,
    "cache.t4g.micro" = 0.5, "cache.t4g.small" = 1.37, "cache.t4g.medium" = 3.09);
const M: [NodeType; 25] = types!(Family::Standard;
    "cache.m4.large" = 6.42, "cache.m4.xlarge" = 14.28, "cache.m4.2xlarge" = 29.70,
    "cache.m4.4xlarge" = 60.78, "cache.m4.10xlarge" = 154.64,
    "cache.m5.large" = 6.38, "cache.m5.xlarge" = 12.93, "cache.m5.2xlarge" = 26.04,
    "cache.m5.4xlarge" = 52.26, "cache.m5.12xlarge" = 157.12, "cache.m5.24xlarge" = 314.32,
    "cache.m6g.large" = 6.38, "cache.m6g.xlarge" = 12.93, "cache.m6g.2xlarge" = 26.04,
    "cache.m6g.4xlarge" = 52.26, "cache.m6g.8xlarge" = 103.68, "cache.m6g.12xlarge" = 157.12,
    "cache.m6g.16xlarge" = 209.55,
    "cache.m7g.large" = 6.38, "cache.m7g.xlarge" = 12.93, "cache.m7g.2xlarge" = 26.04,
    "cache.m7g.4xlarge" = 52.26, "cache.m7g.8xlarge" = 103.68, "cache.m7g.12xlarge" = 157.12,
    "cache.m7g.16xlarge" = 209.55);
const R: [NodeType; 26] = types!(Family::Standard;
    "cache.r4.large" = 12.3, "cache.r4.xlarge" = 25.05, "cache.r4.2xlarge" = 50.47,
    "cache.r4.4xlarge" = 101.38, "cache.r4.8xlarge" = 203.26, "cache.r4.16xlarge" = 407.0,
    "cache.r5.large" = 13.07, "cache.r5.xlarge" = 26.32, "cache.r5.2xlarge" = 52.82,
    "cache.r5.4xlarge" = 105.81, "cache.r5.12xlarge" = 317.77, "cache.r5.24xlarge" = 635.61,
    "cache.r6g.large" = 13.07, "cache.r6g.xlarge" = 26.32, "cache.r6g.2xlarge" = 52.82,
    "cache.r6g.4xlarge" = 105.81, "cache.r6g.8xlarge" = 209.55, "cache.r6g.12xlarge" = 317.77,
    "cache.r6g.16xlarge" = 419.09,
    "cache.r7g.large" = 13.07, "cache.r7g.xlarge" = 26.32, "cache.r7g.2xlarge" = 52.82,
    "cache.r7g.4xlarge" = 105.81, "cache.r7g.8xlarge" = 209.55, "cache.r7g.12xlarge" = 317.77,
    "cache.r7g.16xlarge" = 419.09);
const R6GD: [NodeType; 6] = types!(Family::DataTiering;
    "cache.r6gd.xlarge" = 26.32, "cache.r6gd.2xlarge" = 52.82, "cache.r6gd.4xlarge" = 105.81,
    "cache.r6gd.8xlarge" = 209.55, "cache.r6gd.12xlarge" = 317.77,
    "cache.r6gd.16xlarge" = 419.09);

/// Every node type of the catalogue.
pub fn all() -> impl Iterator<Item = &'static NodeType> {
    const FAMILIES: [&[NodeType]; 6] = [&T1, &T2, &BURSTABLE, &M, &R, &R6GD];
    FAMILIES.into_iter().flatten()
}

pub fn find(name: &str) -> Option<&'static NodeType> {
    all().find(|t| t.name == name)
}

/// `CacheNodeType` as AWS checks it: a type of the list, or `InvalidParameterValue`.
pub fn parse(name: &str) -> Result<&'static NodeType, ApiError> {
    find(name)
        .ok_or_else(|| ApiError::InvalidParameterValue(format!("Invalid Cache Node Type: {name}")))
}

/// `DataTieringEnabled=true` needs a node type with data tiering (r6gd).
pub fn check_data_tiering(node_type: &NodeType) -> Result<(), ApiError> {
    if node_type.supports_data_tiering() {
        return Ok(());
    }
    Err(ApiError::InvalidParameterCombination(format!(
        "Data tiering is not supported for node type {}: DataTieringEnabled needs an r6gd node type.",
        node_type.name
    )))
}

/// Automatic failover (and Multi-AZ) is not supported on T1, and on T2 only in cluster mode.
pub fn check_automatic_failover(node_type: &NodeType, cluster_mode: bool) -> Result<(), ApiError> {
    if node_type.supports_automatic_failover(cluster_mode) {
        return Ok(());
    }
    let rule = match node_type.family {
        Family::T2 => " with cluster mode disabled",
        _ => "",
    };
    Err(ApiError::InvalidParameterCombination(format!(
        "Automatic failover is not supported for node type {}{rule}.",
        node_type.name
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_type_parses_and_unknown_ones_get_aws_error() {
        for name in [
            "cache.t4g.micro",
            "cache.m7g.16xlarge",
            "cache.r5.24xlarge",
            "cache.r6gd.xlarge",
        ] {
            assert_eq!(parse(name).unwrap().name, name);
        }
        for bad in [
            "cache.bogus.huge",
            "cache.r6gd.large",
            "t3.micro",
            "",
            "cache.T3.micro",
        ] {
            let error = parse(bad).unwrap_err();
            assert_eq!(error.code(), "InvalidParameterValue");
            assert_eq!(error.message(), format!("Invalid Cache Node Type: {bad}"));
        }
    }

    #[test]
    fn names_are_unique_and_memory_grows_with_size_within_a_family() {
        let names: std::collections::BTreeSet<_> = all().map(|t| t.name).collect();
        assert_eq!(names.len(), all().count());
        assert_eq!(
            find("cache.t4g.micro").unwrap().memory_bytes(),
            512 * 1024 * 1024
        );
        assert!(
            find("cache.r7g.large").unwrap().memory_gib
                > find("cache.m7g.large").unwrap().memory_gib
        );
    }

    #[test]
    fn data_tiering_is_r6gd_only() {
        assert!(check_data_tiering(find("cache.r6gd.2xlarge").unwrap()).is_ok());
        for other in ["cache.r6g.xlarge", "cache.t4g.micro", "cache.m5.large"] {
            let error = check_data_tiering(find(other).unwrap()).unwrap_err();
            assert_eq!(error.code(), "InvalidParameterCombination", "{other}");
        }
    }

    #[test]
    fn automatic_failover_is_refused_on_t1_and_on_t2_without_cluster_mode() {
        let t1 = find("cache.t1.micro").unwrap();
        let t2 = find("cache.t2.small").unwrap();
        let t3 = find("cache.t3.micro").unwrap();
        assert!(check_automatic_failover(t1, true).is_err());
        assert!(check_automatic_failover(t2, false).is_err());
        assert!(check_automatic_failover(t2, true).is_ok());
        assert!(check_automatic_failover(t3, false).is_ok());
    }
}
