//! `cargo bench --bench describe`: DescribeReplicationGroups with 50 groups through the router
//! in-process (model snapshot, shapes, XML), without sockets or redis-server processes: the
//! server's own cost per request, apart from HTTP and the load generator, with the groups'
//! encoded XML reused and with every group changed before each request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use elasticache_local::engine::Engine;
use elasticache_local::model::arn::{Arn, ResourceKind};
use elasticache_local::model::group::{
    Endpoints, GroupSettings, GroupStatus, Member, NodeGroupLayout, ReplicationGroup, Role,
};
use elasticache_local::model::ids::ReplicationGroupId;
use elasticache_local::model::scope::Scope;
use elasticache_local::model::{Model, SystemClock};
use elasticache_local::state::{AppState, FailoverTiming, Settings};
use tower::ServiceExt;

fn group(index: usize) -> ReplicationGroup {
    let id = ReplicationGroupId::parse(&format!("group{index}")).unwrap();
    let now = chrono::Utc::now();
    let members = vec![Member {
        cluster_id: id.member_id(0),
        node_group: "0001".into(),
        role: Role::Primary,
        availability_zone: "us-east-1a".into(),
        address: Some(std::net::SocketAddrV4::new(
            std::net::Ipv4Addr::new(127, 9, 0, 1),
            6379,
        )),
        created_at: now,
        rebooting: false,
        pending_reboot: false,
    }];
    ReplicationGroup {
        arn: Arn::new(
            ResourceKind::ReplicationGroup,
            &Scope::new("123456789012", "us-east-1"),
            id.as_str(),
        ),
        id,
        status: GroupStatus::Available,
        settings: GroupSettings {
            description: "bench".into(),
            stored: elasticache_local::model::stored_settings::StoredSettings {
                cache_node_type: "cache.t4g.micro".into(),
                ..Default::default()
            },
            engine: "redis".into(),
            engine_version: "7.0.15".into(),
            ..GroupSettings::default()
        },
        members,
        cluster_enabled: false,
        node_groups: vec![NodeGroupLayout::single()],
        endpoints: Some(Endpoints::NodeGroup {
            primary: std::net::SocketAddrV4::new(std::net::Ipv4Addr::new(127, 9, 0, 2), 6379),
            reader: std::net::SocketAddrV4::new(std::net::Ipv4Addr::new(127, 9, 0, 3), 6379),
        }),
        created_at: now,
        auth_token_last_modified: None,
        failover_in_flight: false,
        pending: None,
        deferred: None,
        revision: 0,
    }
}

fn main() {
    let settings = Settings {
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        failover_timing: FailoverTiming::default(),
        health_check_interval: Duration::from_millis(250),
        verifier: None,
        snapshot_day: std::time::Duration::from_secs(86_400),
    };
    let state = Arc::new(AppState::new(
        Model::new(15, chrono::Duration::hours(24)),
        Engine::new("redis-server".into(), std::env::temp_dir()),
        settings,
        Arc::new(SystemClock),
    ));
    for i in 0..50 {
        state.model().insert_group(group(i)).unwrap();
    }
    let app = elasticache_local::server::app(Arc::clone(&state));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Steady state: the groups are unchanged, so their encoded XML is reused.
    measure("unchanged groups", &runtime, &app, || {});
    // Worst case: every group changed since the last request, so every one is encoded again.
    measure(
        "every group changed before each request",
        &runtime,
        &app,
        || {
            let mut model = state.model();
            for i in 0..50 {
                model.group_mut(&format!("group{i}")).unwrap();
            }
        },
    );
}

fn measure(
    label: &str,
    runtime: &tokio::runtime::Runtime,
    app: &axum::Router,
    before_each: impl Fn(),
) {
    let requests = 2000;
    let mut spent = Duration::ZERO;
    let mut bytes = 0;
    for _ in 0..requests {
        before_each();
        let started = Instant::now();
        let request = Request::post("/")
            .body(Body::from(
                "Action=DescribeReplicationGroups&Version=2015-02-02",
            ))
            .unwrap();
        let response = runtime.block_on(app.clone().oneshot(request)).unwrap();
        bytes = runtime
            .block_on(axum::body::to_bytes(response.into_body(), 1 << 24))
            .unwrap()
            .len();
        spent += started.elapsed();
    }
    let per_request = spent / requests;
    println!(
        "DescribeReplicationGroups, 50 groups, in-process, {label}: {per_request:?} per request ({bytes} bytes), {:.0} req/s on one core",
        1.0 / per_request.as_secs_f64()
    );
}
