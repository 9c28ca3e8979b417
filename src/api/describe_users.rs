//! DescribeUsers: one user, the users of an engine, or all (`Filters` on `user-id`), in id
//! order, paged by the shared pager.

use serde::Serialize;

use super::paging;
use super::users::UserShape;
use crate::protocol::xml::XmlList;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

const LIST: &str = "Users";

/// `DescribeUsersResult`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeUsersResult {
    pub users: XmlList<UserShape>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<DescribeUsersResult, ApiError> {
    let ids = filtered_ids(params)?;
    let engine = params.optional("Engine").map(str::to_ascii_lowercase);
    let model = state.model();
    let request = paging::request(&model.pager, LIST, params)?;
    let users: Vec<_> = match params.optional("UserId") {
        Some(id) => vec![model.user(id)?],
        None => model.users().collect(),
    };
    let users = users.into_iter().filter(|u| {
        engine.as_ref().is_none_or(|e| &u.engine == e)
            && ids.as_ref().is_none_or(|ids| ids.contains(&u.id))
    });
    let (page, marker) = model.pager.page(LIST, users, |u| u.id.as_str(), &request);
    let scope = ctx.scope();
    Ok(DescribeUsersResult {
        users: XmlList::new(
            "member",
            page.iter()
                .map(|u| UserShape::new(u, &model, &scope, "active"))
                .collect(),
        ),
        marker,
    })
}

/// `Filters`: each names `user-id` and its values; the user ids every filter allows, or
/// `None` without filters.
fn filtered_ids(params: &QueryParams) -> Result<Option<Vec<String>>, ApiError> {
    let mut allowed: Option<Vec<String>> = None;
    for filter in params.struct_list("Filters", "member")? {
        let name = filter.required("Name")?;
        if name != "user-id" {
            return Err(crate::protocol::query::invalid_value(
                "Filters.Name",
                name,
                "user-id",
            ));
        }
        let values = filter.list("Values", "member")?;
        allowed = Some(match allowed {
            None => values,
            Some(before) => before.into_iter().filter(|v| values.contains(v)).collect(),
        });
    }
    Ok(allowed)
}
