//! The engine versions ElastiCache offers for `memcached`, `redis` and `valkey`, as
//! `DescribeCacheEngineVersions` lists them, and how a requested `EngineVersion` on create is
//! resolved against them.
//!
//! Sources: the version list and families follow the AWS "Supported engines and versions"
//! and parameter-group pages (memcached1.4 ... memcached1.6, redis2.6 ... redis7, valkey7,
//! valkey8; memcached versions are always named in full, `1.6.22`); the error code and
//! message of an unknown version are AWS's as users quote them
//! (`InvalidParameterCombination: Cannot find version 4.0.13 for redis`, e.g.
//! ministryofjustice/cloud-platform-environments#5753); the accepted request forms follow
//! terraform-provider-aws `internal/service/elasticache/engine_version.go` (`6.x`, `<major>.<minor>`
//! from 6 on, `<major>.<minor>.<patch>` before 6; valkey `<major>.<minor>`). The patch level
//! behind each `<major>.<minor>` (e.g. `7.1` -> `7.1.0`) is what the version descriptions
//! report; those strings were not re-read from a live account in this change.

use crate::protocol::ApiError;

/// One row of `DescribeCacheEngineVersions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineVersion {
    pub engine: &'static str,
    /// The version as AWS lists it and as a request names it: `5.0.6`, `6.2`, `7.1`.
    pub version: &'static str,
    /// The full version a node of this version runs and `CacheCluster.EngineVersion` reports.
    pub full_version: &'static str,
    pub family: &'static str,
    pub engine_description: &'static str,
    pub version_description: &'static str,
}

const fn redis(
    version: &'static str,
    full_version: &'static str,
    family: &'static str,
    version_description: &'static str,
) -> EngineVersion {
    EngineVersion {
        engine: "redis",
        version,
        full_version,
        family,
        engine_description: "Redis",
        version_description,
    }
}

const fn memcached(
    version: &'static str,
    family: &'static str,
    version_description: &'static str,
) -> EngineVersion {
    EngineVersion {
        engine: "memcached",
        version,
        full_version: version,
        family,
        engine_description: "memcached",
        version_description,
    }
}

const fn valkey(
    version: &'static str,
    full_version: &'static str,
    family: &'static str,
    version_description: &'static str,
) -> EngineVersion {
    EngineVersion {
        engine: "valkey",
        version,
        full_version,
        family,
        engine_description: "Valkey",
        version_description,
    }
}

/// Oldest first within each engine, the order AWS lists them in; the last of an engine is its
/// default.
pub const CATALOGUE: &[EngineVersion] = &[
    memcached("1.4.5", "memcached1.4", "memcached version 1.4.5"),
    memcached("1.4.14", "memcached1.4", "memcached version 1.4.14"),
    memcached("1.4.24", "memcached1.4", "memcached version 1.4.24"),
    memcached("1.4.33", "memcached1.4", "memcached version 1.4.33"),
    memcached("1.4.34", "memcached1.4", "memcached version 1.4.34"),
    memcached("1.5.10", "memcached1.5", "memcached version 1.5.10"),
    memcached("1.5.16", "memcached1.5", "memcached version 1.5.16"),
    memcached("1.6.6", "memcached1.6", "memcached version 1.6.6"),
    memcached("1.6.12", "memcached1.6", "memcached version 1.6.12"),
    memcached("1.6.17", "memcached1.6", "memcached version 1.6.17"),
    memcached("1.6.22", "memcached1.6", "memcached version 1.6.22"),
    redis("2.6.13", "2.6.13", "redis2.6", "redis version 2.6.13"),
    redis("2.8.6", "2.8.6", "redis2.8", "redis version 2.8.6"),
    redis("2.8.19", "2.8.19", "redis2.8", "redis version 2.8.19"),
    redis("2.8.21", "2.8.21", "redis2.8", "redis version 2.8.21"),
    redis("2.8.22", "2.8.22", "redis2.8", "redis version 2.8.22"),
    redis("2.8.23", "2.8.23", "redis2.8", "redis version 2.8.23"),
    redis("2.8.24", "2.8.24", "redis2.8", "redis version 2.8.24"),
    redis("3.2.4", "3.2.4", "redis3.2", "redis version 3.2.4"),
    redis("3.2.6", "3.2.6", "redis3.2", "redis version 3.2.6"),
    redis("3.2.10", "3.2.10", "redis3.2", "redis version 3.2.10"),
    redis("4.0.10", "4.0.10", "redis4.0", "redis version 4.0.10"),
    redis("5.0.0", "5.0.0", "redis5.0", "redis version 5.0.0"),
    redis("5.0.3", "5.0.3", "redis5.0", "redis version 5.0.3"),
    redis("5.0.4", "5.0.4", "redis5.0", "redis version 5.0.4"),
    redis("5.0.5", "5.0.5", "redis5.0", "redis version 5.0.5"),
    redis("5.0.6", "5.0.6", "redis5.0", "redis version 5.0.6"),
    redis("6.0", "6.0.5", "redis6.x", "redis version 6.0.5"),
    redis("6.2", "6.2.6", "redis6.x", "redis version 6.2.6"),
    redis("7.0", "7.0.7", "redis7", "redis version 7.0.7"),
    redis("7.1", "7.1.0", "redis7", "redis version 7.1.0"),
    valkey("7.2", "7.2.6", "valkey7", "valkey version 7.2.6"),
    valkey("8.0", "8.0.1", "valkey8", "valkey version 8.0.1"),
    valkey("8.1", "8.1.1", "valkey8", "valkey version 8.1.1"),
];

