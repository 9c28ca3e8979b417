//! Decoding of awsQuery requests: `Action=...&Version=...&Param.Member.N=...`, from a query
//! string and/or a form body, into typed values. Every malformed value becomes the AWS error
//! it would get from AWS, never a panic.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::error::ApiError;

/// The decoded parameters of one request. Keys are case-sensitive, as AWS's are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryParams {
    values: BTreeMap<String, String>,
}

impl QueryParams {
    /// Decodes a query string and a form body; a body value wins over the query string's.
    pub fn decode(query: Option<&str>, body: &[u8]) -> Self {
        let mut values = BTreeMap::new();
        let query_pairs = form_urlencoded::parse(query.unwrap_or("").as_bytes());
        for (key, value) in query_pairs.chain(form_urlencoded::parse(body)) {
            values.insert(key.into_owned(), value.into_owned());
        }
        Self { values }
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let values = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self { values }
    }

    /// The same parameters with `extra` added (a value already given is kept).
    pub fn with_defaults<K: Into<String>, V: Into<String>>(
        &self,
        extra: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut values = self.values.clone();
        for (key, value) in extra {
            values.entry(key.into()).or_insert_with(|| value.into());
        }
        Self { values }
    }

    /// Every (key, value) pair, keys in order: for checks that apply to a member wherever it
    /// is nested (`NodeGroupConfiguration.NodeGroupConfiguration.2.PrimaryAvailabilityZone`).
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether the request sends member `name` in any form: the value itself, or any key of
    /// a list or structure under it (`Name.Member.1.Field`).
    pub fn has(&self, name: &str) -> bool {
        self.values.keys().any(|key| {
            key.strip_prefix(name)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
    }

    pub fn optional(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        match self.optional(name) {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(ApiError::missing_parameter(name)),
        }
    }

    /// A boolean: botocore sends exactly `true` or `false`.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.optional(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(invalid_value(name, other, "a boolean (true or false)")),
        }
    }

    /// An integer within `min..=max`.
    pub fn int_in(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        let Some(raw) = self.optional(name) else {
            return Ok(None);
        };
        let value: i64 = raw
            .trim()
            .parse()
            .map_err(|_| invalid_value(name, raw, "an integer"))?;
        if value < min || value > max {
            return Err(ApiError::InvalidParameterValue(format!(
                "Invalid value {value} for {name}: it must be between {min} and {max}."
            )));
        }
        Ok(Some(value))
    }

    /// An ISO-8601 timestamp (botocore sends UTC with `Z`; offsets and a bare UTC time also pass).
    pub fn timestamp(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        let Some(raw) = self.optional(name) else {
            return Ok(None);
        };
        if let Ok(parsed) = DateTime::parse_from_rfc3339(raw) {
            return Ok(Some(parsed.with_timezone(&Utc)));
        }
        for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
            if let Ok(naive) = NaiveDateTime::parse_from_str(raw, format) {
                return Ok(Some(naive.and_utc()));
            }
        }
        if let Ok(date) = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            return Ok(date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
        }
        Err(invalid_value(name, raw, "an ISO-8601 timestamp"))
    }

    /// A list of scalars sent as `Name.Member.1`, `Name.Member.2`, ...; the bare key `Name=`
    /// means an empty list. Indices are ordered numerically, so `.10` follows `.9`.
    pub fn list(&self, name: &str, member: &str) -> Result<Vec<String>, ApiError> {
        let prefix = format!("{name}.{member}.");
        let mut items = Vec::new();
        for (key, value) in self.values.range(prefix.clone()..) {
            let Some(index) = key.strip_prefix(&prefix) else {
                break;
            };
            if index.contains('.') {
                continue;
            }
            items.push((parse_index(name, index)?, value.clone()));
        }
        items.sort_by_key(|(index, _)| *index);
        Ok(items.into_iter().map(|(_, value)| value).collect())
    }

    /// A list of structures: `Name.Member.N.Field=value` becomes one `QueryParams` per N with
    /// the `Field` keys, in index order.
    pub fn struct_list(&self, name: &str, member: &str) -> Result<Vec<QueryParams>, ApiError> {
        let prefix = format!("{name}.{member}.");
        let mut by_index: BTreeMap<u32, QueryParams> = BTreeMap::new();
        for (key, value) in self.values.range(prefix.clone()..) {
            let Some(rest) = key.strip_prefix(&prefix) else {
                break;
            };
            let Some((index, field)) = rest.split_once('.') else {
                continue;
            };
            let entry = by_index.entry(parse_index(name, index)?).or_default();
            entry.values.insert(field.to_string(), value.clone());
        }
        Ok(by_index.into_values().collect())
    }
}

