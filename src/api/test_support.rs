//! What the actions' unit tests share: an `AppState` over a given model, with no nodes.

use std::sync::Arc;
use std::time::Duration;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::{Action, Respond};
use crate::engine::Engine;
use crate::model::{Model, SystemClock};
use crate::protocol::xml::XmlList;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{AppState, FailoverTiming, RequestContext, Settings, SharedState};

pub fn state_with(model: Model) -> SharedState {
    let settings = Settings {
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        failover_timing: FailoverTiming::default(),
        health_check_interval: Duration::from_secs(1),
        verifier: None,
        snapshot_day: std::time::Duration::from_secs(86_400),
    };
    let engine = Engine::new("redis-server".into(), std::env::temp_dir());
    Arc::new(AppState::new(
        model,
        engine,
        settings,
        Arc::new(SystemClock),
    ))
}

pub fn ctx() -> RequestContext {
    RequestContext {
        request_id: "rid".into(),
        region: "us-east-1".into(),
        account: "default".into(),
    }
}

/// The body an action answers with, from its `run`'s output for `ctx()`.
pub fn answer(action: Action, output: Result<impl Respond, ApiError>) -> String {
    output.unwrap().encode(action, &ctx()).unwrap()
}

/// A request's parameters from a query string.
pub fn query(raw: &str) -> QueryParams {
    QueryParams::decode(Some(raw), b"")
}

/// A page of a Describe action serialized in one piece (`Marker`, then the list `list` of
/// `member` elements), as the answers were before encoded items were reused: what the reused
/// encodings must read exactly as.
pub fn whole_page<T: Serialize>(
    action: Action,
    marker: Option<&str>,
    list: &'static str,
    member: &'static str,
    items: Vec<T>,
) -> String {
    let page = WholePage {
        marker,
        list,
        items: XmlList::new(member, items),
    };
    page.encode(action, &ctx()).unwrap()
}

struct WholePage<'a, T> {
    marker: Option<&'a str>,
    list: &'static str,
    items: XmlList<T>,
}

impl<T: Serialize> Serialize for WholePage<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut page = serializer.serialize_struct("WholePage", 2)?;
        if let Some(marker) = self.marker {
            page.serialize_field("Marker", marker)?;
        }
        page.serialize_field(self.list, &self.items)?;
        page.end()
    }
}
