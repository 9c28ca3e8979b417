use chrono::{DateTime, Utc};

use crate::model::arn::{Arn, ResourceKind};
use crate::model::group::GroupStatus;
use crate::model::scope::Scope;
use crate::model::snapshot::{Snapshot, SnapshotOrigin, SnapshotSource, SnapshotStatus};
use crate::model::tests::{group, model_with};

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).unwrap()
}

fn snapshot(name: &str, group_id: &str) -> Snapshot {
    Snapshot {
        name: name.into(),
        arn: Arn::new(
            ResourceKind::Snapshot,
            &Scope::new("123456789012", "us-east-1"),
            name,
        ),
        status: SnapshotStatus::Creating,
        source: SnapshotSource::Manual,
        origin: SnapshotOrigin {
            replication_group_id: Some(group_id.into()),
            ..SnapshotOrigin::default()
        },
        node_snapshots: Vec::new(),
        created_at: now(),
        holds_group: true,
        revision: 0,
    }
}

#[test]
fn a_snapshot_holds_its_group_until_it_is_available_and_cannot_be_deleted_meanwhile() {
    let mut model = model_with(vec![group("rg", 2, false)]);
    model.insert_snapshot(snapshot("s1", "rg"), &[]).unwrap();
    assert_eq!(model.group("rg").unwrap().status, GroupStatus::Snapshotting);
    let busy = model
        .insert_snapshot(snapshot("s2", "rg"), &[])
        .unwrap_err();
    assert_eq!(busy.code(), "InvalidReplicationGroupState");
    assert_eq!(
        model.begin_delete("rg").unwrap_err().code(),
        "InvalidReplicationGroupState"
    );
    let creating = model.delete_snapshot("s1").unwrap_err();
    assert_eq!(creating.code(), "InvalidSnapshotState");
    model.finish_snapshot("s1", &[], true, now());
    assert_eq!(model.group("rg").unwrap().status, GroupStatus::Available);
    assert_eq!(
        model.snapshot("S1").unwrap().status,
        SnapshotStatus::Available
    );
    let again = model
        .insert_snapshot(snapshot("s1", "rg"), &[])
        .unwrap_err();
    assert_eq!(again.code(), "SnapshotAlreadyExistsFault");
    model.delete_snapshot("s1").unwrap();
    assert_eq!(
        model.snapshot("s1").unwrap_err().code(),
        "SnapshotNotFoundFault"
    );
}

#[test]
fn manual_snapshots_beyond_the_quota_are_refused_and_a_failure_releases_the_group() {
    let mut model = model_with(vec![group("rg", 1, false)]);
    model.snapshot_quota = 1;
    model.insert_snapshot(snapshot("s1", "rg"), &[]).unwrap();
    model.fail_snapshot("s1", "node gone".into(), true, now());
    assert_eq!(model.group("rg").unwrap().status, GroupStatus::Available);
    assert_eq!(model.snapshot("s1").unwrap().status, SnapshotStatus::Failed);
    let over = model
        .insert_snapshot(snapshot("s2", "rg"), &[])
        .unwrap_err();
    assert_eq!(over.code(), "SnapshotQuotaExceededFault");
    let automatic = Snapshot {
        source: SnapshotSource::Automated,
        ..snapshot("automatic.rg-2026-01-01-00-00", "rg")
    };
    model.insert_snapshot(automatic, &[]).unwrap();
}
