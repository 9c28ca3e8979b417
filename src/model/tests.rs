use chrono::{DateTime, Duration, Utc};

use super::Model;
use super::arn::{Arn, ResourceKind};
use super::group::{GroupSettings, GroupStatus, Member, NodeGroupLayout, ReplicationGroup, Role};
use super::ids::ReplicationGroupId;
use super::scope::Scope;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
}

pub(crate) fn group(id: &str, nodes: usize, automatic_failover: bool) -> ReplicationGroup {
    let id = ReplicationGroupId::parse(id).unwrap();
    let members = (0..nodes)
        .map(|i| Member {
            cluster_id: id.member_id(i),
            node_group: "0001".into(),
            role: if i == 0 { Role::Primary } else { Role::Replica },
            availability_zone: "us-east-1a".into(),
            address: Some(std::net::SocketAddrV4::new(
                std::net::Ipv4Addr::new(127, 9, 0, 1 + i as u8),
                6379,
            )),
            created_at: at(0),
            rebooting: false,
            pending_reboot: false,
        })
        .collect();
    ReplicationGroup {
        arn: Arn::new(
            ResourceKind::ReplicationGroup,
            &Scope::new("123456789012", "us-east-1"),
            id.as_str(),
        ),
        id,
        status: GroupStatus::Available,
        settings: GroupSettings {
            automatic_failover,
            ..GroupSettings::default()
        },
        members,
        cluster_enabled: false,
        node_groups: vec![NodeGroupLayout::single()],
        endpoints: None,
        created_at: at(0),
        auth_token_last_modified: None,
        failover_in_flight: false,
        pending: None,
        deferred: None,
        revision: 0,
    }
}

pub(crate) fn model_with(groups: Vec<ReplicationGroup>) -> Model {
    let mut model = Model::new(15, Duration::hours(24));
    for g in groups {
        model.insert_group(g).unwrap();
    }
    model
}

#[test]
fn duplicate_ids_are_refused_whatever_their_case() {
    let mut model = model_with(vec![group("rg", 2, true)]);
    let err = model.insert_group(group("RG", 2, true)).unwrap_err();
    assert_eq!(err.code(), "ReplicationGroupAlreadyExists");
    assert!(model.group("Rg").is_ok(), "lookups are case-insensitive");
}

#[test]
fn every_change_gives_a_group_a_revision_never_used_before() {
    let mut model = model_with(vec![group("rg", 2, true), group("other", 1, false)]);
    let mut seen = vec![
        model.group("rg").unwrap().revision,
        model.group("other").unwrap().revision,
    ];
    model.group_mut("rg").unwrap().settings.description = "changed".into();
    seen.push(model.group("rg").unwrap().revision);
    model.begin_delete("rg").unwrap();
    model.finish_delete("rg", at(1));
    model.insert_group(group("rg", 2, true)).unwrap();
    seen.push(model.group("rg").unwrap().revision);
    let reset = model.reset();
    assert_eq!(reset.len(), 2);
    model.insert_group(group("rg", 2, true)).unwrap();
    seen.push(model.group("rg").unwrap().revision);
    let mut unique = seen.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "revisions repeat: {seen:?}");
    assert!(seen.iter().all(|&r| r > 0), "{seen:?}");
}

#[test]
fn test_failover_checks_in_aws_order() {
    let mut model = model_with(vec![
        group("rg", 2, true),
        group("single", 1, false),
        group("manual", 2, false),
    ]);
    let code = |m: &mut Model, id: &str, ng: &str| {
        m.begin_test_failover(id, ng, "a", at(1))
            .unwrap_err()
            .code()
    };
    assert_eq!(
        code(&mut model, "nope", "0001"),
        "ReplicationGroupNotFoundFault"
    );
    assert_eq!(code(&mut model, "rg", "0002"), "NodeGroupNotFoundFault");
    assert_eq!(
        code(&mut model, "manual", "0001"),
        "InvalidReplicationGroupState"
    );
    assert_eq!(
        code(&mut model, "single", "0001"),
        "InvalidReplicationGroupState"
    );
    model.group_mut("rg").unwrap().status = GroupStatus::Modifying;
    assert_eq!(
        code(&mut model, "rg", "0001"),
        "InvalidReplicationGroupState"
    );
    assert!(model.events.is_empty(), "rejected calls write no event");
}

