//! `LogDeliveryConfigurations` of CreateReplicationGroup, checked against the botocore model's
//! enums (log types `slow-log`/`engine-log`, destinations `cloudwatch-logs`/`kinesis-firehose`,
//! formats `text`/`json`), stored on the group and reported by DescribeReplicationGroups with
//! the status AWS gives a configured delivery (`active`).

use serde::Serialize;

use crate::model::group::LogDelivery;
use crate::protocol::query::invalid_value;
use crate::protocol::{ApiError, QueryParams};

const LOG_TYPES: [&str; 2] = ["slow-log", "engine-log"];
const FORMATS: [&str; 2] = ["text", "json"];

/// Each enabled `LogDeliveryConfigurationRequest`, at most one per log type.
pub(super) fn parse(params: &QueryParams) -> Result<Vec<LogDelivery>, ApiError> {
    let mut deliveries: Vec<LogDelivery> = Vec::new();
    let requests = params.struct_list(
        "LogDeliveryConfigurations",
        "LogDeliveryConfigurationRequest",
    )?;
    for request in requests {
        if request.bool("Enabled")? == Some(false) {
            continue; // a disabled configuration on a new group: none to deliver
        }
        let delivery = parse_one(&request)?;
        if deliveries.iter().any(|d| d.log_type == delivery.log_type) {
            return Err(ApiError::InvalidParameterCombination(format!(
                "Only one log delivery configuration per log type: {} is configured twice.",
                delivery.log_type
            )));
        }
        deliveries.push(delivery);
    }
    Ok(deliveries)
}

fn one_of(request: &QueryParams, name: &str, allowed: &[&str]) -> Result<String, ApiError> {
    let value = request.required(name)?;
    match allowed.contains(&value) {
        true => Ok(value.to_string()),
        false => Err(invalid_value(name, value, &allowed.join(" or "))),
    }
}

fn parse_one(request: &QueryParams) -> Result<LogDelivery, ApiError> {
    let log_type = one_of(request, "LogType", &LOG_TYPES)?;
    let log_format = one_of(request, "LogFormat", &FORMATS)?;
    let destination_type = request.required("DestinationType")?;
    let detail = match destination_type {
        "cloudwatch-logs" => "DestinationDetails.CloudWatchLogsDetails.LogGroup",
        "kinesis-firehose" => "DestinationDetails.KinesisFirehoseDetails.DeliveryStream",
        other => {
            return Err(invalid_value(
                "DestinationType",
                other,
                "cloudwatch-logs or kinesis-firehose",
            ));
        }
    };
    let destination = request.optional(detail).filter(|d| !d.is_empty());
    let destination = destination.ok_or_else(|| {
        ApiError::InvalidParameterValue(format!(
            "DestinationDetails of a {destination_type} log delivery must name its {}.",
            detail.rsplit('.').next().unwrap_or(detail)
        ))
    })?;
    Ok(LogDelivery {
        log_type,
        destination_type: destination_type.to_string(),
        destination: destination.to_string(),
        log_format,
    })
}

/// `LogDeliveryConfiguration` as DescribeReplicationGroups reports it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogDeliveryShape {
    log_type: String,
    destination_type: String,
    destination_details: DestinationDetails,
    log_format: String,
    status: &'static str,
}

#[derive(Serialize)]
pub struct DestinationDetails {
    #[serde(
        rename = "CloudWatchLogsDetails",
        skip_serializing_if = "Option::is_none"
    )]
    cloudwatch: Option<Named>,
    #[serde(
        rename = "KinesisFirehoseDetails",
        skip_serializing_if = "Option::is_none"
    )]
    firehose: Option<Named>,
}

#[derive(Serialize)]
pub struct Named {
    #[serde(rename = "LogGroup", skip_serializing_if = "Option::is_none")]
    log_group: Option<String>,
    #[serde(rename = "DeliveryStream", skip_serializing_if = "Option::is_none")]
    delivery_stream: Option<String>,
}

impl LogDeliveryShape {
    pub fn from_model(delivery: &LogDelivery) -> Self {
        let name = Some(delivery.destination.clone());
        let cloudwatch = delivery.destination_type == "cloudwatch-logs";
        let destination_details = match cloudwatch {
            true => DestinationDetails {
                cloudwatch: Some(Named {
                    log_group: name,
                    delivery_stream: None,
                }),
                firehose: None,
            },
            false => DestinationDetails {
                cloudwatch: None,
                firehose: Some(Named {
                    log_group: None,
                    delivery_stream: name,
                }),
            },
        };
        Self {
            log_type: delivery.log_type.clone(),
            destination_type: delivery.destination_type.clone(),
            destination_details,
            log_format: delivery.log_format.clone(),
            status: "active",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::protocol::QueryParams;

    const PREFIX: &str = "LogDeliveryConfigurations.LogDeliveryConfigurationRequest.1.";

    fn request(fields: &[(&str, &str)]) -> QueryParams {
        QueryParams::from_pairs(fields.iter().map(|(k, v)| (format!("{PREFIX}{k}"), *v)))
    }

    #[test]
    fn a_delivery_needs_the_model_enums_and_its_destination() {
        let good = [
            ("LogType", "slow-log"),
            ("DestinationType", "cloudwatch-logs"),
            (
                "DestinationDetails.CloudWatchLogsDetails.LogGroup",
                "my-group",
            ),
            ("LogFormat", "json"),
        ];
        let parsed = parse(&request(&good)).unwrap();
        assert_eq!(parsed[0].destination, "my-group");
        for (index, bad) in ["audit-log", "s3", "", "yaml"].iter().enumerate() {
            let mut fields = good.to_vec();
            fields[index].1 = bad;
            let error = parse(&request(&fields)).unwrap_err();
            assert_eq!(error.code(), "InvalidParameterValue", "{bad}");
        }
        let mut disabled = good.to_vec();
        disabled.push(("Enabled", "false"));
        assert!(parse(&request(&disabled)).unwrap().is_empty());
    }
}
