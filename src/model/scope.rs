//! Where a resource lives: one account in one region. Each request's scope comes from its
//! access key (the account) and its SigV4 credential scope (the region); every resource,
//! event, quota and ARN belongs to exactly one scope.

use std::collections::HashMap;
use std::fmt;

/// An (account, region) pair. Both are validated where they are built ([`AccountResolver`],
/// [`Scope::is_valid_region`]), so a scope is safe to use in a directory name.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Scope {
    /// Twelve digits.
    pub account: String,
    pub region: String,
}

impl Scope {
    pub fn new(account: &str, region: &str) -> Self {
        Self {
            account: account.to_string(),
            region: region.to_string(),
        }
    }

    /// Region names as AWS spells them (`us-east-1`, `us-gov-west-1`, `eu-central-2`):
    /// lower-case letters, digits and hyphens, starting with a letter.
    pub fn is_valid_region(raw: &str) -> bool {
        (1..=32).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.ends_with('-')
    }

    /// A relative path naming this scope (`<account>/<region>`): where its nodes' data lives.
    pub fn dir_name(&self) -> String {
        format!("{}/{}", self.account, self.region)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account, self.region)
    }
}

/// True for a 12-digit account id.
pub fn is_account_id(raw: &str) -> bool {
    raw.len() == 12 && raw.bytes().all(|b| b.is_ascii_digit())
}

/// How an access key that is neither mapped nor 12 digits long gets its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownKeys {
    /// As LocalStack does: every such key (`test`, `AKIDEXAMPLE`) is the default account.
    #[default]
    DefaultAccount,
    /// Each key gets its own stable account, a hash of the key, so distinct keys never share.
    Hashed,
}

/// Access key id -> account id: an explicit map first, then a 12-digit key is its own
/// account (LocalStack's rule), then [`UnknownKeys`]; unsigned requests get the default.
#[derive(Debug, Clone)]
pub struct AccountResolver {
    default_account: String,
    mapped: HashMap<String, String>,
    unknown: UnknownKeys,
}

impl AccountResolver {
    /// Fails when the default or a mapped account is not 12 digits.
    pub fn new(
        default_account: &str,
        mapped: HashMap<String, String>,
        unknown: UnknownKeys,
    ) -> Result<Self, String> {
        if !is_account_id(default_account) {
            return Err(format!(
                "--account-id must be 12 digits, not {default_account:?}"
            ));
        }
        if let Some((key, account)) = mapped.iter().find(|(_, a)| !is_account_id(a)) {
            return Err(format!(
                "the account of access key {key} must be 12 digits, not {account:?}"
            ));
        }
        Ok(Self {
            default_account: default_account.to_string(),
            mapped,
            unknown,
        })
    }

    /// Every key in `default_account` (unchecked: for benches and in-process tests that
    /// build their own state).
    pub fn trusting(default_account: &str) -> Self {
        Self {
            default_account: default_account.to_string(),
            mapped: HashMap::new(),
            unknown: UnknownKeys::DefaultAccount,
        }
    }

    pub fn default_account(&self) -> &str {
        &self.default_account
    }

    /// The account of a request signed with `access_key` (`None`: unsigned).
    pub fn account(&self, access_key: Option<&str>) -> String {
        let Some(key) = access_key else {
            return self.default_account.clone();
        };
        if let Some(account) = self.mapped.get(key) {
            return account.clone();
        }
        if is_account_id(key) {
            return key.to_string();
        }
        match self.unknown {
            UnknownKeys::DefaultAccount => self.default_account.clone(),
            UnknownKeys::Hashed => hashed_account(key),
        }
    }
}

/// A stable 12-digit account for `key`: 64-bit FNV-1a, reduced to 12 digits. Stable across
/// runs and builds (unlike `std`'s hasher), so ARNs a test saw yesterday read the same today.
fn hashed_account(key: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:012}", hash % 1_000_000_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(unknown: UnknownKeys) -> AccountResolver {
        let mapped = HashMap::from([("ci-job-a".to_string(), "111111111111".to_string())]);
        AccountResolver::new("123456789012", mapped, unknown).unwrap()
    }

    #[test]
    fn the_map_wins_then_twelve_digit_keys_then_the_rule() {
        let accounts = resolver(UnknownKeys::DefaultAccount);
        assert_eq!(accounts.account(Some("ci-job-a")), "111111111111");
        assert_eq!(accounts.account(Some("000000000042")), "000000000042");
        assert_eq!(accounts.account(Some("AKIDEXAMPLE")), "123456789012");
        assert_eq!(accounts.account(Some("1234")), "123456789012");
        assert_eq!(accounts.account(None), "123456789012");
    }

    #[test]
    fn hashed_accounts_are_stable_distinct_and_twelve_digits() {
        let accounts = resolver(UnknownKeys::Hashed);
        let a = accounts.account(Some("AKIDONE"));
        let b = accounts.account(Some("AKIDTWO"));
        assert!(is_account_id(&a) && is_account_id(&b), "{a} {b}");
        assert_ne!(a, b);
        assert_eq!(a, accounts.account(Some("AKIDONE")));
        // FNV-1a of "test" is 0xf9e6e6ef197c2b25: pinned, so a change of derivation is seen.
        assert_eq!(
            accounts.account(Some("test")),
            format!("{:012}", 0xf9e6_e6ef_197c_2b25_u64 % 1_000_000_000_000)
        );
        assert_eq!(accounts.account(None), "123456789012");
    }

    #[test]
    fn accounts_that_are_not_twelve_digits_are_refused() {
        assert!(AccountResolver::new("1", HashMap::new(), UnknownKeys::Hashed).is_err());
        let bad = HashMap::from([("k".to_string(), "12345".to_string())]);
        assert!(AccountResolver::new("123456789012", bad, UnknownKeys::Hashed).is_err());
    }

    #[test]
    fn regions_are_checked() {
        for good in ["us-east-1", "eu-central-2", "us-gov-west-1", "local"] {
            assert!(Scope::is_valid_region(good), "{good}");
        }
        for bad in [
            "",
            "US-EAST-1",
            "1us",
            "us east",
            "us-east-1/..",
            "us-",
            &"a".repeat(33),
        ] {
            assert!(!Scope::is_valid_region(bad), "{bad}");
        }
    }
}
