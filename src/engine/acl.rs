//! ACL users on running nodes (ElastiCache's users and user groups), the same in both cluster
//! modes. The engine's own user is never touched: it is defined in each node's private file.

use super::EngineError;
use super::client::NodeClient;

/// One ACL user as every node of a group must know it: its name and its rules in Redis's ACL
/// syntax (`on`, `>password` or `nopass`, `~keys`, `+commands`...), applied after `reset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclUser {
    pub name: String,
    pub rules: Vec<String>,
}

/// Makes the node know exactly `users` (besides `default` and the engine's own): each is reset
/// and given its rules; `removed` users are deleted, which disconnects their clients.
pub async fn apply(
    client: &NodeClient,
    users: &[AclUser],
    removed: &[String],
) -> Result<(), EngineError> {
    for user in users {
        let mut command = vec!["ACL", "SETUSER", user.name.as_str(), "reset"];
        command.extend(user.rules.iter().map(String::as_str));
        client.command(&command).await.map_err(|e| {
            // The rules may hold passwords: the error names the user only.
            EngineError::Replication(format!("ACL SETUSER {} refused: {}", user.name, e))
        })?;
    }
    for name in removed {
        client.command(&["ACL", "DELUSER", name]).await?;
    }
    Ok(())
}

/// The names in `old` that `new` no longer has (`default` is never deleted).
pub fn removed_names(old: &[AclUser], new: &[AclUser]) -> Vec<String> {
    old.iter()
        .filter(|o| o.name != "default" && !new.iter().any(|n| n.name == o.name))
        .map(|o| o.name.clone())
        .collect()
}

/// Makes every node `clients` reaches know exactly `users` (the users of `kept` not among them
/// are deleted), after keeping them in `kept` for nodes started later.
pub async fn apply_to(
    clients: Vec<NodeClient>,
    kept: &mut Vec<AclUser>,
    users: Vec<AclUser>,
) -> Result<(), EngineError> {
    let removed = removed_names(kept, &users);
    *kept = users;
    for client in clients {
        apply(&client, kept, &removed).await?;
    }
    Ok(())
}
