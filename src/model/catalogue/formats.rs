//! The formats AWS gives input identifiers: VPC security group ids, KMS keys, SNS topic ARNs,
//! and the network type / IP discovery pair with its combination rule. Each check names the
//! member and the value in its error.

use crate::protocol::ApiError;

fn hex(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn invalid(member: &str, value: &str, expected: &str) -> ApiError {
    ApiError::InvalidParameterValue(format!(
        "Invalid value '{value}' for {member}: it must be {expected}."
    ))
}

/// `sg-` and 8 or 17 lowercase hexadecimal digits (EC2's two id lengths).
pub fn check_security_group_id(value: &str) -> Result<(), ApiError> {
    match value.strip_prefix("sg-") {
        Some(digits) if hex(digits) && matches!(digits.len(), 8 | 17) => Ok(()),
        _ => Err(invalid(
            "SecurityGroupIds",
            value,
            "a security group id: sg- followed by 8 or 17 hexadecimal digits",
        )),
    }
}

fn uuid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && hex(&p.to_ascii_lowercase()))
}

/// A key id (a UUID, or `mrk-` and 32 hex digits for a multi-Region key).
fn key_id(text: &str) -> bool {
    uuid(text)
        || text
            .strip_prefix("mrk-")
            .is_some_and(|h| h.len() == 32 && hex(h))
}

fn alias_name(text: &str) -> bool {
    text.strip_prefix("alias/").is_some_and(|name| {
        (1..=250).contains(&name.len())
            && !name.starts_with("aws/")
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b))
    })
}

/// `arn:<partition>:<service>:<region>:<12-digit account>:<resource>`; the resource or None.
fn arn_resource<'a>(text: &'a str, service: &str) -> Option<&'a str> {
    let mut parts = text.splitn(6, ':');
    let (arn, partition, svc, region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (arn == "arn" && partition.starts_with("aws") && svc == service && region_ok && account_ok)
        .then_some(resource)
}

/// A KMS key as AWS accepts one: key id, key ARN, alias name or alias ARN.
pub fn check_kms_key_id(value: &str) -> Result<(), ApiError> {
    let ok = key_id(value)
        || alias_name(value)
        || arn_resource(value, "kms")
            .is_some_and(|r| r.strip_prefix("key/").is_some_and(key_id) || alias_name(r));
    if ok {
        return Ok(());
    }
    Err(invalid(
        "KmsKeyId",
        value,
        "a KMS key id, key ARN, alias name (alias/...) or alias ARN",
    ))
}

/// An SNS topic ARN: `arn:aws:sns:<region>:<account>:<topic>`, the topic 1-256 letters,
/// digits, hyphens and underscores (`.fifo` allowed at the end).
pub fn check_topic_arn(value: &str) -> Result<(), ApiError> {
    let topic = arn_resource(value, "sns").map(|t| t.strip_suffix(".fifo").unwrap_or(t));
    match topic {
        Some(t)
            if (1..=256).contains(&t.len())
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)) =>
        {
            Ok(())
        }
        _ => Err(invalid(
            "NotificationTopicArn",
            value,
            "an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)",
        )),
    }
}

/// `NetworkType` (ipv4, ipv6, dual_stack) and `IpDiscovery` (ipv4, ipv6), each as given, and
/// their combination as AWS documents it: an ipv6 network discovers over ipv6, an ipv4 one
/// over ipv4; dual_stack may use either.
pub fn check_network(
    network_type: Option<&str>,
    ip_discovery: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(value) = network_type.filter(|v| !["ipv4", "ipv6", "dual_stack"].contains(v)) {
        return Err(invalid(
            "NetworkType",
            value,
            "one of ipv4, ipv6, dual_stack",
        ));
    }
    if let Some(value) = ip_discovery.filter(|v| !["ipv4", "ipv6"].contains(v)) {
        return Err(invalid("IpDiscovery", value, "one of ipv4, ipv6"));
    }
    match (network_type, ip_discovery) {
        (Some("ipv4"), Some("ipv6")) | (Some("ipv6"), Some("ipv4")) => {
            Err(ApiError::InvalidParameterCombination(format!(
                "IpDiscovery {} is not supported with NetworkType {}: only dual_stack may discover over either protocol.",
                ip_discovery.unwrap_or_default(),
                network_type.unwrap_or_default()
            )))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_group_ids_are_sg_and_8_or_17_hex_digits() {
        for good in ["sg-0123abcd", "sg-0123456789abcdef0"] {
            assert!(check_security_group_id(good).is_ok(), "{good}");
        }
        for bad in [
            "sg-0123",
            "sg-0123ABCD",
            "sg-0123abcg",
            "0123abcd",
            "sg-0123456789abcdef",
            "",
        ] {
            let error = check_security_group_id(bad).unwrap_err();
            assert_eq!(error.code(), "InvalidParameterValue", "{bad}");
            assert!(error.message().contains(&format!("'{bad}'")), "{bad}");
        }
    }

    #[test]
    fn kms_keys_are_ids_arns_or_aliases() {
        for good in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "alias/my-key",
            "arn:aws:kms:us-east-1:123456789012:alias/my-key",
        ] {
            assert!(check_kms_key_id(good).is_ok(), "{good}");
        }
        for bad in [
            "my-key",
            "1234abcd-12ab-34cd-56ef",
            "arn:aws:kms:us-east-1:1234:key/x",
            "alias/",
            "arn:aws:s3:::bucket",
        ] {
            assert_eq!(
                check_kms_key_id(bad).unwrap_err().code(),
                "InvalidParameterValue",
                "{bad}"
            );
        }
    }

    #[test]
    fn topic_arns_are_sns_topics() {
        assert!(check_topic_arn("arn:aws:sns:us-east-1:123456789012:cache-events").is_ok());
        assert!(check_topic_arn("arn:aws:sns:us-east-1:123456789012:t.fifo").is_ok());
        for bad in [
            "cache-events",
            "arn:aws:sqs:us-east-1:123456789012:q",
            "arn:aws:sns:us-east-1:12:t",
            "arn:aws:sns:us-east-1:123456789012:a b",
        ] {
            assert_eq!(
                check_topic_arn(bad).unwrap_err().code(),
                "InvalidParameterValue",
                "{bad}"
            );
        }
    }

    #[test]
    fn network_type_and_ip_discovery_values_and_combinations() {
        assert!(check_network(Some("dual_stack"), Some("ipv6")).is_ok());
        assert!(check_network(Some("ipv4"), Some("ipv4")).is_ok());
        assert!(check_network(None, None).is_ok());
        assert_eq!(
            check_network(Some("ipv5"), None).unwrap_err().code(),
            "InvalidParameterValue"
        );
        assert_eq!(
            check_network(None, Some("dual_stack")).unwrap_err().code(),
            "InvalidParameterValue"
        );
        assert_eq!(
            check_network(Some("ipv4"), Some("ipv6"))
                .unwrap_err()
                .code(),
            "InvalidParameterCombination"
        );
        assert_eq!(
            check_network(Some("ipv6"), Some("ipv4"))
                .unwrap_err()
                .code(),
            "InvalidParameterCombination"
        );
    }
}