#[test]
fn only_one_failover_is_in_flight_per_group() {
    let mut model = model_with(vec![group("rg", 3, true)]);
    let ticket = model.begin_test_failover("rg", "0001", "a", at(1)).unwrap();
    assert_eq!(ticket.old_primary, "rg-001");
    let second = model
        .begin_test_failover("rg", "0001", "a", at(2))
        .unwrap_err();
    assert_eq!(second.code(), "InvalidReplicationGroupState");
    model.complete_promotion(&ticket, "rg-002", at(3));
    assert_eq!(
        model.group("rg").unwrap().primary().unwrap().cluster_id,
        "rg-002"
    );
    model.end_failover(&ticket);
    assert!(model.begin_test_failover("rg", "0001", "a", at(4)).is_ok());
}

#[test]
fn the_quota_counts_only_accepted_calls_per_account() {
    let mut model = Model::new(2, Duration::seconds(100));
    for i in 0..3 {
        model
            .insert_group(group(&format!("rg{i}"), 2, true))
            .unwrap();
    }
    model.insert_group(group("off", 2, false)).unwrap();
    assert!(
        model
            .begin_test_failover("off", "0001", "a", at(0))
            .is_err(),
        "a rejected call"
    );
    assert!(model.begin_test_failover("rg0", "0001", "a", at(0)).is_ok());
    assert!(model.begin_test_failover("rg1", "0001", "a", at(1)).is_ok());
    let third = model
        .begin_test_failover("rg2", "0001", "a", at(2))
        .unwrap_err();
    assert_eq!(third.code(), "APICallRateForCustomerExceeded");
    assert!(
        model.begin_test_failover("rg2", "0001", "b", at(2)).is_ok(),
        "another account"
    );
}

#[test]
fn delete_is_refused_while_creating_or_failing_over() {
    let mut creating = group("c", 2, true);
    creating.status = GroupStatus::Creating;
    let mut model = model_with(vec![creating, group("rg", 2, true)]);
    assert_eq!(
        model.begin_delete("c").unwrap_err().code(),
        "InvalidReplicationGroupState"
    );
    model.begin_test_failover("rg", "0001", "a", at(0)).unwrap();
    assert_eq!(
        model.begin_delete("rg").unwrap_err().code(),
        "InvalidReplicationGroupState"
    );
    assert_eq!(
        model.begin_delete("none").unwrap_err().code(),
        "ReplicationGroupNotFoundFault"
    );
}

#[test]
fn automatic_recovery_and_test_failover_exclude_each_other() {
    let mut model = model_with(vec![group("rg", 3, true)]);
    let recovery = model
        .begin_automatic_recovery("rg", "rg-002")
        .expect("admitted");
    let refused = model
        .begin_test_failover("rg", "0001", "a", at(0))
        .unwrap_err();
    assert_eq!(refused.code(), "InvalidReplicationGroupState");
    model.end_failover(&recovery);
    let ticket = model.begin_test_failover("rg", "0001", "a", at(1)).unwrap();
    assert!(
        model.begin_automatic_recovery("rg", "rg-002").is_none(),
        "a TestFailover owns the group"
    );
    model.end_failover(&ticket);
    assert!(model.begin_automatic_recovery("rg", "rg-002").is_some());
}

#[test]
fn a_group_is_created_with_its_tags_or_not_at_all() {
    use super::tags::Tag;
    let mut model = model_with(vec![]);
    let too_many: Vec<Tag> = (0..51).map(|i| Tag::new(&format!("k{i}"), "v")).collect();
    let error = model
        .insert_group_with_tags(group("rg", 1, false), &too_many)
        .unwrap_err();
    assert_eq!(error.code(), "TagQuotaPerResourceExceeded");
    assert!(model.group("rg").is_err(), "no group without its tags");
    let reserved = [Tag::new("aws:cloudformation:stack-name", "s")];
    let error = model
        .insert_group_with_tags(group("rg", 1, false), &reserved)
        .unwrap_err();
    assert_eq!(error.code(), "InvalidParameterValue");
    let tags = [Tag::new("team", "cache")];
    model
        .insert_group_with_tags(group("rg", 1, false), &tags)
        .unwrap();
    let arn = model.group("rg").unwrap().arn.clone();
    assert_eq!(model.tags.list(&arn), tags);
    model.finish_delete("rg", at(1));
    assert!(
        model.tags.list(&arn).is_empty(),
        "a deleted group's tags go with it"
    );
}
