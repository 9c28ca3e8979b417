//! Who may talk to the server from a browser. Any web page the developer has open can send
//! requests to `localhost`, and a DNS-rebinding page can even read the answers, so:
//! - the `Host` must name this server: a loopback name or address (`localhost`, `*.localhost`,
//!   `127.x.y.z`, `[::1]`), the listen address, or an `--allowed-host` value (a rebinding
//!   page's requests carry its own name);
//! - a request that can change state (any method but GET/HEAD/OPTIONS, or any `Action` in the
//!   query string) must not come from another origin: a foreign `Origin` or a
//!   `Sec-Fetch-Site` of `cross-site` or `same-site` (another port on localhost is same-site)
//!   is refused with a 403;
//! - with `--verify-sigv4`, the control routes (`/_reset`, `/_state`, `/_faults`) need a valid signature
//!   like the API itself. `/_health` stays open: liveness probes (Docker's HEALTHCHECK) cannot
//!   sign.
//!
//! SDKs and the CLI send no `Origin` and no `Sec-Fetch-*`; the dashboard's own fetches are
//! same-origin; so neither is affected.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{Method, Response, StatusCode, header};
use axum::middleware::Next;

use super::protocol_errors::HttpError;
use crate::state::SharedState;

/// The largest control request body read for its signature.
const MAX_CONTROL_BODY: usize = 64 * 1024;

/// Which `Host` values name this server.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    listen: SocketAddr,
    /// `--allowed-host` values, lowercase: `name` (any port), `name:port`, or `*` (any host).
    allowed: Vec<String>,
}

impl HostPolicy {
    pub fn new(listen: SocketAddr, allowed: &[String]) -> Self {
        let allowed = allowed
            .iter()
            .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        Self { listen, allowed }
    }

    /// True when `host` (a `Host` header value) names this server.
    pub fn accepts(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let name = host_name(&host).trim_end_matches('.');
        if self
            .allowed
            .iter()
            .any(|a| a == "*" || *a == host || a == name)
        {
            return true;
        }
        if name == "localhost" || name.ends_with(".localhost") {
            return true;
        }
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<IpAddr>() {
            Ok(ip) => {
                ip.is_loopback() || (!self.listen.ip().is_unspecified() && ip == self.listen.ip())
            }
            Err(_) => false,
        }
    }
}

/// `name` of `name:port`, `[v6]` of `[v6]:port`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

pub type GuardState = (Arc<HostPolicy>, SharedState);

/// The middleware: refuses foreign hosts, cross-site state changes, unsigned control calls.
pub async fn guard(
    State((policy, state)): State<GuardState>,
    request: Request,
    next: Next,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    if let Err(error) = check_host(&policy, &parts).and_then(|()| check_origin(&parts)) {
        tracing::warn!(path, code = error.code, message = %error.message, "request refused");
        return error.response_for(&path);
    }
    let control = super::protocol_errors::is_json_route(&path) && path != "/_health";
    let Some(verifier) = state.settings.verifier.as_ref().filter(|_| control) else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let Ok(bytes) = axum::body::to_bytes(body, MAX_CONTROL_BODY).await else {
        let error = HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("A control request body is at most {MAX_CONTROL_BODY} bytes."),
        );
        return error.json_response();
    };
    if let Err(error) = verifier.verify(
        parts.method.as_str(),
        &path,
        parts.uri.query(),
        &parts.headers,
        &bytes,
        state.now(),
    ) {
        tracing::info!(
            path,
            code = error.code(),
            "control request refused by --verify-sigv4"
        );
        return HttpError::new(error.status(), error.code(), error.message()).json_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The browser checks alone (Host, then Origin), for the bare Toxiproxy listener
/// (`--toxiproxy-listen`): its clients cannot sign, so it has no SigV4 check, but a web page
/// must not be able to add a toxic either. Refusals are JSON, as the Toxiproxy API answers.
pub async fn browser_guard(
    State(policy): State<Arc<HostPolicy>>,
    request: Request,
    next: Next,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    if let Err(error) = check_host(&policy, &parts).and_then(|()| check_origin(&parts)) {
        let path = parts.uri.path();
        tracing::warn!(path, code = error.code, message = %error.message, "request refused");
        return error.json_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

fn check_host(policy: &HostPolicy, parts: &Parts) -> Result<(), HttpError> {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()));
    // No Host at all is an HTTP/1.0 client, never a browser.
    match host {
        Some(host) if !policy.accepts(&host) => Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            format!(
                "The Host {host:?} does not name this server; start it with --allowed-host {} to accept it.",
                host_name(&host)
            ),
        )),
        _ => Ok(()),
    }
}

fn check_origin(parts: &Parts) -> Result<(), HttpError> {
    if !changes_state(parts) {
        return Ok(());
    }
    let header_text = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let site = header_text("sec-fetch-site")
        .unwrap_or("")
        .to_ascii_lowercase();
    if site == "cross-site" || site == "same-site" {
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            format!("A {site} request from a web page may not change this server's state."),
        ));
    }
    let Some(origin) = header_text("origin") else {
        return Ok(());
    };
    let host = header_text("host").unwrap_or("");
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or("");
    if authority.is_empty() || !authority.eq_ignore_ascii_case(host) {
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            format!(
                "A request from the web page origin {origin} may not change this server's state."
            ),
        ));
    }
    Ok(())
}

/// Any method but GET/HEAD/OPTIONS, or an API action (by GET every action is allowed).
fn changes_state(parts: &Parts) -> bool {
    let safe = [Method::GET, Method::HEAD, Method::OPTIONS].contains(&parts.method);
    let has_action = parts
        .uri
        .query()
        .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "Action"));
    !safe || has_action
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_allowed_hosts_are_accepted_and_others_not() {
        let policy = HostPolicy::new(
            "127.0.0.1:9736".parse().unwrap(),
            &["elasticache".into(), "box.example:8080".into()],
        );
        for good in [
            "localhost",
            "LOCALHOST:9736",
            "127.0.0.1:9736",
            "127.8.9.10",
            "[::1]:9736",
            "[::1]",
            "app.localhost:1",
            "elasticache:9736",
            "box.example:8080",
        ] {
            assert!(policy.accepts(good), "{good}");
        }
        for bad in [
            "attacker.example",
            "attacker.example:9736",
            "localhost.attacker.example",
            "127.0.0.1.nip.io",
            "box.example:9736",
            "10.0.0.1:9736",
            "",
        ] {
            assert!(!policy.accepts(bad), "{bad}");
        }
        let any = HostPolicy::new("0.0.0.0:9736".parse().unwrap(), &["*".into()]);
        assert!(any.accepts("anything.example"));
        let bound = HostPolicy::new("192.168.1.5:9736".parse().unwrap(), &[]);
        assert!(bound.accepts("192.168.1.5:9736"));
    }
}
