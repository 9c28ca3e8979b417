//! XML encoding of responses by serialization (quick-xml + serde), never by templates.
//!
//! Success: `<OpResponse xmlns=NS><OpResult>..</OpResult><ResponseMetadata>..</ResponseMetadata>`
//! with the Result element first: aws-sdk-rust rejects other root or result names, and
//! botocore raises `KeyError` when the Result element is missing, so it is always emitted.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::error::ApiError;

pub const NAMESPACE: &str = "http://elasticache.amazonaws.com/doc/2015-02-02/";

/// A non-flattened XML list: `<Outer><Member>..</Member><Member>..</Member></Outer>`. The outer
/// name is the field's; `member` is the model's `locationName` (`member` when it has none).
#[derive(Debug, Clone)]
pub struct XmlList<T> {
    pub member: &'static str,
    pub items: Vec<T>,
}

impl<T> XmlList<T> {
    pub fn new(member: &'static str, items: Vec<T>) -> Self {
        Self { member, items }
    }
}

impl<T: Serialize> Serialize for XmlList<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut list = serializer.serialize_struct("XmlList", 1)?;
        list.serialize_field(self.member, &self.items)?;
        list.end()
    }
}

/// A timestamp as AWS writes it: `2017-03-30T14:39:14.295Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlTime(pub DateTime<Utc>);

impl Serialize for XmlTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

struct SuccessEnvelope<'a, R> {
    result_element: &'static str,
    result: &'a R,
    request_id: &'a str,
}

#[derive(Serialize)]
struct ResponseMetadata<'a> {
    #[serde(rename = "RequestId")]
    request_id: &'a str,
}

impl<R: Serialize> Serialize for SuccessEnvelope<'_, R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut envelope = serializer.serialize_struct("Envelope", 3)?;
        envelope.serialize_field("@xmlns", NAMESPACE)?;
        envelope.serialize_field(self.result_element, self.result)?;
        let metadata = ResponseMetadata {
            request_id: self.request_id,
        };
        envelope.serialize_field("ResponseMetadata", &metadata)?;
        envelope.end()
    }
}

/// Encodes a successful response; `action` is the Action name, e.g. `DescribeEvents`.
pub fn success_body<R: Serialize>(
    response_element: &str,
    result_element: &'static str,
    result: &R,
    request_id: &str,
) -> Result<String, ApiError> {
    let envelope = SuccessEnvelope {
        result_element,
        result,
        request_id,
    };
    // Sized for a typical response, so a large one grows a few times rather than many.
    let mut xml = String::with_capacity(16 * 1024);
    let serializer = quick_xml::se::Serializer::with_root(&mut xml, Some(response_element))
        .map_err(|e| ApiError::InternalFailure(format!("could not encode the response: {e}")))?;
    envelope
        .serialize(serializer)
        .map(|_| xml_safe(xml))
        .map_err(|e| ApiError::InternalFailure(format!("could not encode the response: {e}")))
}

/// XML 1.0 cannot carry most control characters, not even as character references, so a value
/// that holds one (a description with `\x14`, a NUL in an id echoed by an error) would make the
/// whole document unparseable for every client. They become U+FFFD.
pub(super) fn xml_safe(xml: String) -> String {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
    };
    // The common case, checked by bytes: a C0 control is one byte in UTF-8, and U+FFFE/U+FFFF
    // are the only other characters to replace.
    let has_control = xml
        .bytes()
        .any(|b| b < b' ' && !matches!(b, b'\t' | b'\n' | b'\r'));
    if !has_control && !xml.contains(['\u{FFFE}', '\u{FFFF}']) {
        return xml;
    }
    xml.chars()
        .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
        .collect()
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "Error")]
    error: ErrorBody<'a>,
    #[serde(rename = "RequestId")]
    request_id: &'a str,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "Type")]
    fault_type: &'static str,
    #[serde(rename = "Code")]
    code: &'static str,
    #[serde(rename = "Message")]
    message: &'a str,
}

