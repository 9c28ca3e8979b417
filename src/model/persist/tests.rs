use chrono::Duration;

use super::super::Model;
use super::super::events::EventKind;
use super::super::tests::{group, model_with};

#[test]
fn a_document_brings_back_groups_tags_events_and_quota() {
    let mut model = model_with(vec![group("demo", 2, true)]);
    let now = chrono::Utc::now();
    model.record(
        EventKind::ReplicationGroupDeleted {
            group_id: "old".into(),
        },
        now,
    );
    model.quota.record("123456789012", now);
    let document = model.to_document();

    let mut loaded = Model::new(1, Duration::hours(24));
    loaded.load_document(&document).unwrap();
    assert_eq!(
        loaded.group("demo").unwrap().members,
        model.group("demo").unwrap().members
    );
    assert_eq!(loaded.events.len(), model.events.len());
    // The limit is this run's (1) and the call before the restart counts against it.
    assert!(!loaded.quota.has_room("123456789012", now));
    assert_eq!(loaded.to_document(), document);
}

#[test]
fn another_version_is_refused_and_nothing_is_loaded() {
    let model = model_with(vec![group("demo", 2, true)]);
    let mut document: serde_json::Value = serde_json::from_slice(&model.to_document()).unwrap();
    document["version"] = 999.into();
    let mut fresh = Model::new(15, Duration::hours(24));
    let error = fresh
        .load_document(&serde_json::to_vec(&document).unwrap())
        .unwrap_err();
    assert!(error.contains("version 999"), "{error}");
    assert!(fresh.group("demo").is_err());
}

#[test]
fn a_restart_brings_back_groups_of_either_cluster_mode_but_not_deleted_or_failed_ones() {
    use super::Comeback;
    use crate::model::group::GroupStatus;
    let mut sharded = group("sharded", 2, true);
    sharded.cluster_enabled = true;
    let mut going = group("going", 2, true);
    going.status = GroupStatus::Deleting;
    let mut failed = group("failed", 2, true);
    failed.status = GroupStatus::CreateFailed;
    let mut changing = group("changing", 2, true);
    changing.status = GroupStatus::Modifying;
    changing.failover_in_flight = true;
    let groups = vec![group("plain", 2, true), sharded, going, failed, changing];
    let mut model = model_with(groups);

    let comebacks = model.begin_restart(chrono::Utc::now());
    let restarted: Vec<String> = comebacks
        .iter()
        .filter_map(|c| match c {
            Comeback::Group(g) => Some(g.id.to_string()),
            Comeback::CacheCluster(_) => None,
        })
        .collect();
    assert_eq!(restarted, ["changing", "plain", "sharded"]);
    assert!(
        model.group("going").is_err(),
        "a group being deleted is gone"
    );
    assert_eq!(
        model.group("failed").unwrap().status,
        GroupStatus::CreateFailed
    );
    assert_eq!(
        model.group("sharded").unwrap().status,
        GroupStatus::Creating
    );
    let changing = model.group("changing").unwrap();
    assert_eq!(changing.status, GroupStatus::Creating);
    assert!(!changing.failover_in_flight && changing.pending.is_none());
}
