//! A toxic as the API describes it: Toxiproxy's `{name, type, stream, toxicity, attributes}`,
//! parsed with Toxiproxy's defaults and errors.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::registry::ToxicsError;

/// Which way the toxic acts: `upstream` is client to node, `downstream` node to client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Upstream,
    Downstream,
}

impl Stream {
    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "upstream" => Some(Self::Upstream),
            "downstream" => Some(Self::Downstream),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upstream => "upstream",
            Self::Downstream => "downstream",
        }
    }
}

/// `latency` ms added to each chunk, plus or minus up to `jitter` ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LatencyAttrs {
    pub latency: i64,
    pub jitter: i64,
}

/// At most `rate` KB/s (1 KB = 1000 bytes, as Toxiproxy counts); 0 or less is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BandwidthAttrs {
    pub rate: i64,
}

/// Drop all data; close the connection after `timeout` ms (never when 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimeoutAttrs {
    pub timeout: i64,
}

/// On the first data, wait `timeout` ms, then reset the connection (TCP RST).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ResetPeerAttrs {
    pub timeout: i64,
}

/// Slice data into pieces of about `average_size` bytes (± `size_variation`), `delay` us apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlicerAttrs {
    pub average_size: i64,
    pub size_variation: i64,
    pub delay: i64,
}

/// Close the connection once `bytes` bytes have gone through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitDataAttrs {
    pub bytes: i64,
}

/// Delay the close by `delay` ms once the source has closed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SlowCloseAttrs {
    pub delay: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToxicKind {
    Latency(LatencyAttrs),
    Bandwidth(BandwidthAttrs),
    Timeout(TimeoutAttrs),
    ResetPeer(ResetPeerAttrs),
    Slicer(SlicerAttrs),
    LimitData(LimitDataAttrs),
    SlowClose(SlowCloseAttrs),
}

impl ToxicKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Latency(_) => "latency",
            Self::Bandwidth(_) => "bandwidth",
            Self::Timeout(_) => "timeout",
            Self::ResetPeer(_) => "reset_peer",
            Self::Slicer(_) => "slicer",
            Self::LimitData(_) => "limit_data",
            Self::SlowClose(_) => "slow_close",
        }
    }

    /// The attributes of `type_name` from `attributes` (absent fields are 0, unknown ones are
    /// ignored, as Go's decoder does); `None` for an unknown type.
    pub fn parse(type_name: &str, attributes: &Value) -> Option<Result<Self, ToxicsError>> {
        fn attrs<T: for<'de> Deserialize<'de>>(value: &Value) -> Result<T, ToxicsError> {
            let value = if value.is_null() {
                json!({})
            } else {
                value.clone()
            };
            serde_json::from_value(value).map_err(|e| ToxicsError::BadRequestBody(e.to_string()))
        }
        let kind = match type_name {
            "latency" => attrs(attributes).map(Self::Latency),
            "bandwidth" => attrs(attributes).map(Self::Bandwidth),
            "timeout" => attrs(attributes).map(Self::Timeout),
            "reset_peer" => attrs(attributes).map(Self::ResetPeer),
            "slicer" => attrs(attributes).map(Self::Slicer),
            "limit_data" => attrs(attributes).map(Self::LimitData),
            "slow_close" => attrs(attributes).map(Self::SlowClose),
            _ => return None,
        };
        Some(kind)
    }

    pub fn attributes(&self) -> Value {
        let value = match self {
            Self::Latency(a) => serde_json::to_value(a),
            Self::Bandwidth(a) => serde_json::to_value(a),
            Self::Timeout(a) => serde_json::to_value(a),
            Self::ResetPeer(a) => serde_json::to_value(a),
            Self::Slicer(a) => serde_json::to_value(a),
            Self::LimitData(a) => serde_json::to_value(a),
            Self::SlowClose(a) => serde_json::to_value(a),
        };
        value.unwrap_or_else(|_| json!({}))
    }
}

/// One toxic of one proxy. `id` is unique for the server's life and `revision` counts
/// updates, so a live connection can tell a new toxic from an updated one.
#[derive(Debug, Clone, PartialEq)]
pub struct ToxicSpec {
    pub id: u64,
    pub revision: u64,
    pub name: String,
    pub kind: ToxicKind,
    pub stream: Stream,
    pub toxicity: f32,
}