/// The memcached families (`default.memcached1.6` ...): listed by `DescribeCacheEngineVersions`
/// and named by a Memcached cluster's default group, but not modelled as parameter groups
/// (no parameter catalogue; `FAMILIES` are those).
pub const MEMCACHED_FAMILIES: &[&str] = &["memcached1.4", "memcached1.5", "memcached1.6"];

/// Every parameter group family, oldest first.
pub const FAMILIES: &[&str] = &[
    "redis2.6", "redis2.8", "redis3.2", "redis4.0", "redis5.0", "redis6.x", "redis7", "valkey7",
    "valkey8",
];

/// The version a create without `EngineVersion` gets: the newest of the engine.
pub fn default_version(engine: &str) -> Option<&'static EngineVersion> {
    CATALOGUE.iter().rev().find(|v| v.engine == engine)
}

/// What a requested `EngineVersion` resolved to: the catalogue row, and the request as given
/// (Terraform compares `engine_version` to what it sent, `engine_version_actual` to the
/// full version).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub requested: Option<String>,
    pub version: &'static EngineVersion,
}

/// Resolves `Engine`/`EngineVersion` of a create the way AWS does: no version -> the engine's
/// default; `6.x` -> the newest 6; a listed version (`5.0.6`, `6.2`, `7.1`) -> itself; the full
/// version behind a listed one (`6.2.6`) -> that row; anything else is refused with AWS's
/// `Cannot find version X for ENGINE`. `engine` is the already-validated lowercase
/// `redis`/`valkey`; a redis version asked of valkey (or the reverse) is not found either.
pub fn resolve(engine: &str, requested: Option<&str>) -> Result<Resolved, ApiError> {
    let not_found = |v: &str| {
        ApiError::InvalidParameterCombination(format!("Cannot find version {v} for {engine}"))
    };
    let Some(asked) = requested else {
        let version = default_version(engine).ok_or_else(|| not_found(""))?;
        return Ok(Resolved {
            requested: None,
            version,
        });
    };
    let of_engine = || CATALOGUE.iter().filter(|v| v.engine == engine);
    let found = if let Some(major) = asked.strip_suffix(".x") {
        // Only redis 6 has a `.x` form (family redis6.x); from 7 on AWS wants major.minor.
        (engine == "redis" && major == "6")
            .then(|| of_engine().rfind(|v| v.version.starts_with("6.")))
            .flatten()
    } else {
        of_engine().find(|v| v.version == asked || v.full_version == asked)
    };
    found
        .map(|version| Resolved {
            requested: Some(asked.to_string()),
            version,
        })
        .ok_or_else(|| not_found(asked))
}

/// The filters of `DescribeCacheEngineVersions`, as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionFilter<'a> {
    pub engine: Option<&'a str>,
    pub engine_version: Option<&'a str>,
    pub family: Option<&'a str>,
    pub default_only: bool,
}

