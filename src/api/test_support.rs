//! What the actions' unit tests share: an `AppState` over a given model, with no nodes.

use std::sync::Arc;
use std::time::Duration;

use super::{Action, Respond};
use crate::engine::Engine;
use crate::model::{Model, SystemClock};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{AppState, FailoverTiming, RequestContext, Settings, SharedState};

pub fn state_with(model: Model) -> SharedState {
    let settings = Settings {
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        failover_timing: FailoverTiming::default(),
        health_check_interval: Duration::from_secs(1),
        verifier: None,
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