impl ToxicSpec {
    /// Toxiproxy's JSON for a toxic.
    pub fn to_json(&self) -> Value {
        json!({
            "attributes": self.kind.attributes(),
            "name": self.name,
            "type": self.kind.type_name(),
            "stream": self.stream.as_str(),
            "toxicity": self.toxicity,
        })
    }
}

/// What a create request asks for, checked in Toxiproxy's order: body, stream, name, type.
#[derive(Debug, Clone, PartialEq)]
pub struct NewToxic {
    pub name: String,
    pub kind: ToxicKind,
    pub stream: Stream,
    pub toxicity: f32,
}

#[derive(Deserialize)]
struct CreateBody {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    type_name: String,
    #[serde(default = "default_stream")]
    stream: String,
    #[serde(default = "default_toxicity")]
    toxicity: f32,
    #[serde(default)]
    attributes: Value,
}

fn default_stream() -> String {
    "downstream".into()
}

fn default_toxicity() -> f32 {
    1.0
}

pub fn parse_create(body: &[u8]) -> Result<NewToxic, ToxicsError> {
    let body: CreateBody =
        serde_json::from_slice(body).map_err(|e| ToxicsError::BadRequestBody(e.to_string()))?;
    let stream = Stream::parse(&body.stream).ok_or(ToxicsError::InvalidStream)?;
    let name = if body.name.is_empty() {
        format!("{}_{}", body.type_name, body.stream)
    } else {
        body.name
    };
    let kind = ToxicKind::parse(&body.type_name, &body.attributes)
        .ok_or(ToxicsError::InvalidToxicType)??;
    Ok(NewToxic {
        name,
        kind,
        stream,
        toxicity: body.toxicity,
    })
}

/// An update: `attributes` given are laid over the current ones, `toxicity` kept if absent.
pub fn parse_update(current: &ToxicSpec, body: &[u8]) -> Result<(ToxicKind, f32), ToxicsError> {
    #[derive(Deserialize)]
    struct UpdateBody {
        #[serde(default)]
        attributes: Option<Map<String, Value>>,
        #[serde(default)]
        toxicity: Option<f32>,
    }
    let body: UpdateBody =
        serde_json::from_slice(body).map_err(|e| ToxicsError::BadRequestBody(e.to_string()))?;
    let mut attributes = current.kind.attributes();
    if let (Some(given), Some(merged)) = (body.attributes, attributes.as_object_mut()) {
        merged.extend(given);
    }
    let kind =
        ToxicKind::parse(current.kind.type_name(), &attributes).unwrap_or(Ok(current.kind))?;
    Ok((kind, body.toxicity.unwrap_or(current.toxicity)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_defaults_follow_toxiproxy() {
        let toxic = parse_create(br#"{"type":"latency","attributes":{"latency":100}}"#).unwrap();
        assert_eq!(toxic.name, "latency_downstream");
        assert_eq!(toxic.stream, Stream::Downstream);
        assert_eq!(toxic.toxicity, 1.0);
        assert_eq!(
            toxic.kind,
            ToxicKind::Latency(LatencyAttrs {
                latency: 100,
                jitter: 0
            })
        );
    }

    #[test]
    fn create_errors_in_toxiproxy_order() {
        assert!(matches!(
            parse_create(b"{"),
            Err(ToxicsError::BadRequestBody(_))
        ));
        assert_eq!(
            parse_create(br#"{"type":"nope","stream":"sideways"}"#),
            Err(ToxicsError::InvalidStream)
        );
        assert_eq!(
            parse_create(br#"{"type":"nope"}"#),
            Err(ToxicsError::InvalidToxicType)
        );
        assert!(matches!(
            parse_create(br#"{"type":"latency","attributes":{"latency":"x"}}"#),
            Err(ToxicsError::BadRequestBody(_))
        ));
    }

    #[test]
    fn update_lays_attributes_over_the_current_ones() {
        let current = ToxicSpec {
            id: 1,
            revision: 0,
            name: "l".into(),
            kind: ToxicKind::Latency(LatencyAttrs {
                latency: 100,
                jitter: 5,
            }),
            stream: Stream::Upstream,
            toxicity: 0.5,
        };
        let (kind, toxicity) = parse_update(&current, br#"{"attributes":{"jitter":7}}"#).unwrap();
        assert_eq!(
            kind,
            ToxicKind::Latency(LatencyAttrs {
                latency: 100,
                jitter: 7
            })
        );
        assert_eq!(toxicity, 0.5);
    }
}
