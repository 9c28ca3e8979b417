//! AUTH tokens on running nodes, the same in both cluster modes.

use super::EngineError;
use super::client::NodeClient;

/// How ModifyReplicationGroup changes the AUTH token (`AuthTokenUpdateStrategy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthUpdate {
    /// Only the new token is accepted.
    Set(String),
    /// The new token and the current one are both accepted.
    Rotate(String),
    /// No token is required.
    Delete,
}

impl AuthUpdate {
    /// The tokens nodes accept after this update, the one they authenticate with first.
    pub fn passwords(&self, current: &[String]) -> Vec<String> {
        match self {
            Self::Set(token) => vec![token.clone()],
            Self::Rotate(token) => {
                let mut both = vec![token.clone()];
                both.extend(current.first().cloned());
                both
            }
            Self::Delete => vec![],
        }
    }
}

/// Makes every node accept exactly `passwords` (`ACL SETUSER default`). Replicas authenticate
/// to their primary as the engine's user, so the token is not their `masterauth`.
pub async fn push_passwords(
    clients: Vec<NodeClient>,
    passwords: &[String],
) -> Result<(), EngineError> {
    let mut acl = vec![
        "ACL".to_string(),
        "SETUSER".into(),
        "default".into(),
        "resetpass".into(),
    ];
    if passwords.is_empty() {
        acl.push("nopass".into());
    }
    acl.extend(passwords.iter().map(|p| format!(">{p}")));
    let acl: Vec<&str> = acl.iter().map(String::as_str).collect();
    for client in clients {
        client.command(&acl).await?;
    }
    Ok(())
}
