//! The live dashboard: `GET /` from a browser (`Accept: text/html`, no `Action`) serves one
//! self-contained page, which polls `GET /_state` for a JSON snapshot of every group, the live
//! replication link of every node (read from the node itself) and the newest events.

use std::collections::HashMap;
use std::net::SocketAddrV4;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::engine::client::{NodeClient, ReplicationInfo};
use crate::model::arn::{Arn, ResourceKind};
use crate::model::events::{Event, EventQuery};
use crate::model::group::{Endpoints, ReplicationGroup, Role};
use crate::model::scope::Scope;
use crate::model::subnet_group::{vpc_of, zone_of};
use crate::model::tags::Tag;
use crate::scopes::Scopes;
use crate::state::SharedState;

/// The page, embedded at build time: inline CSS and JS, nothing fetched but `/_state`.
pub const PAGE: &str = include_str!("dashboard.html");

/// How many of the newest events the snapshot carries.
pub const EVENT_LIMIT: usize = 50;

/// True when the caller is a browser asking for a page (a navigation sends `text/html`).
pub fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.to_ascii_lowercase().contains("text/html"))
}

pub fn page() -> Response<Body> {
    let mut response = Response::new(Body::from(PAGE));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// One member as copied out of the model, before its node is asked anything.
struct MemberSnapshot {
    cluster_id: String,
    node_group: String,
    role: Role,
    address: Option<SocketAddrV4>,
}

struct GroupSnapshot {
    scope: Scope,
    id: String,
    status: &'static str,
    engine: String,
    engine_version: String,
    running_engine_version: String,
    automatic_failover: bool,
    multi_az: bool,
    failover_in_flight: bool,
    endpoints: Option<Endpoints>,
    cluster_enabled: bool,
    /// Node group ids and slots, in order.
    node_groups: Vec<(String, Option<String>)>,
    members: Vec<MemberSnapshot>,
    subnet_group: String,
    parameter_group: Option<String>,
    tags: Vec<Tag>,
    /// `TransitEncryptionMode` while in-transit encryption is on: its nodes speak TLS.
    tls: Option<&'static str>,
}

/// What a node said about its replication, or why it said nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NodeLink {
    /// The model has no address for it yet (the group is still being created).
    NotStarted,
    Down(String),
    Up(ReplicationInfo),
}

/// `GET /_state`: the snapshot the dashboard renders, every account and region in one:
/// groups ordered by (account, region, id) and each labelled with its scope, events merged
/// newest first.
pub async fn state(State(scopes): State<Arc<Scopes>>) -> Json<Value> {
    let now = scopes.default_state().now();
    let mut groups = Vec::new();
    let mut events = Vec::new();
    let mut scope_list = Vec::new();
    let (mut subnet_groups, mut parameter_groups) = (Vec::new(), Vec::new());
    let mut cache_clusters = Vec::new();
    for (scope, state) in scopes.all() {
        cache_clusters.extend(cache_clusters_json(&state, &scope));
        let (scope_groups, scope_events) = snapshot(&state, &scope);
        let (subnets, parameters) = resources_json(&state, &scope);
        subnet_groups.extend(subnets);
        parameter_groups.extend(parameters);
        scope_list.push(json!({
            "account": scope.account, "region": scope.region, "groups": scope_groups.len(),
        }));
        groups.extend(scope_groups);
        events.extend(scope_events.into_iter().map(|event| (scope.clone(), event)));
    }
    events.sort_by(|a, b| b.1.date.cmp(&a.1.date).then(b.1.seq.cmp(&a.1.seq)));
    events.truncate(EVENT_LIMIT);

    let links = probe_all(&groups, scopes.default_state().engine.ca()).await;

    let groups: Vec<Value> = groups
        .iter()
        .enumerate()
        .map(|(g, group)| group_json(group, |m| links.get(&(g, m)).cloned()))
        .collect();
    Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "generated_at": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "scopes": scope_list,
        "groups": groups,
        "subnet_groups": subnet_groups,
        "parameter_groups": parameter_groups,
        "cache_clusters": cache_clusters,
        "events": events_json(&events),
    }))
}

/// One scope's groups and newest events, copied out under its model lock (dropped before
/// any node is asked).
fn snapshot(state: &SharedState, scope: &Scope) -> (Vec<GroupSnapshot>, Vec<Event>) {
    let model = state.model();
    let groups = model
        .groups()
        .map(|group| GroupSnapshot::of(scope, group, model.tags.list(&group.arn)))
        .collect();
    let page = model.events.query(&EventQuery {
        source_id: None,
        source_type: None,
        start: DateTime::<Utc>::UNIX_EPOCH,
        end: state.now(),
        before_seq: None,
        max_records: EVENT_LIMIT,
    });
    (groups, page.events.into_iter().cloned().collect())
}

