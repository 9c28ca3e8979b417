//! A describe result made of an optional `Marker` and one list of members encoded beforehand
//! (see `protocol::fragments`): what DescribeReplicationGroups, DescribeCacheClusters and
//! DescribeEvents answer.

use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::{Action, Respond};
use crate::protocol::ApiError;
use crate::protocol::fragments::{FragmentCache, ListEnvelope, encode_member};
use crate::protocol::xml::XmlList;
use crate::state::RequestContext;

pub struct EncodedPage {
    pub marker: Option<String>,
    /// The list's element (`Events`) and its members' (`Event`).
    pub list: &'static str,
    pub member: &'static str,
    pub members: Vec<Arc<str>>,
}

/// The result as serialized with no `Marker` and the list empty: `ListEnvelope` puts the
/// marker right before the list, where this shape's serialization would.
struct EmptyResult {
    list: &'static str,
    member: &'static str,
}

impl Serialize for EmptyResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut result = serializer.serialize_struct("Page", 1)?;
        let empty: XmlList<()> = XmlList::new(self.member, vec![]);
        result.serialize_field(self.list, &empty)?;
        result.end()
    }
}

/// Each action's envelope, serialized on its first answer.
static ENVELOPES: [OnceLock<ListEnvelope>; Action::ALL.len()] =
    [const { OnceLock::new() }; Action::ALL.len()];

impl EncodedPage {
    fn envelope(&self, action: Action) -> Result<&'static ListEnvelope, ApiError> {
        let cell = &ENVELOPES[action as usize];
        if let Some(envelope) = cell.get() {
            return Ok(envelope);
        }
        let empty = EmptyResult {
            list: self.list,
            member: self.member,
        };
        let envelope = ListEnvelope::new(
            &action.response_element(),
            action.result_element(),
            &empty,
            self.list,
        )?;
        Ok(cell.get_or_init(|| envelope))
    }
}

impl Respond for EncodedPage {
    fn encode(&self, action: Action, ctx: &RequestContext) -> Result<String, ApiError> {
        let marker = self
            .marker
            .as_ref()
            .map(|marker| encode_member("Marker", marker))
            .transpose()?;
        let envelope = self.envelope(action)?;
        Ok(envelope.fill(marker.as_deref(), &self.members, &ctx.request_id))
    }
}

/// One member of a page: already encoded at the revision it has now, or its shape, to be
/// encoded once the model lock is released.
pub enum PageEntry<K, S> {
    Encoded(Arc<str>),
    Fresh { key: K, revision: u64, shape: S },
}

/// Each of `items` as a page entry: its XML from `cache` if it is there at the item's revision
/// (`key` gives both), else its shape (and an owned key), built only for the items not there.
pub fn lookup_entries<K, Q, T, S>(
    cache: &FragmentCache<K>,
    items: &[T],
    key: impl Fn(&T) -> (&Q, u64),
    shape: impl Fn(&T) -> S,
) -> Vec<PageEntry<K, S>>
where
    K: Hash + Eq + Borrow<Q>,
    Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
{
    let cached = cache.get_many(items.iter().map(&key));
    items
        .iter()
        .zip(cached)
        .map(|(item, cached)| match cached {
            Some(xml) => PageEntry::Encoded(xml),
            None => {
                let (key, revision) = key(item);
                PageEntry::Fresh {
                    key: key.to_owned(),
                    revision,
                    shape: shape(item),
                }
            }
        })
        .collect()
}

impl EncodedPage {
    /// The page of `list`: its entries encoded as `member` elements (the fresh ones kept in
    /// `cache`) after `marker`. Call it without the model lock.
    pub fn encode<K: Hash + Eq, S: Serialize>(
        list: &'static str,
        member: &'static str,
        marker: Option<String>,
        entries: Vec<PageEntry<K, S>>,
        cache: &FragmentCache<K>,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            marker,
            list,
            member,
            members: encode_entries(entries, cache, member)?,
        })
    }
}

/// Encodes the fresh entries as `member` elements, keeping them in `cache`. Call it without the
/// model lock.
pub fn encode_entries<K: Hash + Eq, S: Serialize>(
    entries: Vec<PageEntry<K, S>>,
    cache: &FragmentCache<K>,
    member: &'static str,
) -> Result<Vec<Arc<str>>, ApiError> {
    entries
        .into_iter()
        .map(|entry| match entry {
            PageEntry::Encoded(xml) => Ok(xml),
            PageEntry::Fresh {
                key,
                revision,
                shape,
            } => {
                let xml = encode_member(member, &shape)?;
                cache.put(key, revision, Arc::clone(&xml));
                Ok(xml)
            }
        })
        .collect()
}
