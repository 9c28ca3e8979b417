//! List members encoded once and reused while their source is unchanged.
//!
//! A DescribeReplicationGroups answer with 50 groups is ~80 KB of XML, and serializing it
//! again for every request cost ~280 µs, nearly all of the request. Each member is serialized
//! by quick-xml on its own (`encode_member`), kept by key and revision (`FragmentCache`), and
//! the response, serialized by quick-xml with an empty placeholder list, gets the fragments put
//! in that list's place (`success_body_with_members`). Element syntax cannot occur inside
//! escaped text, so the placeholder is found without ambiguity.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::error::ApiError;
use super::xml::{success_body, xml_safe};

/// Encoded members by key, each with the revision it was encoded from (a source that never
/// changes uses one revision).
pub struct FragmentCache<K = String> {
    entries: Mutex<HashMap<K, (u64, Arc<str>)>>,
}

impl<K> Default for FragmentCache<K> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

/// Past this many entries the cache starts over: keys of deleted sources are never looked up
/// again, and re-encoding what is live costs one request's worth of work.
const MAX_ENTRIES: usize = 1024;

impl<K: Hash + Eq> FragmentCache<K> {
    /// The fragment for `key` if it was encoded from `revision`.
    pub fn get<Q>(&self, key: &Q, revision: u64) -> Option<Arc<str>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(cached, _)| *cached == revision)
            .map(|(_, fragment)| Arc::clone(fragment))
    }

    pub fn put(&self, key: K, revision: u64, fragment: Arc<str>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, (revision, fragment));
    }
}

/// `<member>...</member>` for one list member, exactly as it would appear inside the list.
pub fn encode_member<T: Serialize>(member: &'static str, value: &T) -> Result<Arc<str>, ApiError> {
    quick_xml::se::to_string_with_root(member, value)
        .map(|xml| Arc::from(xml_safe(xml)))
        .map_err(|e| ApiError::InternalFailure(format!("could not encode the response: {e}")))
}

/// `success_body` for a result whose list `list_element` was left empty, with `members` (from
/// `encode_member`) put in it.
pub fn success_body_with_members<R: Serialize>(
    response_element: &str,
    result_element: &'static str,
    result: &R,
    list_element: &str,
    members: &[Arc<str>],
    request_id: &str,
) -> Result<String, ApiError> {
    let document = success_body(response_element, result_element, result, request_id)?;
    if members.is_empty() {
        return Ok(document);
    }
    let placeholder = format!("<{list_element}/>");
    let Some(at) = document.find(&placeholder) else {
        return Err(ApiError::InternalFailure(format!(
            "could not encode the response: no empty {list_element} to fill"
        )));
    };
    let length = members.iter().map(|m| m.len()).sum::<usize>();
    let mut body = String::with_capacity(document.len() + length + 2 * list_element.len() + 5);
    body.push_str(&document[..at]);
    body.push('<');
    body.push_str(list_element);
    body.push('>');
    members.iter().for_each(|member| body.push_str(member));
    body.push_str("</");
    body.push_str(list_element);
    body.push('>');
    body.push_str(&document[at + placeholder.len()..]);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::xml::XmlList;

    #[derive(Serialize, Clone)]
    struct Item {
        #[serde(rename = "Name")]
        name: String,
        #[serde(rename = "Tags")]
        tags: XmlList<String>,
    }

    #[derive(Serialize)]
    struct Listing {
        #[serde(rename = "Marker", skip_serializing_if = "Option::is_none")]
        marker: Option<String>,
        #[serde(rename = "Items")]
        items: XmlList<Item>,
    }

    fn items() -> Vec<Item> {
        vec![
            Item {
                name: "a <&> \u{1}".into(),
                tags: XmlList::new("Tag", vec!["x".into()]),
            },
            Item {
                name: "b".into(),
                tags: XmlList::new("Tag", vec![]),
            },
        ]
    }

    #[test]
    fn spliced_members_read_exactly_as_serialized_ones() {
        let whole = Listing {
            marker: Some("<Items/>".into()),
            items: XmlList::new("Item", items()),
        };
        let expected = success_body("ListResponse", "ListResult", &whole, "rid").unwrap();
        let members: Vec<_> = items()
            .iter()
            .map(|item| encode_member("Item", item).unwrap())
            .collect();
        let empty = Listing {
            marker: Some("<Items/>".into()),
            items: XmlList::new("Item", vec![]),
        };
        let spliced = success_body_with_members(
            "ListResponse",
            "ListResult",
            &empty,
            "Items",
            &members,
            "rid",
        )
        .unwrap();
        assert_eq!(spliced, expected);
        assert!(
            spliced.contains("<Marker>&lt;Items/&gt;</Marker>"),
            "{spliced}"
        );
    }

    #[test]
    fn no_members_is_the_empty_list_as_serialized() {
        let empty = Listing {
            marker: None,
            items: XmlList::new("Item", vec![]),
        };
        let spliced =
            success_body_with_members("ListResponse", "ListResult", &empty, "Items", &[], "rid")
                .unwrap();
        let expected = success_body("ListResponse", "ListResult", &empty, "rid").unwrap();
        assert_eq!(spliced, expected);
    }

    #[test]
    fn the_cache_answers_only_for_the_revision_it_holds() {
        let cache = FragmentCache::default();
        cache.put("g".to_string(), 3, Arc::from("<G/>"));
        assert_eq!(cache.get("g", 3).as_deref(), Some("<G/>"));
        assert_eq!(cache.get("g", 4), None);
        assert_eq!(cache.get("h", 3), None);
        cache.put("g".to_string(), 4, Arc::from("<G2/>"));
        assert_eq!(cache.get("g", 3), None);
        assert_eq!(cache.get("g", 4).as_deref(), Some("<G2/>"));
    }

    #[test]
    fn a_full_cache_starts_over_instead_of_growing() {
        let cache = FragmentCache::default();
        for i in 0..MAX_ENTRIES + 10 {
            cache.put(i, 0, Arc::from("<K/>"));
        }
        let held = cache.entries.lock().unwrap().len();
        assert!((10..=MAX_ENTRIES).contains(&held), "{held}");
    }
}
