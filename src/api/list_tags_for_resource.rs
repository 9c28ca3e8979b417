//! ListTagsForResource: the tags of one resource of the caller's scope, by ARN.

use super::tags::{TagListMessage, resolve};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<TagListMessage, ApiError> {
    let model = state.model();
    let arns = resolve(&model, ctx, params)?;
    Ok(TagListMessage::of(&model, &arns[0]))
}
