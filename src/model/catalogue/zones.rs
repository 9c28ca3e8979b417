//! Availability zones: each region has the zones `<region>a` to `<region>f` here (AWS regions
//! have three to six; the nodes place themselves in these, see `subnet_group::zone_of`). A zone
//! of another region, or no zone at all, is refused naming the member and the value.

use crate::protocol::ApiError;

/// The zone letters a region has locally.
pub const ZONE_LETTERS: [char; 6] = ['a', 'b', 'c', 'd', 'e', 'f'];

/// Whether `zone` is a zone of `region`.
pub fn is_zone_of(zone: &str, region: &str) -> bool {
    let Some(letter) = zone.strip_prefix(region) else {
        return false;
    };
    let mut chars = letter.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if ZONE_LETTERS.contains(&c))
}

/// `member`'s value `zone` must be a zone of the request's region.
pub fn check(member: &str, zone: &str, region: &str) -> Result<(), ApiError> {
    if is_zone_of(zone, region) {
        return Ok(());
    }
    Err(ApiError::InvalidParameterValue(format!(
        "Invalid availability zone '{zone}' for {member}: not an availability zone of region {region} ({region}a to {region}f)."
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_a_to_f_of_the_request_region() {
        for good in ["us-east-1a", "us-east-1f"] {
            assert!(check("PreferredAvailabilityZone", good, "us-east-1").is_ok());
        }
        for bad in [
            "us-east-1g",
            "us-west-2a",
            "us-east-1",
            "us-east-1aa",
            "bogus",
            "",
        ] {
            let error = check("PreferredAvailabilityZone", bad, "us-east-1").unwrap_err();
            assert_eq!(error.code(), "InvalidParameterValue");
            assert!(error.message().contains(&format!("'{bad}'")), "{bad}");
            assert!(error.message().contains("PreferredAvailabilityZone"));
        }
    }
}
