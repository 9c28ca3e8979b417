//! The registry's rules: names, a node's settling and refusal, parking, connections.

use super::*;

fn local(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, port)
}

fn registry_with(name: &str, port: u16) -> (Arc<ToxicRegistry>, Registration) {
    let registry = Arc::new(ToxicRegistry::new());
    let (_sender, targets) = watch::channel(vec![local(7000)]);
    let registration = registry.register(name, local(port), targets);
    (registry, registration)
}

fn latency(name: &str) -> NewToxic {
    spec::parse_create(
        format!(r#"{{"name":"{name}","type":"latency","attributes":{{"latency":5}}}}"#).as_bytes(),
    )
    .unwrap()
}

#[test]
fn toxics_are_named_uniquely_and_found_by_name() {
    let (registry, _guard) = registry_with("g-primary", 1);
    registry.add_toxic("g-primary", latency("a")).unwrap();
    assert_eq!(
        registry.add_toxic("g-primary", latency("a")),
        Err(ToxicsError::ToxicAlreadyExists)
    );
    assert_eq!(
        registry.add_toxic("nope", latency("a")),
        Err(ToxicsError::ProxyNotFound)
    );
    assert_eq!(registry.toxic("g-primary", "a").unwrap().name, "a");
    assert_eq!(
        registry.remove_toxic("g-primary", "b"),
        Err(ToxicsError::ToxicNotFound)
    );
    registry.remove_toxic("g-primary", "a").unwrap();
    assert!(registry.proxy("g-primary").unwrap().toxics.is_empty());
    let view = registry.proxy("g-primary").unwrap();
    assert_eq!(view.upstream, "127.0.0.1:7000");
    assert_eq!(view.listen, "127.0.0.1:1");
}

#[tokio::test]
async fn a_node_proxy_settles_when_its_front_reports_and_may_refuse_toxics() {
    let registry = Arc::new(ToxicRegistry::new());
    let (_sender, targets) = watch::channel(vec![local(7000)]);
    let (applied, reports) = watch::channel(Applied::default());
    let (_node, mut follower) =
        registry.register_node("g-001", local(4), targets.clone(), reports, None);
    registry.add_toxic("g-001", latency("a")).unwrap();
    let version = follower.borrow_and_update().version;
    let short = std::time::Duration::from_millis(50);
    assert!(
        registry.settled("g-001", short).await.is_err(),
        "not applied yet"
    );
    applied.send_replace(Applied {
        version,
        error: Some("no front".into()),
    });
    assert_eq!(
        registry.settled("g-001", short).await,
        Err("no front".into())
    );
    applied.send_replace(Applied {
        version,
        error: None,
    });
    assert_eq!(registry.settled("g-001", short).await, Ok(()));

    let (_reports, refused) = watch::channel(Applied::default());
    let why = Some("TLS".to_string());
    let (_tls, _) = registry.register_node("g-002", local(5), targets, refused, why);
    assert_eq!(
        registry.add_toxic("g-002", latency("a")),
        Err(ToxicsError::Unsupported("g-002: TLS".into()))
    );
    assert!(registry.set_enabled("g-002", false).is_err());
    assert!(registry.set_enabled("g-002", true).is_ok());
}

#[test]
fn a_connection_sees_changes_and_dropping_the_guard_unlists() {
    let (registry, guard) = registry_with("g-reader", 2);
    let mut link = registry.connect(local(2)).unwrap();
    assert!(registry.connect(local(3)).is_none());
    registry.set_enabled("g-reader", false).unwrap();
    assert!(link.config.has_changed().unwrap());
    assert!(!link.config.borrow_and_update().enabled);
    registry.reset();
    assert!(link.config.borrow_and_update().enabled);
    drop(guard);
    assert_eq!(
        registry.proxy("g-reader").unwrap_err(),
        ToxicsError::ProxyNotFound
    );
}

#[tokio::test]
async fn a_node_proxy_with_toxics_outlives_its_process_until_its_member_goes() {
    let registry = Arc::new(ToxicRegistry::new());
    let node = |registry: &Arc<ToxicRegistry>| {
        let (_sender, targets) = watch::channel(vec![local(7001)]);
        let (_applied, reports) = watch::channel(Applied::default());
        registry.register_node("g-003", local(6), targets, reports, None)
    };
    let (first, _) = node(&registry);
    registry.add_toxic("g-003", latency("a")).unwrap();
    drop(first);
    let parked = registry.proxy("g-003").expect("parked, not unlisted");
    assert_eq!(parked.toxics.len(), 1);
    assert_eq!(parked.upstream, parked.listen, "no process behind it");
    registry.add_toxic("g-003", latency("b")).unwrap();

    let (second, follower) = node(&registry);
    let names: Vec<_> = follower
        .borrow()
        .toxics
        .iter()
        .map(|t| t.name.clone())
        .collect();
    assert_eq!(names, ["a", "b"], "the next process takes the toxics over");
    registry.forget_node("g-003");
    assert!(
        registry.proxy("g-003").is_ok(),
        "a live node is not forgotten"
    );
    drop(second);
    registry.forget_node("g-003");
    assert_eq!(
        registry.proxy("g-003").unwrap_err(),
        ToxicsError::ProxyNotFound
    );

    let (clean, _) = node(&registry);
    drop(clean);
    assert!(
        registry.proxy("g-003").is_err(),
        "no toxic: nothing to keep"
    );
}
