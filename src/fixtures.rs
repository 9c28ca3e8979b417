//! Replication groups created at startup from a JSON file. Each entry holds the parameters of
//! CreateReplicationGroup by their API names, so fixtures go through exactly the validation an
//! API call does:
//!
//! ```json
//! { "ReplicationGroups": [ { "ReplicationGroupId": "demo", "ReplicationGroupDescription": "d",
//!   "NumCacheClusters": 3, "AutomaticFailoverEnabled": true,
//!   "Tags": [ { "Key": "team", "Value": "cache" } ] } ] }
//! ```

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::api::{Action, dispatch, wait_until_settled};
use crate::model::group::GroupStatus;
use crate::protocol::QueryParams;
use crate::state::{RequestContext, SharedState};

/// The query-protocol member name of each list parameter a fixture may hold.
const LIST_MEMBERS: [(&str, &str); 6] = [
    ("PreferredCacheClusterAZs", "AvailabilityZone"),
    ("Tags", "Tag"),
    ("SecurityGroupIds", "SecurityGroupId"),
    ("CacheSecurityGroupNames", "CacheSecurityGroupName"),
    ("NodeGroupConfiguration", "NodeGroupConfiguration"),
    ("UserGroupIds", "member"),
];

const SETTLE_DEADLINE: Duration = Duration::from_secs(30);

/// Creates every group in the file and waits until each is `available`.
pub async fn load(state: &SharedState, path: &Path) -> Result<usize, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read fixtures {}: {e}", path.display()))?;
    let document: Value = serde_json::from_str(&text)
        .map_err(|e| format!("fixtures {}: invalid JSON: {e}", path.display()))?;
    let Some(groups) = document.get("ReplicationGroups").and_then(Value::as_array) else {
        return Err(format!(
            "fixtures {}: expected an object with a \"ReplicationGroups\" array",
            path.display()
        ));
    };
    for (index, entry) in groups.iter().enumerate() {
        let context = |e: String| format!("fixtures {} entry {}: {e}", path.display(), index + 1);
        let params = to_params(entry).map_err(context)?;
        // Fixtures live in the default account and region.
        let ctx = RequestContext {
            request_id: format!("fixture-{}", index + 1),
            region: state.settings.region.clone(),
            account: state.settings.account_id.clone(),
        };
        let id = params.optional("ReplicationGroupId").unwrap_or_default();
        if state.model().group(id).is_ok() {
            tracing::info!(group = %id, "fixture group kept from the data dir");
            continue;
        }
        dispatch(Action::CreateReplicationGroup, state, &params, &ctx)
            .await
            .map_err(|e| context(e.to_string()))?;
        match wait_until_settled(state, id, SETTLE_DEADLINE).await {
            Some(GroupStatus::Available) => tracing::info!(group = %id, "fixture group available"),
            other => {
                return Err(context(format!(
                    "group {id} did not become available (status {other:?}); see the log above"
                )));
            }
        }
    }
    Ok(groups.len())
}

/// Flattens one JSON entry into query parameters: scalars as they are, lists as
/// `Name.Member.N`, structures in lists as `Name.Member.N.Field`.
fn to_params(entry: &Value) -> Result<QueryParams, String> {
    let Some(object) = entry.as_object() else {
        return Err("each replication group must be a JSON object".into());
    };
    let mut pairs = vec![("Action".to_string(), "CreateReplicationGroup".to_string())];
    for (name, value) in object {
        match value {
            Value::Array(items) => {
                let member = LIST_MEMBERS
                    .iter()
                    .find(|(list, _)| list == name)
                    .map(|(_, member)| *member)
                    .ok_or_else(|| format!("{name} is not a list parameter"))?;
                for (i, item) in items.iter().enumerate() {
                    let key = format!("{name}.{member}.{}", i + 1);
                    match item {
                        Value::Object(fields) => {
                            for (field, value) in fields {
                                pairs.push((format!("{key}.{field}"), scalar(field, value)?));
                            }
                        }
                        other => pairs.push((key, scalar(name, other)?)),
                    }
                }
            }
            other => pairs.push((name.clone(), scalar(name, other)?)),
        }
    }
    Ok(QueryParams::from_pairs(pairs))
}

fn scalar(name: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(format!("{name} must be a string, number or boolean")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_flatten_to_query_parameters() {
        let entry = serde_json::json!({
            "ReplicationGroupId": "demo", "NumCacheClusters": 3, "AutomaticFailoverEnabled": true,
            "PreferredCacheClusterAZs": ["us-east-1a", "us-east-1b"],
            "Tags": [{"Key": "k", "Value": "v"}]
        });
        let params = to_params(&entry).unwrap();
        assert_eq!(params.optional("NumCacheClusters"), Some("3"));
        assert_eq!(params.bool("AutomaticFailoverEnabled").unwrap(), Some(true));
        assert_eq!(
            params
                .list("PreferredCacheClusterAZs", "AvailabilityZone")
                .unwrap(),
            ["us-east-1a", "us-east-1b"]
        );
        assert_eq!(
            params.struct_list("Tags", "Tag").unwrap()[0].optional("Value"),
            Some("v")
        );
    }

    #[test]
    fn unknown_lists_and_nested_values_are_errors() {
        assert!(to_params(&serde_json::json!({"Foo": [1]})).is_err());
        assert!(to_params(&serde_json::json!({"ReplicationGroupId": {"a": 1}})).is_err());
        assert!(to_params(&serde_json::json!([1])).is_err());
    }
}
