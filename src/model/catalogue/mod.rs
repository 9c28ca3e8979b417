//! What AWS publishes about its engines: the engine/version/family catalogue behind
//! `DescribeCacheEngineVersions` and `EngineVersion` on create, and each parameter group
//! family's parameter list behind `DescribeEngineDefaultParameters` and parameter groups.
//! Plain data and pure functions: no state, no Redis, no HTTP.

pub mod engine_versions;
pub mod formats;
pub mod node_types;
pub mod parameters;
pub mod windows;
pub mod zones;
