//! DeleteSnapshot: removes an `available` (or `failed`) snapshot and its RDB files; answers the
//! snapshot as `deleting`, as AWS does.

use super::snapshot_shape::SnapshotResult;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    _ctx: &RequestContext,
) -> Result<SnapshotResult, ApiError> {
    let name = params.required("SnapshotName")?;
    let snapshot = state.model().delete_snapshot(name)?;
    state.engine.delete_snapshot_files(&snapshot.name);
    tracing::info!(snapshot = %snapshot.name, "snapshot deleted");
    let mut result = SnapshotResult::of(&snapshot);
    result.snapshot.snapshot_status = "deleting";
    Ok(result)
}
