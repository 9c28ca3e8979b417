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
