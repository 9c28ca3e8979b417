//! The `Version` parameter every query request carries (`2015-02-02`, the one API version
//! of ElastiCache).
//!
//! - A wrong version: AWS's query services (SES, RDS: the same front as ElastiCache) answer
//!   `InvalidAction` "Could not find operation X for version Y", HTTP 400 [seen in the wild:
//!   aws/aws-cli#37 for SES, aws-sdk-core-ruby#164 for RDS]; ElastiCache is answered the same.
//! - No version: we answer `MissingParameter` ("The request must contain the parameter
//!   Version."), the common-errors code for a missing required parameter [inferred: the
//!   spec records no captured answer for this case].

use super::{ApiError, QueryParams};

pub const API_VERSION: &str = "2015-02-02";

pub fn check(params: &QueryParams, action: &str) -> Result<(), ApiError> {
    match params.optional("Version") {
        Some(API_VERSION) => Ok(()),
        None | Some("") => Err(ApiError::missing_parameter("Version")),
        Some(other) => Err(ApiError::InvalidAction(format!(
            "Could not find operation {action} for version {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_one_version_passes() {
        let params = |q: &str| QueryParams::decode(Some(q), b"");
        assert!(check(&params("Version=2015-02-02"), "DescribeEvents").is_ok());
        let missing = check(&params("Action=DescribeEvents"), "DescribeEvents").unwrap_err();
        assert_eq!(missing.code(), "MissingParameter");
        let wrong = check(&params("Version=2014-01-01"), "DescribeEvents").unwrap_err();
        assert_eq!(wrong.code(), "InvalidAction");
        assert!(
            wrong
                .message()
                .contains("Could not find operation DescribeEvents for version 2014-01-01")
        );
    }
}
