//! DescribeReplicationGroups: one group (any-case id) or all, paged by id. Each group's XML is
//! encoded once per revision and reused (see `protocol::fragments`).

use super::encoded_page::{EncodedPage, lookup_entries};
use super::paging;
use super::shapes::ReplicationGroupShape;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

const LIST: &str = "ReplicationGroups";
const MEMBER: &str = "ReplicationGroup";

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    _ctx: &RequestContext,
) -> Result<EncodedPage, ApiError> {
    let (entries, marker) = {
        let model = state.model();
        let request = paging::request(&model.pager, LIST, params)?;
        let groups: Vec<_> = match params.optional("ReplicationGroupId") {
            Some(id) => vec![model.group(id)?],
            None => model.groups().collect(),
        };
        let (page, marker) = model.pager.page(LIST, groups, |g| g.id.as_str(), &request);
        let entries = lookup_entries(
            &state.encoded_groups,
            &page,
            |group| (group.id.as_str(), group.revision),
            |group| ReplicationGroupShape::from_model(group),
        );
        (entries, marker)
    };
    // Encoding happens outside the model lock.
    EncodedPage::encode(LIST, MEMBER, marker, entries, &state.encoded_groups)
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::api::Action;
    use crate::api::test_support::{answer, ctx, query, state_with, whole_page};
    use crate::model::group::Endpoints;
    use crate::model::tests::{group, model_with};

    async fn describe(state: &SharedState, raw: &str) -> String {
        answer(
            Action::DescribeReplicationGroups,
            run(state, &query(raw), &ctx()).await,
        )
    }

    /// The whole answer serialized in one piece, as before encoded groups were reused.
    fn serialized_whole(state: &SharedState, marker: Option<&str>, ids: &[&str]) -> String {
        let model = state.model();
        let shapes = ids
            .iter()
            .map(|id| ReplicationGroupShape::from_model(model.group(id).unwrap()))
            .collect();
        let action = Action::DescribeReplicationGroups;
        whole_page(action, marker, "ReplicationGroups", MEMBER, shapes)
    }

    #[tokio::test]
    async fn reused_encodings_read_exactly_as_a_whole_serialization() {
        let mut cluster = group("cme", 2, true);
        cluster.cluster_enabled = true;
        let at = |host| std::net::SocketAddrV4::new(std::net::Ipv4Addr::new(127, 9, 0, host), 6379);
        cluster.endpoints = Some(Endpoints::Configuration { address: at(3) });
        let mut replicated = group("rg", 3, true);
        replicated.endpoints = Some(Endpoints::NodeGroup {
            primary: at(1),
            reader: at(2),
        });
        let state = state_with(model_with(vec![
            cluster,
            replicated,
            group("creating", 1, false),
        ]));
        let all = ["cme", "creating", "rg"];
        let first = describe(&state, "Action=DescribeReplicationGroups").await;
        let again = describe(&state, "Action=DescribeReplicationGroups").await;
        assert_eq!(first, serialized_whole(&state, None, &all));
        assert_eq!(again, first);
        let one = describe(&state, "ReplicationGroupId=RG").await;
        assert_eq!(one, serialized_whole(&state, None, &["rg"]));
    }

    #[tokio::test]
    async fn a_changed_group_is_encoded_again() {
        let state = state_with(model_with(vec![
            group("rg", 2, true),
            group("other", 1, false),
        ]));
        let before = describe(&state, "Action=DescribeReplicationGroups").await;
        assert!(!before.contains("changed"), "{before}");
        state.model().group_mut("rg").unwrap().settings.description = "changed <now>".into();
        let after = describe(&state, "Action=DescribeReplicationGroups").await;
        assert!(
            after.contains("<Description>changed &lt;now&gt;</Description>"),
            "{after}"
        );
        assert_eq!(after, serialized_whole(&state, None, &["other", "rg"]));
        assert_ne!(after, before);
    }

    #[tokio::test]
    async fn pages_carry_their_marker_and_only_their_groups() {
        let groups = (0..25)
            .map(|i| group(&format!("g{i:02}"), 1, false))
            .collect();
        let state = state_with(model_with(groups));
        let page = describe(&state, "MaxRecords=20").await;
        let ids: Vec<String> = (0..20).map(|i| format!("g{i:02}")).collect();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let marker = state.model().pager.issue(LIST, "g19");
        assert_eq!(page, serialized_whole(&state, Some(&marker), &id_refs));
        let rest = describe(&state, &format!("MaxRecords=20&Marker={marker}")).await;
        let ids: Vec<String> = (20..25).map(|i| format!("g{i:02}")).collect();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_eq!(rest, serialized_whole(&state, None, &id_refs));
    }

    #[tokio::test]
    async fn a_marker_never_issued_is_refused() {
        let state = state_with(model_with(vec![group("g1", 1, false)]));
        for forged in ["g0", "g1", "00"] {
            let error = run(&state, &query(&format!("Marker={forged}")), &ctx()).await;
            assert_eq!(
                error.err().unwrap().code(),
                "InvalidParameterValue",
                "{forged}"
            );
        }
    }
}
