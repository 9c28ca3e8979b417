//! Integration tests: the real binary on port 0, driven by aws-sdk-elasticache and raw HTTP,
//! checked against the real redis-server processes.

#[path = "../support/mod.rs"]
mod support;

mod aof;
mod cache_clusters;
mod engine_choice;
mod engine_versions;
mod events;
mod failover;
mod failover_narration;
mod faults;
mod faults_hosts;
mod health;
mod iam_auth;
mod input_catalogue;
mod lifecycle;
mod markers;
mod node_memory;
mod output_members;
mod parameter_groups;
mod parameter_nodes;
mod processes;
mod protocol;
mod scopes;
mod security;
mod subnet_groups;
mod subnet_groups_terraform;
mod tags;
mod terraform_parameter_group;
mod terraform_replication_group;
mod tls;
mod tls_cluster;
mod users;