/// One scope's standalone cache clusters (Redis and Memcached) as the model knows them: their
/// nodes are not asked anything (a Memcached node has no replication to show).
fn cache_clusters_json(state: &SharedState, scope: &Scope) -> Vec<Value> {
    let model = state.model();
    model
        .cache_clusters()
        .map(|cluster| {
            let nodes: Vec<Value> = cluster
                .nodes
                .iter()
                .map(|n| {
                    json!({
                        "id": n.id, "status": n.status.as_str(), "zone": n.availability_zone,
                        "address": n.address.map(|a| a.ip().to_string()),
                        "port": n.address.map(|a| a.port()),
                    })
                })
                .collect();
            json!({
                "account": scope.account,
                "region": scope.region,
                "id": cluster.id,
                "engine": cluster.engine.as_str(),
                "engine_version": cluster.settings.engine_version,
                "running_engine_version": cluster.settings.running_engine_version,
                "status": crate::model::resource::Lifecycle::as_str(cluster.status),
                "configuration_endpoint": endpoint_json(cluster.configuration_address),
                "configuration_endpoint_port": cluster.configuration_address.map(|a| a.port()),
                "nodes": nodes,
            })
        })
        .collect()
}

fn events_json(events: &[(Scope, Event)]) -> Vec<Value> {
    events
        .iter()
        .map(|(scope, event)| {
            json!({
                "account": scope.account,
                "region": scope.region,
                "date": event.date.to_rfc3339_opts(SecondsFormat::Millis, true),
                "source_type": event.source_type,
                "source_id": event.source_id,
                "message": event.message,
            })
        })
        .collect()
}

/// One scope's cache subnet groups (the `default` one too) and the parameter groups its user
/// created (the `default.*` ones are many and never change), each with its tags.
fn resources_json(state: &SharedState, scope: &Scope) -> (Vec<Value>, Vec<Value>) {
    let model = state.model();
    let labelled = |kind: &str, name: &str, extra: Value, tags: Vec<Tag>| {
        let mut value = json!({
            "account": scope.account, "region": scope.region, "kind": kind, "name": name,
            "tags": tags_json(&tags),
        });
        if let (Value::Object(target), Value::Object(extra)) = (&mut value, extra) {
            target.extend(extra);
        }
        value
    };
    let subnets = model
        .subnet_groups()
        .map(|group| {
            let arn = Arn::new(ResourceKind::SubnetGroup, scope, &group.name);
            let subnets: Vec<Value> = group
                .subnet_ids
                .iter()
                .map(|id| json!({ "id": id, "availability_zone": zone_of(id, scope) }))
                .collect();
            let extra = json!({
                "description": group.description, "vpc_id": vpc_of(scope), "subnets": subnets,
                "used_by": model.groups_in_subnet_group(&group.name).map(|g| g.id.to_string()).collect::<Vec<_>>(),
            });
            labelled("subnet-group", &group.name, extra, model.tags.list(&arn))
        })
        .collect();
    let parameters = model
        .parameter_groups(scope)
        .into_iter()
        .filter(|group| !group.is_default)
        .map(|group| {
            let extra = json!({
                "family": group.family, "description": group.description,
                "values": group.values, "used_by": model.groups_using(&group.name),
            });
            labelled(
                "parameter-group",
                &group.name,
                extra,
                model.tags.list(&group.arn),
            )
        })
        .collect();
    (subnets, parameters)
}

fn tags_json(tags: &[Tag]) -> Vec<Value> {
    tags.iter()
        .map(|tag| json!({ "key": tag.key, "value": tag.value }))
        .collect()
}

impl GroupSnapshot {
    fn of(scope: &Scope, group: &ReplicationGroup, tags: Vec<Tag>) -> Self {
        Self {
            scope: scope.clone(),
            id: group.id.to_string(),
            status: group.status.as_str(),
            engine: group.settings.engine.clone(),
            engine_version: group.settings.engine_version.clone(),
            running_engine_version: group.settings.running_engine_version.clone(),
            automatic_failover: group.settings.automatic_failover,
            multi_az: group.settings.multi_az,
            failover_in_flight: group.failover_in_flight,
            tls: (group.settings.transit_encryption_mode).map(|mode| mode.as_str()),
            endpoints: group.endpoints,
            cluster_enabled: group.cluster_enabled,
            node_groups: group
                .node_groups
                .iter()
                .map(|ng| (ng.id.clone(), ng.slots.clone()))
                .collect(),
            members: group
                .members
                .iter()
                .map(|member| MemberSnapshot {
                    cluster_id: member.cluster_id.clone(),
                    node_group: member.node_group.clone(),
                    role: member.role,
                    address: member.address,
                })
                .collect(),
            subnet_group: group.settings.stored.cache_subnet_group_name.clone(),
            parameter_group: group.settings.cache_parameter_group_name.clone(),
            tags,
        }
    }
}

