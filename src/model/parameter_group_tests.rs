use super::*;
use crate::model::tests::{group, model_with};

fn scope() -> Scope {
    Scope::new("123456789012", "us-east-1")
}

fn model_with_group(name: &str) -> Model {
    let mut model = model_with(vec![]);
    let group = ParameterGroup::new(name, "redis7", "mine", &scope()).unwrap();
    model.create_parameter_group(group, &[]).unwrap();
    model
}

#[test]
fn defaults_exist_in_every_scope_and_cannot_change() {
    let mut model = model_with(vec![]);
    let names: Vec<String> = model
        .parameter_groups(&scope())
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert!(names.contains(&"default.redis2.6".to_string()));
    assert!(!names.contains(&"default.redis2.8.cluster.on".to_string()));
    assert!(names.contains(&"default.valkey8.cluster.on".to_string()));
    let on = model
        .parameter_group("DEFAULT.redis7.cluster.on", &scope())
        .unwrap();
    assert!(on.cluster_enabled());
    assert!(on.parameters().iter().all(|p| p.source == "system"));
    let values = [("timeout".to_string(), "300".to_string())];
    for error in [
        model
            .modify_parameter_group("default.redis7", &scope(), &values)
            .unwrap_err(),
        model
            .reset_parameter_group("default.redis7", &scope(), None)
            .unwrap_err(),
        model
            .delete_parameter_group("default.redis7", &scope())
            .unwrap_err(),
    ] {
        assert_eq!(error.code(), "InvalidCacheParameterGroupState");
    }
    let taken = ParameterGroup::new("default.redis7", "redis7", "x", &scope());
    assert_eq!(
        taken.unwrap_err().code(),
        "CacheParameterGroupAlreadyExists"
    );
}

#[test]
fn modify_is_all_or_nothing_and_reset_makes_values_system_again() {
    let mut model = model_with_group("Mine");
    let bad = [
        ("maxmemory-policy".to_string(), "allkeys-lru".to_string()),
        ("timeout".to_string(), "ten".to_string()),
    ];
    let error = model
        .modify_parameter_group("mine", &scope(), &bad)
        .unwrap_err();
    assert_eq!(error.code(), "InvalidParameterValue");
    assert!(error.message().contains("timeout"), "{error}");
    assert!(
        model
            .parameter_group("mine", &scope())
            .unwrap()
            .values
            .is_empty()
    );
    let good = [
        ("maxmemory-policy".to_string(), "allkeys-lru".to_string()),
        (
            "client-output-buffer-limit-pubsub-hard-limit".to_string(),
            "1024".to_string(),
        ),
        ("databases".to_string(), "32".to_string()),
    ];
    let (name, change) = model
        .modify_parameter_group("MINE", &scope(), &good)
        .unwrap();
    assert_eq!(name, "mine");
    assert!(change.needs_reboot, "databases requires a reboot");
    assert_eq!(
        change.immediate,
        [
            (
                "client-output-buffer-limit".to_string(),
                "pubsub 1024 8388608 60".to_string()
            ),
            ("maxmemory-policy".to_string(), "allkeys-lru".to_string()),
        ]
    );
    let (_, reset) = model
        .reset_parameter_group("mine", &scope(), Some(&["maxmemory-policy".to_string()]))
        .unwrap();
    assert_eq!(
        reset.immediate,
        [("maxmemory-policy".to_string(), "volatile-lru".to_string())]
    );
    let group = model.parameter_group("mine", &scope()).unwrap();
    let users: Vec<&str> = group
        .parameters()
        .iter()
        .filter(|p| p.source == "user")
        .map(|p| p.parameter.name)
        .collect();
    assert_eq!(
        users,
        ["client-output-buffer-limit-pubsub-hard-limit", "databases"]
    );
}

#[test]
fn a_group_in_use_is_not_deleted_and_quota_holds() {
    let mut model = model_with_group("mine");
    let mut user = group("rg", 1, false);
    user.settings.cache_parameter_group_name = Some("mine".into());
    model.insert_group(user).unwrap();
    assert_eq!(model.groups_using("MINE"), ["rg"]);
    let error = model.delete_parameter_group("mine", &scope()).unwrap_err();
    assert_eq!(error.code(), "InvalidCacheParameterGroupState");
    for i in 1..MAX_PARAMETER_GROUPS {
        let group = ParameterGroup::new(&format!("g{i}"), "redis6.x", "", &scope()).unwrap();
        model.create_parameter_group(group, &[]).unwrap();
    }
    let one_more = ParameterGroup::new("last", "redis6.x", "", &scope()).unwrap();
    let error = model.create_parameter_group(one_more, &[]).unwrap_err();
    assert_eq!(error.code(), "CacheParameterGroupQuotaExceeded");
}

#[test]
fn families_of_versions() {
    assert_eq!(family_of_version("redis", "7.0.15"), Some("redis7"));
    assert_eq!(family_of_version("redis", "7.2.4"), Some("redis7"));
    assert_eq!(family_of_version("redis", "6.x"), Some("redis6.x"));
    assert_eq!(family_of_version("redis", "5.0.7"), Some("redis5.0"));
    assert_eq!(family_of_version("valkey", "8.0"), Some("valkey8"));
    assert_eq!(family_of_version("redis", "unknown"), None);
}
