//! The one tag store of a scope, keyed by ARN, shared by every taggable kind. It holds AWS's
//! rules (at most 50 tags a resource, keys 1-128 and values 0-256 characters, no `aws:`
//! prefix) so that creating a resource with tags and the tag actions refuse alike.

use std::collections::BTreeMap;

use super::arn::Arn;
use crate::protocol::ApiError;

pub const MAX_TAGS_PER_RESOURCE: usize = 50;
pub const MAX_KEY_CHARS: usize = 128;
pub const MAX_VALUE_CHARS: usize = 256;
/// Reserved for AWS's own tags.
const RESERVED_PREFIX: &str = "aws:";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tag {
    pub key: String,
    /// AWS accepts a missing value and lists it as empty.
    pub value: String,
}

impl Tag {
    pub fn new(key: &str, value: &str) -> Self {
        Self {
            key: key.to_string(),
            value: value.to_string(),
        }
    }
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct TagStore {
    /// Each resource's tags by key (keys are case-sensitive), under its ARN's text.
    by_arn: BTreeMap<String, BTreeMap<String, String>>,
}

/// Checks one tag against AWS's key and value rules.
pub fn check_tag(tag: &Tag) -> Result<(), ApiError> {
    let invalid = |why: String| ApiError::InvalidParameterValue(why);
    let key_chars = tag.key.chars().count();
    if key_chars == 0 || key_chars > MAX_KEY_CHARS {
        return Err(invalid(format!(
            "Tag key must be from 1 to {MAX_KEY_CHARS} characters long (got {key_chars})."
        )));
    }
    if tag.key.to_ascii_lowercase().starts_with(RESERVED_PREFIX) {
        return Err(invalid(format!(
            "Tag key '{}' uses the reserved prefix '{RESERVED_PREFIX}'.",
            tag.key
        )));
    }
    let value_chars = tag.value.chars().count();
    if value_chars > MAX_VALUE_CHARS {
        return Err(invalid(format!(
            "Tag value must be at most {MAX_VALUE_CHARS} characters long (got {value_chars})."
        )));
    }
    Ok(())
}

impl TagStore {
    /// Adds or overwrites `tags` on `arn`, all or none: every tag is checked and the total is
    /// counted before anything changes.
    pub fn add(&mut self, arn: &Arn, tags: &[Tag]) -> Result<(), ApiError> {
        if !arn.kind.is_taggable() {
            return Err(ApiError::InvalidARN(format!(
                "Resources of type {} cannot be tagged: {arn}.",
                arn.kind.arn_type()
            )));
        }
        tags.iter().try_for_each(check_tag)?;
        let current = self.by_arn.get(&arn.to_string());
        let new_keys = tags
            .iter()
            .filter(|t| current.is_none_or(|c| !c.contains_key(&t.key)))
            .map(|t| t.key.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let total = current.map_or(0, BTreeMap::len) + new_keys;
        if total > MAX_TAGS_PER_RESOURCE {
            return Err(ApiError::TagQuotaPerResourceExceeded(format!(
                "The request cannot be processed because it would exceed the maximum of \
                 {MAX_TAGS_PER_RESOURCE} tags allowed for resource {arn} ({total} requested)."
            )));
        }
        let entry = self.by_arn.entry(arn.to_string()).or_default();
        for tag in tags {
            entry.insert(tag.key.clone(), tag.value.clone());
        }
        Ok(())
    }

    /// Removes `keys` from `arn`; all or none: a key the resource does not have is
    /// `TagNotFound` and nothing is removed.
    pub fn remove(&mut self, arn: &Arn, keys: &[String]) -> Result<(), ApiError> {
        let current = self.by_arn.get_mut(&arn.to_string());
        let missing = keys
            .iter()
            .find(|k| current.as_ref().is_none_or(|c| !c.contains_key(*k)));
        if let Some(key) = missing {
            return Err(ApiError::TagNotFound(format!(
                "The tag key {key} was not found on resource {arn}."
            )));
        }
        if let Some(current) = current {
            for key in keys {
                current.remove(key);
            }
        }
        Ok(())
    }

    /// `arn`'s tags in key order (none for a resource never tagged).
    pub fn list(&self, arn: &Arn) -> Vec<Tag> {
        self.by_arn
            .get(&arn.to_string())
            .map(|tags| tags.iter().map(|(k, v)| Tag::new(k, v)).collect())
            .unwrap_or_default()
    }

    /// Forgets a deleted resource's tags, so a new resource with the same id starts bare.
    pub fn forget(&mut self, arn: &Arn) {
        self.by_arn.remove(&arn.to_string());
    }

    pub fn clear(&mut self) {
        self.by_arn.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::arn::ResourceKind;
    use crate::model::scope::Scope;

    fn arn(kind: ResourceKind, id: &str) -> Arn {
        Arn::new(kind, &Scope::new("123456789012", "us-east-1"), id)
    }

    fn numbered(range: std::ops::Range<usize>) -> Vec<Tag> {
        range.map(|i| Tag::new(&format!("k{i}"), "v")).collect()
    }

    #[test]
    fn fifty_tags_fit_and_the_fifty_first_is_refused_whole() {
        let mut store = TagStore::default();
        let rg = arn(ResourceKind::ReplicationGroup, "rg");
        store.add(&rg, &numbered(0..40)).unwrap();
        // Overwriting existing keys does not count against the quota.
        store.add(&rg, &numbered(30..50)).unwrap();
        assert_eq!(store.list(&rg).len(), 50);
        let error = store.add(&rg, &numbered(49..51)).unwrap_err();
        assert_eq!(error.code(), "TagQuotaPerResourceExceeded");
        assert_eq!(
            store.list(&rg).len(),
            50,
            "nothing of a refused add is kept"
        );
        let one_request = store.add(&arn(ResourceKind::User, "u"), &numbered(0..51));
        assert_eq!(
            one_request.unwrap_err().code(),
            "TagQuotaPerResourceExceeded"
        );
    }

    #[test]
    fn keys_and_values_follow_aws_rules() {
        let mut store = TagStore::default();
        let rg = arn(ResourceKind::CacheCluster, "c");
        let long_key = "k".repeat(MAX_KEY_CHARS + 1);
        let long_value = "v".repeat(MAX_VALUE_CHARS + 1);
        for bad in [
            Tag::new("", "v"),
            Tag::new("aws:owner", "v"),
            Tag::new("AWS:owner", "v"),
            Tag::new(&long_key, "v"),
            Tag::new("k", &long_value),
        ] {
            let error = store.add(&rg, &[Tag::new("fine", "x"), bad.clone()]);
            assert_eq!(
                error.unwrap_err().code(),
                "InvalidParameterValue",
                "{bad:?}"
            );
        }
        assert!(store.list(&rg).is_empty(), "a refused add keeps nothing");
        let edge = [
            Tag::new(&"k".repeat(MAX_KEY_CHARS), &"v".repeat(MAX_VALUE_CHARS)),
            Tag::new("empty", ""),
            Tag::new("awsome", "prefix-like but not reserved"),
        ];
        store.add(&rg, &edge).unwrap();
        assert_eq!(store.list(&rg).len(), 3);
    }

    #[test]
    fn remove_is_all_or_nothing_and_tags_are_per_arn() {
        let mut store = TagStore::default();
        let a = arn(ResourceKind::Snapshot, "s");
        let b = arn(ResourceKind::ServerlessCache, "s");
        store
            .add(&a, &[Tag::new("k", "1"), Tag::new("j", "2")])
            .unwrap();
        assert!(
            store.list(&b).is_empty(),
            "another kind with the same id is another ARN"
        );
        let error = store
            .remove(&a, &["k".into(), "absent".into()])
            .unwrap_err();
        assert_eq!(error.code(), "TagNotFound");
        assert_eq!(store.list(&a).len(), 2);
        store.remove(&a, &["k".into()]).unwrap();
        assert_eq!(store.list(&a), vec![Tag::new("j", "2")]);
        store.forget(&a);
        assert!(store.list(&a).is_empty());
    }

    #[test]
    fn global_datastores_cannot_be_tagged() {
        let mut store = TagStore::default();
        let global = arn(ResourceKind::GlobalReplicationGroup, "ldgnf-g");
        let error = store.add(&global, &[Tag::new("k", "v")]).unwrap_err();
        assert_eq!(error.code(), "InvalidARN");
    }
}
