use super::*;

fn find(family: &str, name: &str) -> Option<Parameter> {
    family_parameters(family)?
        .into_iter()
        .find(|p| p.name == name)
}

#[test]
fn every_row_parses_and_every_family_has_a_list() {
    assert!(rows().len() > 90);
    for family in FAMILIES {
        let list = family_parameters(family).unwrap();
        assert!(list.len() > 25, "{family}: {}", list.len());
        let mut names: Vec<_> = list.iter().map(|p| p.name).collect();
        names.dedup();
        assert_eq!(names.len(), list.len(), "{family} lists a name twice");
    }
    assert!(family_parameters("redis8").is_none());
    assert!(family_parameters("memcached1.6").is_none());
}

#[test]
fn defaults_fit_their_own_allowed_values() {
    for family in FAMILIES {
        for p in family_parameters(family).unwrap() {
            assert!(
                value_fits(&p, p.default),
                "{family} {}={:?}",
                p.name,
                p.default
            );
        }
    }
}

#[test]
fn families_follow_the_aws_change_tables() {
    // 3.2.4 raised tcp-keepalive's default and froze appendonly.
    assert_eq!(find("redis2.8", "tcp-keepalive").unwrap().default, "0");
    assert_eq!(find("redis3.2", "tcp-keepalive").unwrap().default, "300");
    assert!(find("redis2.8", "appendonly").unwrap().modifiable);
    assert!(!find("redis3.2", "appendonly").unwrap().modifiable);
    assert!(find("redis3.2", "list-max-ziplist-entries").is_none());
    // 4.0.10 added the LFU policies; 5.0 renamed slave -> replica.
    assert!(
        !find("redis3.2", "maxmemory-policy")
            .unwrap()
            .allowed
            .unwrap()
            .contains("lfu")
    );
    assert!(
        find("redis4.0", "maxmemory-policy")
            .unwrap()
            .allowed
            .unwrap()
            .contains("allkeys-lfu")
    );
    assert!(find("redis4.0", "min-slaves-to-write").is_some());
    assert!(find("redis5.0", "min-slaves-to-write").is_none());
    assert!(find("redis5.0", "min-replicas-to-write").is_some());
    assert_eq!(
        find("redis4.0", "active-defrag-cycle-min").unwrap().default,
        "25"
    );
    assert_eq!(
        find("redis5.0", "active-defrag-cycle-min").unwrap().default,
        "5"
    );
    // 6.x dropped lua-replicate-commands; 7 swapped ziplist for listpack.
    assert!(find("redis5.0", "lua-replicate-commands").is_some());
    assert!(find("redis6.x", "lua-replicate-commands").is_none());
    assert!(find("redis6.x", "hash-max-ziplist-entries").is_some());
    assert!(find("redis7", "hash-max-ziplist-entries").is_none());
    assert_eq!(
        find("redis7", "hash-max-listpack-entries").unwrap().default,
        "512"
    );
    assert!(!find("redis7", "activerehashing").unwrap().modifiable);
    // Valkey 7.2 has Redis OSS 7's list; Valkey 8 drops lazyfree-* and adds its own.
    let names = |f: &str| -> Vec<&str> {
        family_parameters(f)
            .unwrap()
            .iter()
            .map(|p| p.name)
            .collect()
    };
    assert_eq!(names("redis7"), names("valkey7"));
    assert!(find("valkey8", "lazyfree-lazy-eviction").is_none());
    assert!(find("valkey8", "extended-redis-compatibility").is_some());
    assert_eq!(
        find("valkey8", "repl-backlog-size").unwrap().default,
        "10485760"
    );
    assert_eq!(
        find("valkey7", "repl-backlog-size").unwrap().default,
        "1048576"
    );
}

#[test]
fn minimum_engine_version_is_the_family_start_or_later_addition() {
    assert_eq!(
        find("redis7", "maxmemory-policy").unwrap().min_version,
        "7.0.0"
    );
    assert_eq!(find("redis2.6", "timeout").unwrap().min_version, "2.6.13");
    assert_eq!(
        find("redis2.8", "close-on-slave-write")
            .unwrap()
            .min_version,
        "2.8.23"
    );
    assert_eq!(
        find("redis6.x", "acl-pubsub-default").unwrap().min_version,
        "6.2.0"
    );
    assert_eq!(
        find("redis6.x", "acllog-max-len").unwrap().min_version,
        "6.0.0"
    );
    assert_eq!(
        find("valkey8", "commandlog-reply-larger-than")
            .unwrap()
            .min_version,
        "8.1.0"
    );
    assert_eq!(find("valkey7", "timeout").unwrap().min_version, "7.2.4");
}

