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
use axum::http::{HeaderName, Method, Response, StatusCode, header};
use axum::middleware::Next;

use super::protocol_errors::HttpError;
use crate::state::SharedState;

/// Not among `http`'s constants; a static name is not parsed again on each lookup.
const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// The largest control request body read for its signature.
const MAX_CONTROL_BODY: usize = 64 * 1024;

/// Which `Host` values name this server.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    listen: SocketAddr,
    /// `ip:port` of the listen address: what SDKs and the CLI send, accepted without parsing.
    listen_text: String,
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
        Self {
            listen,
            listen_text: listen.to_string(),
            allowed,
        }
    }

    /// True when `host` (a `Host` header value) names this server.
    pub fn accepts(&self, host: &str) -> bool {
        if host == self.listen_text && !self.listen.ip().is_unspecified() {
            return true;
        }
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

/// The checks in front of every request of the API listener (the accept loop runs them on
/// the request's head and whole body, before any route): refuses foreign hosts, cross-site
/// state changes and, with `--verify-sigv4`, unsigned control calls.
pub struct Guard {
    policy: HostPolicy,
    state: SharedState,
}

impl Guard {
    pub fn new(policy: HostPolicy, state: SharedState) -> Self {
        Self { policy, state }
    }

    /// The answer refusing this request, or `None` to serve it.
    pub fn refusal(&self, parts: &Parts, body: &[u8]) -> Option<Response<Body>> {
        let path = parts.uri.path();
        if let Err(error) = check_host(&self.policy, parts).and_then(|()| check_origin(parts)) {
            tracing::warn!(path, code = error.code, message = %error.message, "request refused");
            return Some(error.response_for(path));
        }
        let control = super::protocol_errors::is_json_route(path) && path != "/_health";
        let verifier = self.state.settings.verifier.as_ref().filter(|_| control)?;
        if body.len() > MAX_CONTROL_BODY {
            let error = HttpError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                format!("A control request body is at most {MAX_CONTROL_BODY} bytes."),
            );
            return Some(error.json_response());
        }
        let error = verifier
            .verify(
                parts.method.as_str(),
                path,
                parts.uri.query(),
                &parts.headers,
                body,
                self.state.now(),
            )
            .err()?;
        tracing::info!(
            path,
            code = error.code(),
            "control request refused by --verify-sigv4"
        );
        Some(HttpError::new(error.status(), error.code(), error.message()).json_response())
    }
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
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    // No Host at all is an HTTP/1.0 client, never a browser.
    match host {
        Some(host) if !policy.accepts(host) => Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            format!(
                "The Host {host:?} does not name this server; start it with --allowed-host {} to accept it.",
                host_name(host)
            ),
        )),
        _ => Ok(()),
    }
}

fn check_origin(parts: &Parts) -> Result<(), HttpError> {
    if !changes_state(parts) {
        return Ok(());
    }
    let header_text = |name: &HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let site = header_text(&SEC_FETCH_SITE).unwrap_or("");
    if ["cross-site", "same-site"]
        .iter()
        .any(|refused| site.eq_ignore_ascii_case(refused))
    {
        let site = site.to_ascii_lowercase();
        return Err(HttpError::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            format!("A {site} request from a web page may not change this server's state."),
        ));
    }
    let Some(origin) = header_text(&header::ORIGIN) else {
        return Ok(());
    };
    let host = header_text(&header::HOST).unwrap_or("");
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
    !safe
        || parts
            .uri
            .query()
            .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "Action"))
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
