//! User groups (RBAC) and the rules that tie users, user groups and replication groups: a user
//! group holds users of distinct user names, one of them named `default`; a replication group
//! with a user group gives its nodes exactly that group's users. The model methods for both
//! kinds sit here, so every referential rule is in one file.

use super::Model;
use super::arn::{Arn, ResourceKind};
use super::group::ReplicationGroup;
use super::resource::{Lifecycle, Resource};
use super::tags::Tag;
use super::user::{DEFAULT_USER, MAX_USERS, User};
use crate::protocol::ApiError;

/// AWS's default quota of user groups per account and region.
pub const MAX_USER_GROUPS: usize = 100;

/// Like users, user groups are `active` here: a change reaches every node before its action
/// answers (the answer says `creating`, `modifying` or `deleting`, as AWS's does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UserGroupStatus {
    Active,
}

impl Lifecycle for UserGroupStatus {
    fn as_str(self) -> &'static str {
        "active"
    }
    fn allows(self, _next: Self) -> bool {
        true
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserGroup {
    pub id: String,
    pub engine: String,
    /// User ids, in the order added, without repeats.
    pub user_ids: Vec<String>,
    pub revision: u64,
}

impl Resource for UserGroup {
    const KIND: ResourceKind = ResourceKind::UserGroup;
    type Status = UserGroupStatus;

    fn id(&self) -> &str {
        &self.id
    }
    fn status(&self) -> UserGroupStatus {
        UserGroupStatus::Active
    }
    fn set_status(&mut self, _status: UserGroupStatus) {}
    fn set_revision(&mut self, revision: u64) {
        self.revision = revision;
    }
    fn not_found(raw_id: &str) -> ApiError {
        ApiError::UserGroupNotFound(format!("User group {raw_id} not found."))
    }
    fn already_exists(id: &str) -> ApiError {
        ApiError::UserGroupAlreadyExists(format!("User group {id} already exists."))
    }
    fn invalid_state(&self, _wanted: UserGroupStatus) -> ApiError {
        ApiError::InvalidUserGroupState(format!("User group {} is not active.", self.id))
    }
}

impl Model {
    pub fn user(&self, raw_id: &str) -> Result<&User, ApiError> {
        self.users.get(raw_id)
    }

    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.iter()
    }

    pub fn user_group(&self, raw_id: &str) -> Result<&UserGroup, ApiError> {
        self.user_groups.get(raw_id)
    }

    pub fn user_groups(&self) -> impl Iterator<Item = &UserGroup> {
        self.user_groups.iter()
    }

    /// The user groups `user_id` belongs to.
    pub fn groups_of_user(&self, user_id: &str) -> Vec<String> {
        self.user_groups
            .iter()
            .filter(|g| g.user_ids.iter().any(|u| u == user_id))
            .map(|g| g.id.clone())
            .collect()
    }

    /// The replication groups that use user group `id`.
    pub fn groups_using_user_group<'a>(
        &'a self,
        id: &'a str,
    ) -> impl Iterator<Item = &'a ReplicationGroup> + 'a {
        self.groups
            .iter()
            .filter(move |g| g.settings.user_group_ids.iter().any(|u| u == id))
    }

    /// The replication groups whose nodes know `user_id` (through any of its user groups).
    pub fn groups_using_user(&self, user_id: &str) -> Vec<String> {
        let user_groups = self.groups_of_user(user_id);
        self.groups
            .iter()
            .filter(|g| {
                g.settings
                    .user_group_ids
                    .iter()
                    .any(|u| user_groups.contains(u))
            })
            .map(|g| g.id.to_string())
            .collect()
    }

    pub fn insert_user(&mut self, user: User, arn: &Arn, tags: &[Tag]) -> Result<(), ApiError> {
        if self.users.get(&user.id).is_ok() {
            return Err(User::already_exists(&user.id));
        }
        if self.users.len() >= MAX_USERS {
            return Err(ApiError::UserQuotaExceeded(format!(
                "The request would exceed the allowed number of users ({MAX_USERS})."
            )));
        }
        self.tags.add(arn, tags)?;
        self.users.insert(user)
    }

    /// Replaces a user's definition; the built-in `default` user cannot be changed.
    pub fn replace_user(&mut self, user: User) -> Result<User, ApiError> {
        let current = self.users.get_mut(&user.id)?;
        if current.is_built_in() {
            return Err(built_in_refusal("modified"));
        }
        *current = User {
            revision: current.revision,
            ..user
        };
        Ok(current.clone())
    }

    /// Deletes a user and takes it out of every user group. The built-in user cannot be
    /// deleted, nor a user named `default` while a user group needs it.
    pub fn delete_user(&mut self, raw_id: &str, arn: &Arn) -> Result<User, ApiError> {
        let user = self.user(raw_id)?.clone();
        if user.is_built_in() {
            return Err(built_in_refusal("deleted"));
        }
        let groups = self.groups_of_user(&user.id);
        if user.name == DEFAULT_USER && !groups.is_empty() {
            return Err(ApiError::DefaultUserAssociatedToUserGroup(format!(
                "User {} is the default user of user group {}: add another user named default to it first.",
                user.id, groups[0]
            )));
        }
        for id in groups {
            if let Ok(group) = self.user_groups.get_mut(&id) {
                group.user_ids.retain(|u| *u != user.id);
            }
        }
        self.users.remove(&user.id);
        self.tags.forget(arn);
        Ok(user)
    }

    /// Checks a user group's members: every user exists, user names are distinct, and one is
    /// named `default`.
    pub fn check_user_group_members(&self, user_ids: &[String]) -> Result<(), ApiError> {
        let mut names: Vec<&str> = Vec::new();
        for id in user_ids {
            let user = self.user(id)?;
            if names.contains(&user.name.as_str()) {
                return Err(ApiError::DuplicateUserName(format!(
                    "A user group cannot hold two users named {}.",
                    user.name
                )));
            }
            names.push(&user.name);
        }
        if !names.contains(&DEFAULT_USER) {
            return Err(ApiError::DefaultUserRequired(
                "A user group must contain a user with the user name default.".into(),
            ));
        }
        Ok(())
    }

    pub fn insert_user_group(
        &mut self,
        group: UserGroup,
        arn: &Arn,
        tags: &[Tag],
    ) -> Result<(), ApiError> {
        if self.user_groups.get(&group.id).is_ok() {
            return Err(UserGroup::already_exists(&group.id));
        }
        if self.user_groups.len() >= MAX_USER_GROUPS {
            return Err(ApiError::UserGroupQuotaExceeded(format!(
                "The request would exceed the allowed number of user groups ({MAX_USER_GROUPS})."
            )));
        }
        self.check_user_group_members(&group.user_ids)?;
        self.tags.add(arn, tags)?;
        self.user_groups.insert(group)
    }

    /// Adds and removes users (all checked first: they exist, and the result still obeys the
    /// membership rules).
    pub fn modify_user_group(
        &mut self,
        raw_id: &str,
        add: &[String],
        remove: &[String],
    ) -> Result<UserGroup, ApiError> {
        let current = self.user_group(raw_id)?;
        for id in add.iter().chain(remove) {
            self.user(id)?;
        }
        if let Some(absent) = remove.iter().find(|id| !current.user_ids.contains(id)) {
            return Err(ApiError::InvalidParameterValue(format!(
                "User {absent} is not in user group {}.",
                current.id
            )));
        }
        let mut user_ids: Vec<String> = current
            .user_ids
            .iter()
            .filter(|id| !remove.contains(id))
            .cloned()
            .collect();
        for id in add {
            if !user_ids.contains(id) {
                user_ids.push(id.clone());
            }
        }
        self.check_user_group_members(&user_ids)?;
        let group = self.user_groups.get_mut(raw_id)?;
        group.user_ids = user_ids;
        Ok(group.clone())
    }

    /// The user groups whose users a replication group's nodes know (checked by the caller).
    pub fn set_user_groups(&mut self, group_id: &str, ids: Vec<String>) -> Result<(), ApiError> {
        self.group_mut(group_id)?.settings.user_group_ids = ids;
        Ok(())
    }

    pub fn set_user_group_engine(
        &mut self,
        raw_id: &str,
        engine: &str,
    ) -> Result<UserGroup, ApiError> {
        let group = self.user_groups.get_mut(raw_id)?;
        group.engine = engine.to_string();
        Ok(group.clone())
    }

    /// Deletes a user group no replication group uses.
    pub fn delete_user_group(&mut self, raw_id: &str, arn: &Arn) -> Result<UserGroup, ApiError> {
        let group = self.user_group(raw_id)?.clone();
        if let Some(user) = self.groups_using_user_group(&group.id).next() {
            return Err(ApiError::InvalidUserGroupState(format!(
                "User group {} is used by replication group {}.",
                group.id, user.id
            )));
        }
        self.user_groups.remove(&group.id);
        self.tags.forget(arn);
        Ok(group)
    }
}

fn built_in_refusal(what: &str) -> ApiError {
    ApiError::InvalidParameterValue(format!(
        "The built-in user default cannot be {what}; create another user with the user name default instead."
    ))
}