#[test]
fn cluster_on_differs_only_in_cluster_enabled() {
    for family in &FAMILIES[2..] {
        let off = family_parameters(family).unwrap();
        let on = default_group_parameters(&format!("default.{family}.cluster.on")).unwrap();
        assert_eq!(off.len(), on.len());
        for (a, b) in off.iter().zip(&on) {
            if a.name == "cluster-enabled" {
                assert_eq!((a.default, b.default), ("no", "yes"));
            } else {
                assert_eq!(a, b);
            }
        }
    }
    assert!(default_group_parameters("redis7").is_none());
    assert!(default_group_parameters("default.redis7").is_some());
}

#[test]
fn validate_accepts_fitting_values() {
    assert_eq!(
        validate("redis7", "maxmemory-policy", "allkeys-lru"),
        Ok("maxmemory-policy")
    );
    assert!(validate("redis7", "timeout", "0").is_ok());
    // Modifiable in a user group, as the provider's users rely on (`cluster-enabled yes`).
    assert!(validate("redis7", "cluster-enabled", "yes").is_ok());
    assert!(validate("redis7", "cluster-enabled", "maybe").is_err());
    assert!(validate("redis7", "timeout", "300").is_ok());
    assert!(validate("redis7", "active-defrag-cycle-max", "75").is_ok());
    assert!(validate("redis7", "notify-keyspace-events", "Ex").is_ok());
    assert!(validate("redis7", "notify-keyspace-events", "").is_ok());
    assert!(validate("redis7", "reserved-memory-percent", "100").is_ok());
    assert!(validate("redis7.cluster.on", "cluster-allow-reads-when-down", "yes").is_ok());
}

#[test]
fn validate_refuses_with_invalid_parameter_value_naming_the_parameter() {
    let cases = [
        ("redis7", "maxmemory-policy", "lru-please"),
        ("redis3.2", "maxmemory-policy", "allkeys-lfu"),
        ("redis7", "timeout", "10"),
        ("redis7", "timeout", "ten"),
        ("redis7", "active-defrag-cycle-max", "76"),
        ("redis7", "reserved-memory-percent", "101"),
        ("redis7", "notify-keyspace-events", "Exq"),
        ("redis7", "appendonly", "yes"),
        ("redis7", "hash-max-ziplist-entries", "1"),
        ("valkey8", "lazyfree-lazy-eviction", "yes"),
        ("redis7", "no-such-parameter", "1"),
    ];
    for (family, name, value) in cases {
        let err = validate(family, name, value).unwrap_err();
        assert_eq!(
            err.code(),
            "InvalidParameterValue",
            "{family} {name}={value}"
        );
        assert!(err.message().contains(name), "{}", err.message());
    }
}

#[test]
fn integer_items() {
    assert!(integer_item_fits("-2", -2));
    assert!(!integer_item_fits("-2", 2));
    assert!(integer_item_fits("1-", 7));
    assert!(!integer_item_fits("20-", 19));
    assert!(integer_item_fits("1-75", 75));
    assert!(!integer_item_fits("1-75", 0));
}

#[test]
fn node_config_mapping() {
    assert_eq!(
        node_config("maxmemory-policy", "allkeys-lru"),
        NodeConfig::Direct
    );
    assert!(matches!(
        node_config("reserved-memory-percent", "25"),
        NodeConfig::Service(_)
    ));
    assert!(matches!(
        node_config("cluster-enabled", "yes"),
        NodeConfig::Service(_)
    ));
    // AOF is real on the nodes (only redis2.6/2.8 groups can change it).
    assert_eq!(node_config("appendonly", "yes"), NodeConfig::Direct);
    assert_eq!(node_config("appendfsync", "always"), NodeConfig::Direct);
    assert_eq!(
        node_config("client-output-buffer-limit-pubsub-soft-seconds", "60"),
        NodeConfig::ClientOutputBufferLimit { class: "pubsub" }
    );
    assert_eq!(
        node_config("client-output-buffer-limit-replica-soft-seconds", "60"),
        NodeConfig::ClientOutputBufferLimit { class: "replica" }
    );
    assert_eq!(
        node_config("cluster-preferred-endpoint-type", "tls-dynamic"),
        NodeConfig::Renamed {
            name: "cluster-preferred-endpoint-type",
            value: "ip".into()
        }
    );
    assert_eq!(
        node_config("cluster-preferred-endpoint-type", "ip"),
        NodeConfig::Direct
    );
    assert_eq!(
        client_output_buffer_limit("normal", "0", "0", "0"),
        "normal 0 0 0"
    );
}
