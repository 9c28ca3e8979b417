//! Identifiers parsed at the edge, so an invalid one cannot exist past it.

use std::fmt;

use super::arn::ResourceKind;
use crate::protocol::ApiError;

/// A replication group id: 1-40 letters, digits and hyphens, starting with a letter, with no
/// double or trailing hyphen. AWS stores it lower-case and matches it case-insensitively.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct ReplicationGroupId(String);

impl ReplicationGroupId {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        ResourceKind::ReplicationGroup.parse_id(raw).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The member cache cluster ids of a cluster-mode-disabled group: `<id>-001`...
    pub fn member_id(&self, index: usize) -> String {
        format!("{}-{:03}", self.0, index + 1)
    }
}

impl fmt::Display for ReplicationGroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A node group id as TestFailover takes it: `^\d{1,4}$`. Clients do not check the pattern,
/// so the server must.
pub fn parse_node_group_id(raw: &str) -> Result<String, ApiError> {
    if (1..=4).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_digit()) {
        Ok(raw.to_string())
    } else {
        Err(ApiError::InvalidParameterValue(format!(
            "Invalid value '{raw}' for NodeGroupId: it must be 1 to 4 digits."
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stored_lowercase() {
        assert_eq!(
            ReplicationGroupId::parse("My-Group1").unwrap().as_str(),
            "my-group1"
        );
    }

    #[test]
    fn invalid_ids_are_rejected_with_invalid_parameter_value() {
        let long = "a".repeat(41);
        for bad in ["", "1abc", "a--b", "ab-", "a_b", "a b", long.as_str()] {
            let err = ReplicationGroupId::parse(bad).unwrap_err();
            assert_eq!(err.code(), "InvalidParameterValue", "{bad}");
        }
        assert!(ReplicationGroupId::parse(&"a".repeat(40)).is_ok());
    }

    #[test]
    fn member_ids_are_three_digit() {
        let id = ReplicationGroupId::parse("rg").unwrap();
        assert_eq!(id.member_id(0), "rg-001");
        assert_eq!(id.member_id(5), "rg-006");
    }

    #[test]
    fn node_group_ids_follow_the_model_pattern() {
        assert_eq!(parse_node_group_id("0001").unwrap(), "0001");
        for bad in ["", "00001", "abc", "1a", " 1"] {
            assert_eq!(
                parse_node_group_id(bad).unwrap_err().code(),
                "InvalidParameterValue"
            );
        }
    }
}
