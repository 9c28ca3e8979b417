//! What every resource kind shares: its id rules, its status lifecycle, and the table a
//! scope's model keeps its resources in. A kind's own model file implements [`Resource`] for
//! its struct and [`Lifecycle`] for its status; ARNs, tags and paging come from `arn`,
//! `tags` and `paging` and are never written again per kind.

use std::collections::BTreeMap;

use super::arn::ResourceKind;
use crate::protocol::ApiError;

/// How a kind's ids look. All ElastiCache ids are letters, digits and hyphens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRules {
    /// How error messages name the id (`replication group id`).
    pub noun: &'static str,
    pub max_len: usize,
    /// The first character must be a letter.
    pub letter_first: bool,
    /// No trailing hyphen and no two hyphens in a row.
    pub tidy_hyphens: bool,
    /// AWS stores it lower-case and matches it in any case.
    pub case_insensitive: bool,
}

impl ResourceKind {
    /// The documented id rules of each kind (the API reference's `Constraints:`).
    pub fn id_rules(self) -> IdRules {
        let rules = |noun, max_len, letter_first, tidy_hyphens, case_insensitive| IdRules {
            noun,
            max_len,
            letter_first,
            tidy_hyphens,
            case_insensitive,
        };
        match self {
            Self::ReplicationGroup => rules("replication group id", 40, true, true, true),
            Self::CacheCluster => rules("cache cluster id", 50, true, true, true),
            Self::SubnetGroup => rules("cache subnet group name", 255, false, false, true),
            Self::ParameterGroup => rules("cache parameter group name", 255, true, true, true),
            Self::User => rules("user id", 40, true, true, false),
            Self::UserGroup => rules("user group id", 40, true, true, false),
            Self::Snapshot => rules("snapshot name", 255, true, true, true),
            Self::ServerlessCache => rules("serverless cache name", 40, true, true, true),
            Self::ServerlessCacheSnapshot => {
                rules("serverless cache snapshot name", 255, true, true, false)
            }
            Self::GlobalReplicationGroup => {
                rules("global replication group id suffix", 40, true, true, true)
            }
        }
    }

    /// Validates a new id of this kind; returns it as stored.
    pub fn parse_id(self, raw: &str) -> Result<String, ApiError> {
        let rules = self.id_rules();
        let invalid = |why: String| {
            ApiError::InvalidParameterValue(format!("Invalid {} '{raw}': {why}.", rules.noun))
        };
        if raw.is_empty() || raw.len() > rules.max_len {
            return Err(invalid(format!(
                "it must contain from 1 to {} characters",
                rules.max_len
            )));
        }
        if rules.letter_first && !raw.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(invalid("the first character must be a letter".into()));
        }
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(invalid(
                "only letters, digits and hyphens are allowed".into(),
            ));
        }
        if rules.tidy_hyphens && (raw.ends_with('-') || raw.contains("--")) {
            return Err(invalid(
                "it cannot end with a hyphen or contain two consecutive hyphens".into(),
            ));
        }
        Ok(self.lookup_key(raw))
    }

    /// The key an id is stored and looked up under, without validating it: an id that could
    /// never have been created is simply not found, as on AWS.
    pub fn lookup_key(self, raw: &str) -> String {
        if self.id_rules().case_insensitive {
            raw.to_ascii_lowercase()
        } else {
            raw.to_string()
        }
    }
}

/// A kind's status: its wire name and which changes it allows. A move the table does not
/// allow is the kind's `Invalid...State` error.
pub trait Lifecycle: Copy + Eq + std::fmt::Debug {
    fn as_str(self) -> &'static str;
    fn allows(self, next: Self) -> bool;
}

/// One resource kind as a scope's model keeps it.
pub trait Resource {
    const KIND: ResourceKind;
    type Status: Lifecycle;

    /// The id as stored (see [`ResourceKind::parse_id`]).
    fn id(&self) -> &str;
    fn status(&self) -> Self::Status;
    fn set_status(&mut self, status: Self::Status);
    /// See [`ResourceTable::get_mut`].
    fn set_revision(&mut self, revision: u64);

    fn not_found(raw_id: &str) -> ApiError;
    fn already_exists(id: &str) -> ApiError;
    fn invalid_state(&self, wanted: Self::Status) -> ApiError;

    /// Moves to `next` when the lifecycle allows it.
    fn transition(&mut self, next: Self::Status) -> Result<(), ApiError> {
        if self.status().allows(next) {
            self.set_status(next);
            Ok(())
        } else {
            Err(self.invalid_state(next))
        }
    }
}

/// A scope's resources of one kind, in id order (the order every Describe pages in).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ResourceTable<R> {
    items: BTreeMap<String, R>,
    /// The last revision handed out; never reset, so an encoding cached for a deleted
    /// resource is never served for a new one with the same id.
    last_revision: u64,
}

impl<R> Default for ResourceTable<R> {
    fn default() -> Self {
        Self {
            items: BTreeMap::new(),
            last_revision: 0,
        }
    }
}

impl<R: Resource> ResourceTable<R> {
    pub fn get(&self, raw_id: &str) -> Result<&R, ApiError> {
        self.items
            .get(&R::KIND.lookup_key(raw_id))
            .ok_or_else(|| R::not_found(raw_id))
    }

