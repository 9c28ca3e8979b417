//! AddTagsToResource: adds or overwrites tags, all or none; on a replication group they reach
//! its member cache clusters too. Answers the resource's tags after the change.

use super::tags::{TagListMessage, parse_tags, resolve};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<TagListMessage, ApiError> {
    let tags = parse_tags(params)?;
    // `Tags` is required; the bare key `Tags=` is an empty list.
    if tags.is_empty() && params.optional("Tags").is_none() {
        return Err(ApiError::missing_parameter("Tags"));
    }
    let mut model = state.model();
    let arns = resolve(&model, ctx, params)?;
    // Every ARN is checked on a scratch copy first, so a member over its quota refuses the
    // whole request and nothing changes.
    for arn in &arns {
        let mut probe = crate::model::tags::TagStore::default();
        probe.add(arn, &model.tags.list(arn))?;
        probe.add(arn, &tags)?;
    }
    for arn in &arns {
        model.tags.add(arn, &tags)?;
    }
    Ok(TagListMessage::of(&model, &arns[0]))
}
