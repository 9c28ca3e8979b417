//! ElastiCache users (RBAC): an id, a user name (the name clients AUTH with), an engine, an
//! access string in Redis's ACL syntax and how the user authenticates. Every scope has the
//! built-in `default` user (full access, no password), which cannot be changed or deleted, as
//! on AWS. What a user means on a node is [`User::acl_rules`]; user groups are in `user_group`.

use super::arn::ResourceKind;
use super::resource::{Lifecycle, Resource};
use crate::protocol::ApiError;

/// The id and user name of the built-in user, and the user name every user group needs.
pub const DEFAULT_USER: &str = "default";
/// AWS's default quota of users per account and region.
pub const MAX_USERS: usize = 1000;

/// Users are `active` here: a change reaches every node before its action answers (the
/// answer says `modifying` or `deleting`, as AWS's does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UserStatus {
    Active,
}

impl Lifecycle for UserStatus {
    fn as_str(self) -> &'static str {
        "active"
    }
    fn allows(self, _next: Self) -> bool {
        true
    }
}

/// How a user authenticates (`AuthenticationMode`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UserAuth {
    /// One or two passwords, each 16-128 characters.
    Password(Vec<String>),
    NoPasswordRequired,
    /// `iam`: clients AUTH with a SigV4-presigned IAM auth token, which the group's endpoints
    /// verify and exchange for this password, random and never reported (the nodes cannot
    /// verify SigV4; see `engine::iam_front`).
    Iam {
        internal_password: String,
    },
}

impl UserAuth {
    /// `Authentication.Type` on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Password(_) => "password",
            Self::NoPasswordRequired => "no-password",
            Self::Iam { .. } => "iam",
        }
    }

    pub fn password_count(&self) -> usize {
        match self {
            Self::Password(passwords) => passwords.len(),
            Self::NoPasswordRequired | Self::Iam { .. } => 0,
        }
    }

    /// A new `iam` authentication, with its random internal password.
    pub fn new_iam() -> Self {
        let internal_password = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        Self::Iam { internal_password }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub id: String,
    pub name: String,
    /// `redis` or `valkey`.
    pub engine: String,
    /// As given (checked by [`parse_access_string`]).
    pub access_string: String,
    pub auth: UserAuth,
    pub revision: u64,
}

impl Resource for User {
    const KIND: ResourceKind = ResourceKind::User;
    type Status = UserStatus;

    fn id(&self) -> &str {
        &self.id
    }
    fn status(&self) -> UserStatus {
        UserStatus::Active
    }
    fn set_status(&mut self, _status: UserStatus) {}
    fn set_revision(&mut self, revision: u64) {
        self.revision = revision;
    }
    fn not_found(raw_id: &str) -> ApiError {
        ApiError::UserNotFound(format!("User {raw_id} not found."))
    }
    fn already_exists(id: &str) -> ApiError {
        ApiError::UserAlreadyExists(format!("User {id} already exists."))
    }
    fn invalid_state(&self, _wanted: UserStatus) -> ApiError {
        ApiError::InvalidUserState(format!("User {} is not active.", self.id))
    }
}

impl User {
    /// The built-in `default` user of every scope.
    pub fn built_in_default() -> Self {
        Self {
            id: DEFAULT_USER.into(),
            name: DEFAULT_USER.into(),
            engine: "redis".into(),
            access_string: "on ~* +@all".into(),
            auth: UserAuth::NoPasswordRequired,
            revision: 0,
        }
    }

    pub fn is_built_in(&self) -> bool {
        self.id == DEFAULT_USER
    }

    /// The user's rules after `ACL SETUSER <name> reset`: its passwords (or `nopass`), then its
    /// access string. Channels are open to every user, as on ElastiCache (`&*`).
    pub fn acl_rules(&self) -> Vec<String> {
        let mut rules: Vec<String> = match &self.auth {
            UserAuth::Password(passwords) => passwords.iter().map(|p| format!(">{p}")).collect(),
            UserAuth::NoPasswordRequired => vec!["nopass".into()],
            UserAuth::Iam { internal_password } => vec![format!(">{internal_password}")],
        };
        rules.push("allchannels".into());
        rules.extend(self.access_string.split_whitespace().map(str::to_string));
        rules
    }
}

/// Redis's ACL command categories (`ACL CAT`), the ones an access string may name.
const CATEGORIES: [&str; 21] = [
    "admin",
    "bitmap",
    "blocking",
    "connection",
    "dangerous",
    "fast",
    "geo",
    "hash",
    "hyperloglog",
    "keyspace",
    "list",
    "pubsub",
    "read",
    "scripting",
    "set",
    "slow",
    "sortedset",
    "stream",
    "string",
    "transaction",
    "write",
];