/// The rows `DescribeCacheEngineVersions` returns for `filter`, in catalogue order (paging is
/// the caller's). `EngineVersion` matches a listed version exactly or, with `DefaultOnly`, names
/// a major (`7`, `6.x`) or major.minor whose default (newest) row is returned, as the API docs
/// put it: "the default version of the specified engine or engine and major version
/// combination". An unknown engine or family matches nothing (AWS answers an empty list).
pub fn describe(filter: &VersionFilter<'_>) -> Vec<&'static EngineVersion> {
    let matching: Vec<&'static EngineVersion> = CATALOGUE
        .iter()
        .filter(|v| {
            filter
                .engine
                .is_none_or(|e| v.engine.eq_ignore_ascii_case(e))
        })
        .filter(|v| filter.family.is_none_or(|f| v.family == f))
        .filter(|v| {
            filter.engine_version.is_none_or(|asked| {
                v.version == asked || (filter.default_only && same_major(v.version, asked))
            })
        })
        .collect();
    if !filter.default_only {
        return matching;
    }
    // The newest row per engine (and per major when a version was named).
    let mut defaults: Vec<&'static EngineVersion> = Vec::new();
    for row in matching.iter().rev() {
        let seen = defaults.iter().any(|d| {
            d.engine == row.engine
                && (filter.engine_version.is_none() || major(d.version) == major(row.version))
        });
        if !seen {
            defaults.push(row);
        }
    }
    defaults.reverse();
    defaults
}

fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// Whether a listed version belongs to the major an `EngineVersion` filter names: `7`, `7.x`,
/// or `7.0` all name major 7 here, but `7.0` only matches rows starting `7.0`.
fn same_major(listed: &str, asked: &str) -> bool {
    let asked = asked.strip_suffix(".x").unwrap_or(asked);
    if asked.contains('.') {
        listed == asked || listed.starts_with(&format!("{asked}."))
    } else {
        major(listed) == asked
    }
}

/// The family a resolved version's parameter groups must have (`CreateReplicationGroup` with a
/// `CacheParameterGroupName` of another family is refused with this message by AWS:
/// `Expected a parameter group of family redis7 but found one of family redis5.0`).
pub fn family_mismatch(expected: &str, found: &str) -> Option<ApiError> {
    (expected != found).then(|| {
        ApiError::InvalidParameterCombination(format!(
            "Expected a parameter group of family {expected} but found one of family {found}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(engine: &str, asked: &str) -> &'static str {
        resolve(engine, Some(asked)).unwrap().version.full_version
    }

    #[test]
    fn defaults_are_the_newest_of_each_engine() {
        let redis = resolve("redis", None).unwrap();
        assert_eq!((redis.version.version, redis.requested), ("7.1", None));
        assert_eq!(resolve("valkey", None).unwrap().version.version, "8.1");
        assert_eq!(
            resolve("memcached", None).unwrap().version.version,
            "1.6.22"
        );
    }

    #[test]
    fn memcached_versions_resolve_in_full_only() {
        let resolved = resolve("memcached", Some("1.4.5")).unwrap().version;
        assert_eq!(
            (resolved.full_version, resolved.family),
            ("1.4.5", "memcached1.4")
        );
        assert_eq!(
            resolve("memcached", Some("1.5.16")).unwrap().version.family,
            "memcached1.5"
        );
        for asked in ["1.6", "1.6.x", "1.6.18", "7.1", "99.9"] {
            let err = resolve("memcached", Some(asked)).unwrap_err();
            assert_eq!(
                err.message(),
                format!("Cannot find version {asked} for memcached")
            );
        }
        assert!(resolve("redis", Some("1.6.22")).is_err());
    }

    #[test]
    fn request_forms_resolve_to_the_full_version() {
        assert_eq!(resolved("redis", "7.1"), "7.1.0");
        assert_eq!(resolved("redis", "7.0"), "7.0.7");
        assert_eq!(resolved("redis", "6.x"), "6.2.6");
        assert_eq!(resolved("redis", "6.2"), "6.2.6");
        assert_eq!(resolved("redis", "6.0"), "6.0.5");
        assert_eq!(resolved("redis", "5.0.6"), "5.0.6");
        assert_eq!(resolved("redis", "2.8.24"), "2.8.24");
        assert_eq!(resolved("redis", "6.2.6"), "6.2.6");
        assert_eq!(resolved("valkey", "7.2"), "7.2.6");
        assert_eq!(resolved("valkey", "8.0"), "8.0.1");
        let r = resolve("redis", Some("6.x")).unwrap();
        assert_eq!(
            (r.requested.as_deref(), r.version.family),
            (Some("6.x"), "redis6.x")
        );
    }

    #[test]
    fn unknown_versions_get_aws_error() {
        for (engine, asked) in [
            ("redis", "4.0.13"),
            ("redis", "7.2"),
            ("redis", "7.x"),
            ("redis", "5.0"),
            ("redis", "8.1"),
            ("redis", ""),
            ("valkey", "7.1"),
            ("valkey", "6.x"),
            ("valkey", "8.x"),
        ] {
            let err = resolve(engine, Some(asked)).unwrap_err();
            assert_eq!(
                err.code(),
                "InvalidParameterCombination",
                "{engine} {asked}"
            );
            assert_eq!(
                err.message(),
                format!("Cannot find version {asked} for {engine}")
            );
        }
    }

    #[test]
    fn every_row_has_a_known_family_and_consistent_descriptions() {
        for v in CATALOGUE {
            let families = match v.engine {
                "memcached" => MEMCACHED_FAMILIES,
                _ => FAMILIES,
            };
            assert!(families.contains(&v.family), "{v:?}");
            assert!(v.full_version.starts_with(v.version), "{v:?}");
            assert_eq!(
                v.version_description,
                format!("{} version {}", v.engine, v.full_version)
            );
        }
    }

    fn versions(filter: VersionFilter<'_>) -> Vec<&'static str> {
        describe(&filter).iter().map(|v| v.version).collect()
    }

    /// `(Engine, EngineVersion, CacheParameterGroupFamily, DefaultOnly)` as a filter.
    fn filter<'a>(
        engine: Option<&'a str>,
        engine_version: Option<&'a str>,
        family: Option<&'a str>,
        default_only: bool,
    ) -> VersionFilter<'a> {
        VersionFilter {
            engine,
            engine_version,
            family,
            default_only,
        }
    }

    /// Each filter and the versions it lists, in catalogue order.
    fn check(cases: &[(VersionFilter<'_>, &[&str])]) {
        for (filter, want) in cases {
            assert_eq!(versions(filter.clone()), *want, "{filter:?}");
        }
    }

    #[test]
    fn describe_filters() {
        assert_eq!(describe(&VersionFilter::default()).len(), CATALOGUE.len());
        check(&[
            (
                filter(Some("valkey"), None, None, false),
                &["7.2", "8.0", "8.1"],
            ),
            (filter(None, None, Some("redis6.x"), false), &["6.0", "6.2"]),
            (
                filter(Some("redis"), Some("5.0.6"), None, false),
                &["5.0.6"],
            ),
            (
                filter(Some("memcached"), None, Some("memcached1.5"), false),
                &["1.5.10", "1.5.16"],
            ),
            (filter(Some("mongodb"), None, None, false), &[]),
            // The family and the engine disagree.
            (filter(Some("valkey"), None, Some("redis7"), false), &[]),
        ]);
    }

    #[test]
    fn default_only_gives_the_newest_per_engine_or_per_major() {
        check(&[
            (filter(None, None, None, true), &["1.6.22", "7.1", "8.1"]),
            (filter(Some("redis"), Some("5"), None, true), &["5.0.6"]),
            (filter(Some("redis"), Some("6.x"), None, true), &["6.2"]),
            (filter(None, None, Some("redis2.8"), true), &["2.8.24"]),
        ]);
    }

    #[test]
    fn family_mismatch_message() {
        assert!(family_mismatch("redis7", "redis7").is_none());
        let err = family_mismatch("redis7", "redis5.0").unwrap();
        assert_eq!(err.code(), "InvalidParameterCombination");
        assert_eq!(
            err.message(),
            "Expected a parameter group of family redis7 but found one of family redis5.0"
        );
    }
}