    /// The only way to change a resource: it gets a new revision, so nothing cached from the
    /// old one is served again.
    pub fn get_mut(&mut self, raw_id: &str) -> Result<&mut R, ApiError> {
        let item = self
            .items
            .get_mut(&R::KIND.lookup_key(raw_id))
            .ok_or_else(|| R::not_found(raw_id))?;
        self.last_revision += 1;
        item.set_revision(self.last_revision);
        Ok(item)
    }

    pub fn insert(&mut self, mut item: R) -> Result<(), ApiError> {
        let key = R::KIND.lookup_key(item.id());
        if self.items.contains_key(&key) {
            return Err(R::already_exists(item.id()));
        }
        self.last_revision += 1;
        item.set_revision(self.last_revision);
        self.items.insert(key, item);
        Ok(())
    }

    pub fn remove(&mut self, raw_id: &str) -> Option<R> {
        self.items.remove(&R::KIND.lookup_key(raw_id))
    }

    /// In id order.
    pub fn iter(&self) -> impl Iterator<Item = &R> {
        self.items.values()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Empties the table (keeping the revision counter).
    pub fn take_all(&mut self) -> Vec<R> {
        std::mem::take(&mut self.items).into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::SOURCE_TYPES;

    #[test]
    fn ids_follow_each_kinds_rules() {
        let rg = ResourceKind::ReplicationGroup;
        assert_eq!(rg.parse_id("My-Group1").unwrap(), "my-group1");
        for bad in ["", "1abc", "a--b", "ab-", "a_b", "a b", &"a".repeat(41)] {
            assert_eq!(
                rg.parse_id(bad).unwrap_err().code(),
                "InvalidParameterValue",
                "{bad}"
            );
        }
        assert!(rg.parse_id(&"a".repeat(40)).is_ok());
        assert!(ResourceKind::CacheCluster.parse_id(&"a".repeat(50)).is_ok());
        assert!(ResourceKind::SubnetGroup.parse_id("1-subnets-").is_ok());
        assert_eq!(ResourceKind::User.parse_id("Alice").unwrap(), "Alice");
        assert_eq!(ResourceKind::User.lookup_key("Alice"), "Alice");
        assert_eq!(ResourceKind::ServerlessCache.lookup_key("Sc"), "sc");
    }

    #[test]
    fn every_kinds_event_source_type_is_one_describe_events_accepts() {
        for kind in ResourceKind::ALL {
            if let Some(source_type) = kind.event_source_type() {
                assert!(SOURCE_TYPES.contains(&source_type), "{kind:?}");
            }
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Status {
        Creating,
        Active,
        Deleting,
    }

    impl Lifecycle for Status {
        fn as_str(self) -> &'static str {
            match self {
                Self::Creating => "creating",
                Self::Active => "active",
                Self::Deleting => "deleting",
            }
        }
        fn allows(self, next: Self) -> bool {
            matches!(
                (self, next),
                (Self::Creating, Self::Active) | (Self::Active, Self::Deleting)
            )
        }
    }

    /// A kind written the way a new one is: only its own fields and errors.
    struct User {
        id: String,
        status: Status,
        revision: u64,
    }

    impl Resource for User {
        const KIND: ResourceKind = ResourceKind::User;
        type Status = Status;
        fn id(&self) -> &str {
            &self.id
        }
        fn status(&self) -> Status {
            self.status
        }
        fn set_status(&mut self, status: Status) {
            self.status = status;
        }
        fn set_revision(&mut self, revision: u64) {
            self.revision = revision;
        }
        fn not_found(raw_id: &str) -> ApiError {
            ApiError::InvalidParameterValue(format!("User {raw_id} not found."))
        }
        fn already_exists(id: &str) -> ApiError {
            ApiError::InvalidParameterValue(format!("User {id} already exists."))
        }
        fn invalid_state(&self, wanted: Status) -> ApiError {
            ApiError::InvalidParameterCombination(format!(
                "User {} is {}, not able to become {}.",
                self.id,
                self.status.as_str(),
                wanted.as_str()
            ))
        }
    }

    fn user(id: &str) -> User {
        User {
            id: id.into(),
            status: Status::Creating,
            revision: 0,
        }
    }

    #[test]
    fn a_table_refuses_duplicates_and_gives_fresh_revisions() {
        let mut users = ResourceTable::default();
        users.insert(user("alice")).unwrap();
        assert!(users.insert(user("alice")).is_err());
        users.insert(user("Alice")).unwrap();
        assert_eq!(users.len(), 2, "user ids are case-sensitive");
        let first = users.get("alice").unwrap().revision;
        let changed = users.get_mut("alice").unwrap().revision;
        assert!(changed > first);
        users.take_all();
        users.insert(user("alice")).unwrap();
        assert!(
            users.get("alice").unwrap().revision > changed,
            "revisions outlive a reset"
        );
        assert!(users.get("bob").is_err());
    }

    #[test]
    fn the_lifecycle_refuses_moves_it_does_not_list() {
        let mut alice = user("alice");
        assert!(alice.transition(Status::Deleting).is_err());
        assert_eq!(alice.status, Status::Creating);
        alice.transition(Status::Active).unwrap();
        alice.transition(Status::Deleting).unwrap();
        assert_eq!(alice.status.as_str(), "deleting");
    }
}
