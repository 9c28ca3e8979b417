//! CopySnapshot: a new manual snapshot with the same data (its own RDB files), or, with
//! `TargetBucket`, an export: each node group's RDB written as `<TargetSnapshotName>-<node
//! group>.rdb` into the directory standing in for the bucket (`<data dir>/s3.d/<bucket>/`).

use super::snapshot_shape::SnapshotResult;
use super::snapshots::refuse_kms_key;
use super::tags::parse_tags;
use crate::model::arn::{Arn, ResourceKind};
use crate::model::snapshot::{Snapshot, SnapshotSource, SnapshotStatus, parse_snapshot_name};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<SnapshotResult, ApiError> {
    let source_name = params.required("SourceSnapshotName")?;
    let target = params.required("TargetSnapshotName")?;
    refuse_kms_key(params)?;
    let tags = parse_tags(params)?;
    let source = state.model().snapshot(source_name)?.clone();
    if source.status != SnapshotStatus::Available {
        return Err(ApiError::InvalidSnapshotState(format!(
            "Snapshot {} is not in a valid state to be copied (status: {}).",
            source.name,
            crate::model::resource::Lifecycle::as_str(source.status)
        )));
    }
    if let Some(bucket) = params.optional("TargetBucket") {
        export(state, &source, target, bucket).await?;
        return Ok(SnapshotResult::of(&source));
    }
    let name = parse_snapshot_name(target)?;
    let copy = Snapshot {
        name: name.clone(),
        arn: Arn::new(ResourceKind::Snapshot, &ctx.scope(), &name),
        status: SnapshotStatus::Creating,
        source: SnapshotSource::Manual,
        created_at: state.now(),
        holds_group: false,
        ..source.clone()
    };
    state.model().insert_snapshot(copy.clone(), &tags)?;
    let state = state.clone();
    let answer = SnapshotResult::of(&copy);
    tokio::spawn(async move {
        let outcome = copy_files(&state, &source, &name).await;
        let now = state.now();
        match outcome {
            Ok(sizes) => state.model().finish_snapshot(&name, &sizes, false, now),
            Err(reason) => {
                state.engine.delete_snapshot_files(&name);
                state.model().fail_snapshot(&name, reason, false, now);
            }
        }
    });
    Ok(answer)
}

async fn copy_files(
    state: &SharedState,
    source: &Snapshot,
    target: &str,
) -> Result<Vec<(String, u64)>, String> {
    let mut sizes = Vec::new();
    for node in &source.node_snapshots {
        let from = state
            .engine
            .snapshot_file(&source.name, &node.node_group_id);
        let to = state.engine.snapshot_file(target, &node.node_group_id);
        let size = state
            .engine
            .copy_rdb(from, to)
            .await
            .map_err(|e| e.to_string())?;
        sizes.push((node.node_group_id.clone(), size));
    }
    Ok(sizes)
}

/// Writes every node group's RDB into the bucket's directory; an object already there is
/// `SnapshotAlreadyExistsFault`, since an export never overwrites.
async fn export(
    state: &SharedState,
    source: &Snapshot,
    target: &str,
    bucket: &str,
) -> Result<(), ApiError> {
    check_bucket_name(bucket)?;
    if target.is_empty() || target.contains('/') || target.starts_with('.') {
        return Err(ApiError::InvalidParameterValue(format!(
            "Invalid TargetSnapshotName '{target}' for an export: it names objects in bucket {bucket}."
        )));
    }
    let dir = state.engine.bucket_dir(bucket);
    let objects: Vec<_> = source
        .node_snapshots
        .iter()
        .map(|node| {
            let file = format!("{target}-{}.rdb", node.node_group_id);
            (
                state
                    .engine
                    .snapshot_file(&source.name, &node.node_group_id),
                dir.join(file),
            )
        })
        .collect();
    if let Some((_, taken)) = objects.iter().find(|(_, to)| to.exists()) {
        return Err(ApiError::SnapshotAlreadyExistsFault(format!(
            "The object {} already exists in bucket {bucket}.",
            taken.file_name().unwrap_or_default().to_string_lossy()
        )));
    }
    for (from, to) in objects {
        state
            .engine
            .copy_rdb(from, to)
            .await
            .map_err(|e| ApiError::InternalFailure(e.to_string()))?;
    }
    tracing::info!(snapshot = %source.name, bucket, target, "snapshot exported");
    Ok(())
}

/// S3's bucket naming rules (3-63 lower-case letters, digits, dots and hyphens, a letter or
/// digit at each end), so a name can never reach outside the buckets' directory.
fn check_bucket_name(bucket: &str) -> Result<(), ApiError> {
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let valid = (3..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge_ok(bucket.chars().next())
        && edge_ok(bucket.chars().last())
        && !bucket.contains("..");
    if valid {
        Ok(())
    } else {
        Err(ApiError::InvalidParameterValue(format!(
            "The S3 bucket name '{bucket}' is not valid."
        )))
    }
}