fn parse_index(name: &str, index: &str) -> Result<u32, ApiError> {
    match index.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(ApiError::InvalidParameterValue(format!(
            "Invalid list index '{index}' in parameter {name}: indices start at 1."
        ))),
    }
}

/// The error for a value that does not parse as the type the model gives it.
pub fn invalid_value(name: &str, value: &str, expected: &str) -> ApiError {
    ApiError::InvalidParameterValue(format!(
        "Invalid value '{value}' for parameter {name}: expected {expected}."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_is_seen_in_any_of_its_forms() {
        let params = QueryParams::from_pairs([
            (
                "LogDeliveryConfigurations.LogDeliveryConfigurationRequest.1.LogType",
                "slow-log",
            ),
            ("ScaleConfig", "x"),
            ("PreferredOutpostArns.PreferredOutpostArn.1", "arn"),
        ]);
        assert!(params.has("LogDeliveryConfigurations"));
        assert!(params.has("ScaleConfig"));
        assert!(params.has("PreferredOutpostArns"));
        // A name that only starts the same is another member.
        assert!(!params.has("PreferredOutpostArn"));
        assert!(!params.has("LogDelivery"));
    }

    #[test]
    fn body_and_query_string_are_both_read_and_lists_keep_numeric_order() {
        let body = b"Action=CreateReplicationGroup&PreferredCacheClusterAZs.AvailabilityZone.10=j\
&PreferredCacheClusterAZs.AvailabilityZone.2=b&PreferredCacheClusterAZs.AvailabilityZone.1=a";
        let params = QueryParams::decode(Some("Version=2015-02-02"), body);
        assert_eq!(params.optional("Version"), Some("2015-02-02"));
        let azs = params
            .list("PreferredCacheClusterAZs", "AvailabilityZone")
            .unwrap();
        assert_eq!(azs, ["a", "b", "j"]);
    }

    #[test]
    fn an_empty_list_is_sent_as_the_bare_key() {
        let params = QueryParams::decode(None, b"SecurityGroupIds=");
        assert!(
            params
                .list("SecurityGroupIds", "SecurityGroupId")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn struct_lists_group_fields_by_index() {
        let params = QueryParams::decode(
            None,
            b"Tags.Tag.2.Key=b&Tags.Tag.1.Key=a&Tags.Tag.1.Value=1",
        );
        let tags = params.struct_list("Tags", "Tag").unwrap();
        assert_eq!(tags.len(), 2);
        assert_eq!(tags[0].optional("Key"), Some("a"));
        assert_eq!(tags[0].optional("Value"), Some("1"));
        assert_eq!(tags[1].optional("Value"), None);
    }

    #[test]
    fn only_lowercase_true_and_false_are_booleans() {
        let params = QueryParams::decode(None, b"A=true&B=false&C=True");
        assert_eq!(params.bool("A").unwrap(), Some(true));
        assert_eq!(params.bool("B").unwrap(), Some(false));
        assert_eq!(
            params.bool("C").unwrap_err().code(),
            "InvalidParameterValue"
        );
    }

    #[test]
    fn integers_are_range_checked() {
        let params = QueryParams::decode(None, b"MaxRecords=19&Other=x");
        assert_eq!(
            params.int_in("MaxRecords", 20, 100).unwrap_err().code(),
            "InvalidParameterValue"
        );
        assert_eq!(
            params.int_in("Other", 0, 1).unwrap_err().code(),
            "InvalidParameterValue"
        );
        assert_eq!(params.int_in("Absent", 0, 1).unwrap(), None);
    }

    #[test]
    fn timestamps_accept_botocore_forms() {
        let params = QueryParams::decode(
            None,
            b"A=2024-01-02T03:04:05Z&B=2024-01-02T03:04:05.123456Z&C=yesterday",
        );
        assert_eq!(
            params.timestamp("A").unwrap().unwrap().to_rfc3339(),
            "2024-01-02T03:04:05+00:00"
        );
        assert!(params.timestamp("B").unwrap().is_some());
        assert_eq!(
            params.timestamp("C").unwrap_err().code(),
            "InvalidParameterValue"
        );
    }

    #[test]
    fn a_bad_list_index_is_an_invalid_value_not_a_panic() {
        let params = QueryParams::decode(None, b"Tags.Tag.x.Key=a&L.M.0=z");
        assert_eq!(
            params.struct_list("Tags", "Tag").unwrap_err().code(),
            "InvalidParameterValue"
        );
        assert_eq!(
            params.list("L", "M").unwrap_err().code(),
            "InvalidParameterValue"
        );
    }
}
