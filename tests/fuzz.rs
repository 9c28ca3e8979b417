//! Property tests over the query decoder and every action's parameter parsing, through the real
//! router in-process: whatever arrives, the answer is an AWS XML envelope with a 200 or 4xx
//! status, never a panic, a 5xx or a hang. Bounded (a few hundred cases) so CI stays short.
//! Node starts go to a stand-in redis-server that always fails, so no process is started.

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use elasticache_local::api::Action;
use elasticache_local::engine::Engine;
use elasticache_local::model::{Model, SystemClock};
use elasticache_local::protocol::QueryParams;
use elasticache_local::state::{AppState, FailoverTiming, Settings};
use proptest::prelude::*;
use support::{NS, form_encode};
use tower::ServiceExt;

/// Parameter names the actions read, plus list forms and junk.
const NAMES: &[&str] = &[
    "ReplicationGroupId",
    "ReplicationGroupDescription",
    "NumCacheClusters",
    "ReplicasPerNodeGroup",
    "AutomaticFailoverEnabled",
    "MultiAZEnabled",
    "PreferredCacheClusterAZs.AvailabilityZone.1",
    "PreferredCacheClusterAZs.AvailabilityZone.0",
    "Tags.Tag.1.Key",
    "Tags.Tag.1.Value",
    "Tags.Tag.x.Key",
    "NodeGroupConfiguration.NodeGroupConfiguration.1.ReplicaCount",
    "NumNodeGroups",
    "ClusterMode",
    "CacheParameterGroupName",
    "Engine",
    "EngineVersion",
    "CacheNodeType",
    "AuthToken",
    "Port",
    "SnapshotRetentionLimit",
    "PrimaryClusterId",
    "NodeGroupId",
    "MaxRecords",
    "Marker",
    "SourceType",
    "SourceIdentifier",
    "StartTime",
    "EndTime",
    "Duration",
    "ShowCacheNodeInfo",
    "CacheClusterId",
    "AuthTokenUpdateStrategy",
    "ApplyImmediately",
    "NewReplicaCount",
    "ReplicasToRemove.member.1",
    "ReplicaConfiguration.ConfigureShard.1.NodeGroupId",
    "ReplicaConfiguration.ConfigureShard.1.NewReplicaCount",
    "PreferredMaintenanceWindow",
    "NotificationTopicStatus",
    "SecurityGroupIds",
    "RetainPrimaryCluster",
    "NodeGroupCount",
    "NodeGroupsToRemove.NodeGroupToRemove.1",
    "NodeGroupsToRetain.NodeGroupToRetain.1",
    "ReshardingConfiguration.ReshardingConfiguration.1.NodeGroupId",
    "ReshardingConfiguration.ReshardingConfiguration.1.PreferredAvailabilityZones.AvailabilityZone.1",
    "Version",
    "",
    "Action.1",
    "%00",
];

const VALUES: &[&str] = &[
    "",
    "true",
    "false",
    "True",
    "0",
    "1",
    "-1",
    "3",
    "6",
    "7",
    "20",
    "100",
    "101",
    "0001",
    "00001",
    "abc",
    "rg",
    "rg-001",
    "RG--X",
    "a-",
    "99999999999999999999",
    "2024-01-02T03:04:05Z",
    "yesterday",
    "cache-cluster",
    "replication-group",
    "SET",
    "ROTATE",
    "DELETE",
    "sun:05:00-sun:06:00",
    "enabled",
    "valkey",
    "0123456789abcdefgh",
    "\u{0}",
    "é😀",
    "<x>&amp;\"'",
    "1-2-3",
];

fn state(dir: &std::path::Path) -> Arc<AppState> {
    let fake = dir.join("redis-server");
    std::fs::write(&fake, "#!/bin/sh\necho 'stand-in: never starts'\nexit 1\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let settings = Settings {
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        failover_timing: FailoverTiming::default(),
        health_check_interval: Duration::from_millis(250),
        verifier: None,
        snapshot_day: std::time::Duration::from_secs(86_400),
    };
    let model = Model::new(15, chrono::Duration::hours(24));
    let engine = Engine::new(fake, dir.to_path_buf());
    Arc::new(AppState::new(
        model,
        engine,
        settings,
        Arc::new(SystemClock),
    ))
}

fn action_name() -> impl Strategy<Value = String> {
    let known: Vec<String> = Action::ALL.iter().map(|a| a.name().to_string()).collect();
    prop_oneof![
        4 => proptest::sample::select(known),
        1 => Just("PurchaseReservedCacheNodesOffering".to_string()),
        1 => "[A-Za-z]{0,12}",
    ]
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    let name =
        prop_oneof![4 => proptest::sample::select(NAMES).prop_map(str::to_string), 1 => ".{0,12}"];
    let value =
        prop_oneof![4 => proptest::sample::select(VALUES).prop_map(str::to_string), 1 => ".{0,40}"];
    proptest::collection::vec((name, value), 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_decoder_never_panics_on_any_bytes(query in ".{0,80}", body in proptest::collection::vec(any::<u8>(), 0..200), key in ".{0,20}") {
        let params = QueryParams::decode(Some(&query), &body);
        let _ = params.bool(&key);
        let _ = params.int_in(&key, 0, 100);
        let _ = params.timestamp(&key);
        let _ = params.list(&key, "member");
        let _ = params.struct_list(&key, "Tag");
    }

    #[test]
    fn every_request_gets_an_aws_envelope_and_never_a_5xx(action in action_name(), pairs in params(), use_get in any::<bool>()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let app = elasticache_local::server::app(state(dir.path()));
        let mut all = vec![("Action".to_string(), action.clone()), ("Version".to_string(), "2015-02-02".to_string())];
        all.extend(pairs);
        let encoded = form_encode(&all);
        let request = if use_get {
            Request::get(format!("/?{encoded}")).body(Body::empty()).unwrap()
        } else {
            Request::post("/").header("content-type", "application/x-www-form-urlencoded").body(Body::from(encoded.clone())).unwrap()
        };
        let response = runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), app.oneshot(request)).await.expect("answered in time").unwrap()
        });
        let status = response.status().as_u16();
        prop_assert!(status == 200 || (400..500).contains(&status), "status {status} for {encoded}");
        prop_assert_eq!(response.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("text/xml"));
        let body = runtime.block_on(axum::body::to_bytes(response.into_body(), 1 << 20)).unwrap();
        let text = String::from_utf8(body.to_vec()).expect("UTF-8 XML");
        let ok_root = format!("<{action}Response {NS}>");
        prop_assert!(
            (status == 200 && text.starts_with(&ok_root)) || (status != 200 && text.starts_with(&format!("<ErrorResponse {NS}>"))),
            "{status} {text} for {encoded}"
        );
    }
}