/// Encodes `ErrorResponse/Error/{Type,Code,Message}` + `RequestId` (a direct child of
/// `ErrorResponse`, not inside `ResponseMetadata`, as AWS sends it).
pub fn error_body(error: &ApiError, request_id: &str) -> String {
    error_body_of(
        error.fault_type(),
        error.code(),
        error.message(),
        request_id,
    )
}

/// The same envelope for the HTTP-level errors that are no [`ApiError`] (404, 405, 413, 431).
pub fn error_body_of(
    fault_type: &'static str,
    code: &'static str,
    message: &str,
    request_id: &str,
) -> String {
    let envelope = ErrorEnvelope {
        xmlns: NAMESPACE,
        error: ErrorBody {
            fault_type,
            code,
            message,
        },
        request_id,
    };
    // The envelope holds only strings, which always serialize; the fallback is never reached
    // but keeps this path free of panics.
    quick_xml::se::to_string_with_root("ErrorResponse", &envelope)
        .map(xml_safe)
        .unwrap_or_else(|_| String::from("<ErrorResponse/>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Sample {
        #[serde(rename = "Marker", skip_serializing_if = "Option::is_none")]
        marker: Option<String>,
        #[serde(rename = "MemberClusters")]
        members: XmlList<String>,
    }

    #[test]
    fn success_puts_the_result_before_the_metadata() {
        let result = Sample {
            marker: None,
            members: XmlList::new("ClusterId", vec!["a-001".into(), "a-002".into()]),
        };
        let body = success_body(
            "DescribeThingsResponse",
            "DescribeThingsResult",
            &result,
            "rid",
        )
        .unwrap();
        assert_eq!(
            body,
            "<DescribeThingsResponse xmlns=\"http://elasticache.amazonaws.com/doc/2015-02-02/\">\
<DescribeThingsResult><MemberClusters><ClusterId>a-001</ClusterId><ClusterId>a-002</ClusterId></MemberClusters></DescribeThingsResult>\
<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></DescribeThingsResponse>"
        );
    }

    #[test]
    fn errors_escape_their_message_and_carry_the_request_id_at_the_top() {
        let body = error_body(&ApiError::InvalidParameterValue("a < b & c".into()), "rid");
        assert_eq!(
            body,
            "<ErrorResponse xmlns=\"http://elasticache.amazonaws.com/doc/2015-02-02/\">\
<Error><Type>Sender</Type><Code>InvalidParameterValue</Code><Message>a &lt; b &amp; c</Message></Error>\
<RequestId>rid</RequestId></ErrorResponse>"
        );
    }

    #[test]
    fn control_characters_never_reach_the_document() {
        let body = error_body(
            &ApiError::InvalidParameterValue("a\u{14}b\u{0}c\td".into()),
            "rid",
        );
        assert!(
            body.contains("<Message>a\u{FFFD}b\u{FFFD}c\td</Message>"),
            "{body}"
        );
        let result = Sample {
            marker: Some("x\u{1}".into()),
            members: XmlList::new("ClusterId", vec![]),
        };
        let ok = success_body("R", "RResult", &result, "rid").unwrap();
        assert!(ok.contains("<Marker>x\u{FFFD}</Marker>"), "{ok}");
    }

    #[test]
    fn times_have_milliseconds_and_a_z() {
        let time = DateTime::parse_from_rfc3339("2017-03-30T14:39:14.295123Z")
            .unwrap()
            .with_timezone(&Utc);
        #[derive(Serialize)]
        struct T {
            #[serde(rename = "Date")]
            date: XmlTime,
        }
        let body = quick_xml::se::to_string_with_root(
            "E",
            &T {
                date: XmlTime(time),
            },
        )
        .unwrap();
        assert_eq!(body, "<E><Date>2017-03-30T14:39:14.295Z</Date></E>");
    }
}
