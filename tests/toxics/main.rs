//! Network toxics through the Toxiproxy API (`/_toxiproxy`): raw HTTP with reqwest checks the
//! JSON shapes and errors, a redis client measures what each toxic does to a group's primary
//! endpoint, and the real Python `toxiproxy-python` client drives the bare-path listener.

#[path = "../support/mod.rs"]
mod support;

mod api;
mod behaviour;
mod memcached_nodes;
mod nodes;
mod restarts;
mod standalone;
mod tls_nodes;
mod toxics_support;
