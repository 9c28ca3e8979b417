//! DescribeUserGroups: one user group or all, in id order, paged by the shared pager.

use serde::Serialize;

use super::paging;
use super::users::UserGroupShape;
use crate::protocol::xml::XmlList;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

const LIST: &str = "UserGroups";

/// `DescribeUserGroupsResult`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeUserGroupsResult {
    pub user_groups: XmlList<UserGroupShape>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<DescribeUserGroupsResult, ApiError> {
    let model = state.model();
    let request = paging::request(&model.pager, LIST, params)?;
    let groups: Vec<_> = match params.optional("UserGroupId") {
        Some(id) => vec![model.user_group(id)?],
        None => model.user_groups().collect(),
    };
    let (page, marker) = model.pager.page(LIST, groups, |g| g.id.as_str(), &request);
    let scope = ctx.scope();
    Ok(DescribeUserGroupsResult {
        user_groups: XmlList::new(
            "member",
            page.iter()
                .map(|g| UserGroupShape::new(g, &model, &scope, "active"))
                .collect(),
        ),
        marker,
    })
}