/// Checks an access string against Redis's ACL syntax as ElastiCache accepts it: `on`/`off`,
/// key patterns (`~`, `%R~`, `%W~`, `%RW~`, `allkeys`, `resetkeys`), channel patterns (`&`,
/// `allchannels`, `resetchannels`), commands and categories (`+get`, `-@all`, `+config|get`,
/// `allcommands`, `nocommands`). Password rules (`>`, `<`, `#`, `nopass`...) belong to
/// `Passwords` and are refused here.
pub fn parse_access_string(raw: &str) -> Result<String, ApiError> {
    let invalid = |token: &str, why: &str| {
        ApiError::InvalidParameterValue(format!("Invalid AccessString '{raw}': '{token}' {why}."))
    };
    if raw.trim().is_empty() {
        return Err(ApiError::InvalidParameterValue(
            "AccessString must not be empty.".into(),
        ));
    }
    for token in raw.split_whitespace() {
        let lower = token.to_ascii_lowercase();
        let keyword = [
            "on",
            "off",
            "allkeys",
            "resetkeys",
            "allchannels",
            "resetchannels",
            "allcommands",
            "nocommands",
        ];
        if keyword.contains(&lower.as_str()) {
            continue;
        }
        if ["nopass", "resetpass", "reset"].contains(&lower.as_str())
            || token.starts_with(['>', '<', '#', '!'])
        {
            return Err(invalid(
                token,
                "is a password rule: use Passwords or NoPasswordRequired",
            ));
        }
        let key_pattern = ["~", "%R~", "%W~", "%RW~"]
            .iter()
            .find_map(|prefix| lower.strip_prefix(&prefix.to_ascii_lowercase()));
        if let Some(pattern) = key_pattern.or_else(|| token.strip_prefix('&')) {
            if pattern.is_empty() {
                return Err(invalid(token, "has no pattern"));
            }
            continue;
        }
        let Some(command) = token.strip_prefix(['+', '-']) else {
            return Err(invalid(token, "is not an ACL rule"));
        };
        if let Some(category) = command.strip_prefix('@') {
            if category.eq_ignore_ascii_case("all") || CATEGORIES.contains(&category) {
                continue;
            }
            return Err(invalid(token, "names no command category"));
        }
        let well_formed = !command.is_empty()
            && command.split('|').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            });
        if !well_formed {
            return Err(invalid(token, "names no command"));
        }
    }
    Ok(raw.to_string())
}

/// `Passwords`: one or two, each 16-128 printable ASCII characters without spaces.
pub fn parse_passwords(raw: &[String]) -> Result<Vec<String>, ApiError> {
    if raw.is_empty() || raw.len() > 2 {
        return Err(ApiError::InvalidParameterValue(format!(
            "A user has one or two passwords ({} given).",
            raw.len()
        )));
    }
    for password in raw {
        let printable = password.chars().all(|c| c.is_ascii_graphic());
        if !(16..=128).contains(&password.len()) || !printable {
            return Err(ApiError::InvalidParameterValue(
                "Passwords must be 16 to 128 printable characters without spaces.".into(),
            ));
        }
    }
    Ok(raw.to_vec())
}

/// `Engine` of a user or user group: `redis` or `valkey`, any case, stored lower-case.
pub fn parse_engine(raw: &str) -> Result<String, ApiError> {
    let engine = raw.to_ascii_lowercase();
    match engine.as_str() {
        "redis" | "valkey" => Ok(engine),
        _ => Err(ApiError::InvalidParameterValue(format!(
            "Invalid Engine '{raw}': it must be redis or valkey."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_strings_follow_the_acl_syntax() {
        for good in [
            "on ~* +@all",
            "on ~app:* -@all +get",
            "off -@all",
            "on %R~cache:* &news +@read +client|setname allcommands -flushall",
        ] {
            assert_eq!(parse_access_string(good).as_deref(), Ok(good));
        }
        for bad in [
            "",
            "   ",
            "on >secret ~* +@all",
            "on nopass ~* +@all",
            "on ~* +@everything",
            "on ~* get",
            "on ~ +@all",
            "on ~* +",
            "on ~* +get|",
        ] {
            let error = parse_access_string(bad).unwrap_err();
            assert_eq!(error.code(), "InvalidParameterValue", "{bad:?}");
        }
    }

    #[test]
    fn passwords_are_one_or_two_of_16_to_128_characters() {
        let p = |s: &str| s.to_string();
        assert!(parse_passwords(&[p("0123456789abcdef")]).is_ok());
        assert!(parse_passwords(&[p("0123456789abcdef"), p(&"x".repeat(128))]).is_ok());
        for bad in [
            vec![],
            vec![p("short")],
            vec![p(&"x".repeat(129))],
            vec![p("0123456789 abcdef")],
            vec![p("0123456789abcdef"); 3],
        ] {
            assert_eq!(
                parse_passwords(&bad).unwrap_err().code(),
                "InvalidParameterValue"
            );
        }
    }

    #[test]
    fn a_user_becomes_acl_rules_after_reset() {
        let mut user = User::built_in_default();
        assert_eq!(
            user.acl_rules(),
            ["nopass", "allchannels", "on", "~*", "+@all"]
        );
        user.auth = UserAuth::Password(vec!["0123456789abcdef".into()]);
        user.access_string = "on ~app:* -@all +get".into();
        assert_eq!(
            user.acl_rules(),
            [
                ">0123456789abcdef",
                "allchannels",
                "on",
                "~app:*",
                "-@all",
                "+get"
            ]
        );
    }
}
