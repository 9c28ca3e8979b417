//! RemoveTagsFromResource: removes tag keys, all or none (a key the resource lacks is
//! `TagNotFound`); on a replication group the keys are removed from its members where they
//! have them. Answers the resource's tags after the change.

use super::tags::{TagListMessage, resolve};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<TagListMessage, ApiError> {
    let keys = params.list("TagKeys", "member")?;
    if keys.is_empty() && params.optional("TagKeys").is_none() {
        return Err(ApiError::missing_parameter("TagKeys"));
    }
    let mut model = state.model();
    let arns = resolve(&model, ctx, params)?;
    let (target, members) = arns
        .split_first()
        .expect("resolve names the resource first");
    model.tags.remove(target, &keys)?;
    for member in members {
        let present: Vec<String> = model
            .tags
            .list(member)
            .into_iter()
            .map(|t| t.key)
            .filter(|k| keys.contains(k))
            .collect();
        model.tags.remove(member, &present)?;
    }
    Ok(TagListMessage::of(&model, target))
}
