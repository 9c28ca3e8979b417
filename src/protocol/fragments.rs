//! List members encoded once and reused while their source is unchanged.
//!
//! A DescribeReplicationGroups answer with 50 groups is ~80 KB of XML, and serializing it
//! again for every request cost ~280 µs, nearly all of the request. Each member is serialized
//! by quick-xml on its own (`encode_member`) and kept by key and revision (`FragmentCache`).
//! The envelope around them is serialized by quick-xml once per action with an empty
//! placeholder list (`ListEnvelope`), and each response puts the fragments in that list's
//! place. Element syntax cannot occur inside escaped text, so the placeholder is found without
//! ambiguity.

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
    /// For each of `keys`, in order, the fragment if it was encoded from that revision. One
    /// lock for the whole page: a lock per member cost a 100-member page ~0.8 µs.
    pub fn get_many<'q, Q>(
        &self,
        keys: impl IntoIterator<Item = (&'q Q, u64)>,
    ) -> Vec<Option<Arc<str>>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized + 'q,
    {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        keys.into_iter()
            .map(|(key, revision)| {
                entries
                    .get(key)
                    .filter(|(cached, _)| *cached == revision)
                    .map(|(_, fragment)| Arc::clone(fragment))
            })
            .collect()
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

/// The `RequestId` text while a `ListEnvelope` is serialized; the envelope is cut around it.
const REQUEST_ID_STAND_IN: &str = "elasticache-local-request-id";

/// A success envelope whose result is an optional `Marker` and one list, serialized once by
/// quick-xml (with the list empty, no marker and a stand-in request id) and cut where the
/// per-request parts go. Filling it is a few copies; serializing the envelope again was ~40%
/// of the handler's time for a three-event DescribeEvents. Element syntax cannot occur inside
/// escaped text, so the empty list and the request id are found without ambiguity.
pub struct ListEnvelope {
    /// Up to where the `Marker` and the list go.
    head: String,
    list_element: &'static str,
    /// From after the list up to the request id.
    middle: String,
    /// From after the request id to the end.
    tail: String,
}

impl ListEnvelope {
    /// `empty_result` serializes no `Marker` and its list `list_element` empty; a `Marker`, when
    /// a page has one, goes right before the list, where the result shapes put it.
    pub fn new<R: Serialize>(
        response_element: &str,
        result_element: &'static str,
        empty_result: &R,
        list_element: &'static str,
    ) -> Result<Self, ApiError> {
        let document = success_body(
            response_element,
            result_element,
            empty_result,
            REQUEST_ID_STAND_IN,
        )?;
        let empty_list = format!("<{list_element}/>");
        let request_id = format!("<RequestId>{REQUEST_ID_STAND_IN}</RequestId>");
        let (Some(list_at), Some(id_at)) =
            (document.find(&empty_list), document.rfind(&request_id))
        else {
            return Err(ApiError::InternalFailure(format!(
                "could not encode the response: no empty {list_element} or no RequestId to fill"
            )));
        };
        let id_at = id_at + "<RequestId>".len();
        Ok(Self {
            head: document[..list_at].to_string(),
            list_element,
            middle: document[list_at + empty_list.len()..id_at].to_string(),
            tail: document[id_at + REQUEST_ID_STAND_IN.len()..].to_string(),
        })
    }

    /// The document with `marker` (a `<Marker>` element from `encode_member`) and `members`
    /// (from `encode_member`) in the list, exactly as serializing the whole result would write it.
    pub fn fill(&self, marker: Option<&str>, members: &[Arc<str>], request_id: &str) -> String {
        let request_id = quick_xml::escape::escape(request_id);
        let marker = marker.unwrap_or("");
        let length = members.iter().map(|m| m.len()).sum::<usize>();
        let mut body = String::with_capacity(
            self.head.len()
                + marker.len()
                + length
                + 2 * self.list_element.len()
                + 5
                + self.middle.len()
                + request_id.len()
                + self.tail.len(),
        );
        body.push_str(&self.head);
        body.push_str(marker);
        body.push('<');
        body.push_str(self.list_element);
        if members.is_empty() {
            body.push_str("/>");
        } else {
            body.push('>');
            members.iter().for_each(|member| body.push_str(member));
            body.push_str("</");
            body.push_str(self.list_element);
            body.push('>');
        }
        body.push_str(&self.middle);
        body.push_str(&request_id);
        body.push_str(&self.tail);
        body
    }
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

    fn envelope() -> ListEnvelope {
        let empty = Listing {
            marker: None,
            items: XmlList::new("Item", vec![]),
        };
        ListEnvelope::new("ListResponse", "ListResult", &empty, "Items").unwrap()
    }

    fn members() -> Vec<Arc<str>> {
        items()
            .iter()
            .map(|item| encode_member("Item", item).unwrap())
            .collect()
    }

    #[test]
    fn a_filled_envelope_reads_exactly_as_a_serialized_one() {
        let whole = Listing {
            marker: Some("<Items/>".into()),
            items: XmlList::new("Item", items()),
        };
        let expected = success_body("ListResponse", "ListResult", &whole, "rid-1").unwrap();
        let marker = encode_member("Marker", &"<Items/>").unwrap();
        let filled = envelope().fill(Some(&marker), &members(), "rid-1");
        assert_eq!(filled, expected);
        assert!(
            filled.contains("<Marker>&lt;Items/&gt;</Marker>"),
            "{filled}"
        );
    }

    #[test]
    fn no_marker_and_no_members_read_as_serialized() {
        for items in [vec![], items()] {
            let whole = Listing {
                marker: None,
                items: XmlList::new("Item", items.clone()),
            };
            let expected = success_body("ListResponse", "ListResult", &whole, "rid").unwrap();
            let members: Vec<_> = items
                .iter()
                .map(|i| encode_member("Item", i).unwrap())
                .collect();
            assert_eq!(envelope().fill(None, &members, "rid"), expected);
        }
    }

    #[test]
    fn a_request_id_is_escaped_like_any_text() {
        let filled = envelope().fill(None, &[], "a<b&c");
        assert!(
            filled.contains("<RequestId>a&lt;b&amp;c</RequestId>"),
            "{filled}"
        );
        assert!(
            filled.ends_with("</RequestId></ResponseMetadata></ListResponse>"),
            "{filled}"
        );
    }

    #[test]
    fn the_cache_answers_only_for_the_revision_it_holds() {
        let cache = FragmentCache::default();
        let get = |key: &str, revision| cache.get_many([(key, revision)]).pop().flatten();
        cache.put("g".to_string(), 3, Arc::from("<G/>"));
        assert_eq!(get("g", 3).as_deref(), Some("<G/>"));
        assert_eq!(get("g", 4), None);
        assert_eq!(get("h", 3), None);
        cache.put("g".to_string(), 4, Arc::from("<G2/>"));
        assert_eq!(get("g", 3), None);
        assert_eq!(get("g", 4).as_deref(), Some("<G2/>"));
    }

    #[test]
    fn get_many_answers_each_key_in_order() {
        let cache = FragmentCache::default();
        cache.put("a".to_string(), 1, Arc::from("<A/>"));
        cache.put("b".to_string(), 1, Arc::from("<B/>"));
        let hits = cache.get_many([("b", 1), ("a", 2), ("c", 1), ("a", 1)]);
        let hits: Vec<_> = hits.iter().map(|h| h.as_deref()).collect();
        assert_eq!(hits, [Some("<B/>"), None, None, Some("<A/>")]);
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