/// One group as the dashboard shows it; `link(m)` is what member `m`'s node said.
fn group_json(group: &GroupSnapshot, link: impl Fn(usize) -> Option<NodeLink>) -> Value {
    let (primary, reader, configuration) = match group.endpoints {
        Some(Endpoints::NodeGroup { primary, reader }) => (Some(primary), Some(reader), None),
        Some(Endpoints::Configuration { address }) => (None, None, Some(address)),
        None => (None, None, None),
    };
    let members: Vec<Value> = group
        .members
        .iter()
        .enumerate()
        .map(|(m, member)| member_json(member, &link(m).unwrap_or(NodeLink::NotStarted)))
        .collect();
    json!({
        "account": group.scope.account,
        "region": group.scope.region,
        "id": group.id,
        "status": group.status,
        "engine": group.engine,
        "engine_version": group.engine_version,
        "running_engine_version": group.running_engine_version,
        "automatic_failover": group.automatic_failover,
        "multi_az": group.multi_az,
        "failover_in_flight": group.failover_in_flight,
        "tls": group.tls,
        "cluster_enabled": group.cluster_enabled,
        "node_group_id": group.node_groups.first().map(|ng| ng.0.clone()),
        "node_groups": group.node_groups.iter().map(|(id, slots)| json!({"id": id, "slots": slots})).collect::<Vec<_>>(),
        "primary_endpoint": endpoint_json(primary),
        "reader_endpoint": endpoint_json(reader),
        "configuration_endpoint": endpoint_json(configuration),
        "primary_endpoint_port": primary.map(|a| a.port()),
        "reader_endpoint_port": reader.map(|a| a.port()),
        "configuration_endpoint_port": configuration.map(|a| a.port()),
        "subnet_group": group.subnet_group,
        "parameter_group": group.parameter_group,
        "tags": tags_json(&group.tags),
        "members": members,
    })
}

/// Asks every started node for `INFO replication` at once; each ask is bounded by the node
/// client's own timeout, so one frozen node delays the snapshot by at most that.
async fn probe_all(
    groups: &[GroupSnapshot],
    ca: std::sync::Arc<crate::engine::CertificateAuthority>,
) -> HashMap<(usize, usize), NodeLink> {
    let mut tasks = JoinSet::new();
    for (g, group) in groups.iter().enumerate() {
        for (m, member) in group.members.iter().enumerate() {
            let Some(address) = member.address else {
                continue;
            };
            let tls = group.tls.map(|_| ca.clone());
            let client = NodeClient::new(address).with_tls(tls);
            tasks.spawn(async move { ((g, m), probe(client).await) });
        }
    }
    let mut links = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((key, link)) = joined {
            links.insert(key, link);
        }
    }
    links
}

/// An endpoint as `/_state` shows it: its address and port, or null before it exists.
fn endpoint_json(address: Option<SocketAddrV4>) -> Value {
    match address {
        Some(address) => json!({ "address": address.ip().to_string(), "port": address.port() }),
        None => Value::Null,
    }
}

async fn probe(client: NodeClient) -> NodeLink {
    match client.replication_info().await {
        Ok(info) => NodeLink::Up(info),
        Err(error) => NodeLink::Down(error.to_string()),
    }
}

fn member_json(member: &MemberSnapshot, link: &NodeLink) -> Value {
    let mut value = json!({
        "cluster_id": member.cluster_id,
        "node_group": member.node_group,
        "role": member.role.as_str(),
        "address": member.address.map(|a| a.ip().to_string()),
        "port": member.address.map(|a| a.port()),
    });
    let fields = match link {
        NodeLink::NotStarted => json!({ "reachable": false, "link": "starting" }),
        NodeLink::Down(error) => json!({ "reachable": false, "link": "down", "error": error }),
        NodeLink::Up(info) => {
            let node_role = match info.role.as_str() {
                "master" => "primary",
                "slave" => "replica",
                other => other,
            };
            // A replica's link is its link to its primary; a primary's is simply that it
            // answers (its replicas' links are shown on their own cards).
            let link = if node_role == "replica" {
                info.master_link_status.as_deref().unwrap_or("down")
            } else {
                "up"
            };
            json!({
                "reachable": true,
                "link": link,
                "node_role": node_role,
                "master_link_status": info.master_link_status,
                "master_host": info.master_host,
                "master_port": info.master_port,
                "connected_replicas": info.connected_replicas,
                "repl_offset": if node_role == "replica" {
                    info.replica_offset
                } else {
                    info.master_repl_offset
                },
            })
        }
    };
    if let (Value::Object(target), Value::Object(extra)) = (&mut value, fields) {
        target.extend(extra);
    }
    value
}
