//! The one paging of every Describe action: `MaxRecords` items after an opaque `Marker`.
//!
//! A marker names the position after which the next page starts (the last key returned, or
//! any other resume position a list needs), and the list it belongs to, sealed with an HMAC
//! under a key of this scope's model. A marker this server never issued, one issued for
//! another list or another scope, or one from before a restart, is `InvalidParameterValue`,
//! as AWS answers a forged marker. Because the position is a key and not an offset, a page
//! never repeats or skips an item while others are added or removed.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::protocol::ApiError;

/// `MaxRecords`' range and default, the same for every Describe action here.
pub const MIN_RECORDS: i64 = 20;
pub const MAX_RECORDS: i64 = 100;

/// Bytes of the HMAC kept in a marker: forging one means guessing 96 bits.
const TAG_BYTES: usize = 12;

/// What a Describe call asked for: where to resume (already redeemed) and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<String>,
    pub max: usize,
}

pub struct Pager {
    key: [u8; 32],
}

impl Pager {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// A pager with a fresh random key (markers do not outlive the model that issued them).
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        Self::new(key)
    }

    fn seal(&self, list: &str, position: &str) -> [u8; TAG_BYTES] {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC takes any key size");
        mac.update(list.as_bytes());
        mac.update(&[0]);
        mac.update(position.as_bytes());
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_BYTES];
        tag.copy_from_slice(&full[..TAG_BYTES]);
        tag
    }

    /// The marker that resumes `list` after `position`.
    pub fn issue(&self, list: &str, position: &str) -> String {
        format!(
            "{}{}",
            hex::encode(self.seal(list, position)),
            hex::encode(position)
        )
    }

    /// The position a marker of `list` holds, or `InvalidParameterValue`.
    pub fn redeem(&self, list: &str, marker: &str) -> Result<String, ApiError> {
        let invalid = || ApiError::InvalidParameterValue(format!("Invalid Marker '{marker}'."));
        let tag_hex = TAG_BYTES * 2;
        if marker.len() < tag_hex || !marker.is_char_boundary(tag_hex) {
            return Err(invalid());
        }
        let (tag, position) = marker.split_at(tag_hex);
        let tag = hex::decode(tag).map_err(|_| invalid())?;
        let position = hex::decode(position)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(invalid)?;
        let expected = self.seal(list, &position);
        // Compared in constant time: the marker is the caller's and the key is ours.
        let differs = tag
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if differs != 0 {
            return Err(invalid());
        }
        Ok(position)
    }

    /// The request's position from its raw `Marker` (empty counts as none).
    pub fn request(
        &self,
        list: &str,
        marker: Option<&str>,
        max: usize,
    ) -> Result<PageRequest, ApiError> {
        let after = marker
            .filter(|m| !m.is_empty())
            .map(|m| self.redeem(list, m))
            .transpose()?;
        Ok(PageRequest { after, max })
    }

    /// One page of `items` (sorted by `key`, unique) after the request's position, and the
    /// marker of the next page; the last page has none, so paginators and the CLI stop.
    pub fn page<T>(
        &self,
        list: &str,
        items: impl IntoIterator<Item = T>,
        key: impl Fn(&T) -> &str,
        request: &PageRequest,
    ) -> (Vec<T>, Option<String>) {
        let after = request.after.as_deref();
        let mut rest = items
            .into_iter()
            .filter(|item| after.is_none_or(|a| key(item) > a))
            .peekable();
        let page: Vec<T> = rest.by_ref().take(request.max).collect();
        let next = match (rest.peek(), page.last()) {
            (Some(_), Some(last)) => Some(self.issue(list, key(last))),
            _ => None,
        };
        (page, next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pager() -> Pager {
        Pager::new([7; 32])
    }

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("rg{i:03}")).collect()
    }

    /// Every page of `items`, following markers.
    fn all_pages(pager: &Pager, items: &[String], max: usize) -> Vec<Vec<String>> {
        let mut pages = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let request = pager.request("L", marker.as_deref(), max).unwrap();
            let (page, next) = pager.page("L", items.iter().cloned(), |s| s.as_str(), &request);
            pages.push(page);
            match next {
                Some(next) => marker = Some(next),
                None => return pages,
            }
        }
    }

    #[test]
    fn pages_neither_repeat_nor_skip_and_end_without_a_marker() {
        let items = ids(105);
        let pages = all_pages(&pager(), &items, 20);
        assert_eq!(pages.len(), 6);
        assert_eq!(pages.concat(), items);
        let exact = all_pages(&pager(), &ids(40), 20);
        assert_eq!(exact.len(), 2, "an exact fit has no third, empty page");
    }

    #[test]
    fn items_added_or_removed_between_pages_do_not_shift_the_rest() {
        let pager = pager();
        let mut items = ids(50);
        let first = pager.request("L", None, 20).unwrap();
        let (page, marker) = pager.page("L", items.clone(), |s| s.as_str(), &first);
        assert_eq!(page.last().unwrap(), "rg019");
        items.retain(|id| id != "rg003" && id != "rg025");
        items.insert(0, "rg000a".into());
        let next = pager.request("L", marker.as_deref(), 20).unwrap();
        let (page, _) = pager.page("L", items, |s| s.as_str(), &next);
        assert_eq!(page.first().unwrap(), "rg020");
        assert!(!page.contains(&"rg025".to_string()));
    }

    #[test]
    fn markers_are_opaque_and_forgeries_are_refused() {
        let pager = pager();
        let marker = pager.issue("ReplicationGroups", "orders");
        assert!(!marker.contains("orders"), "{marker}");
        assert_eq!(
            pager.redeem("ReplicationGroups", &marker).unwrap(),
            "orders"
        );
        let mut flipped = marker.clone().into_bytes();
        flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
        let forged_position = format!("{}{}", &marker[..24], hex::encode("payments"));
        let other_server = Pager::new([8; 32]).issue("ReplicationGroups", "orders");
        for forged in [
            "orders".to_string(),
            "garbage".to_string(),
            "é".repeat(20),
            String::from_utf8(flipped).unwrap(),
            forged_position,
            other_server,
            pager.issue("CacheClusters", "orders"),
        ] {
            let error = pager.redeem("ReplicationGroups", &forged).unwrap_err();
            assert_eq!(error.code(), "InvalidParameterValue", "{forged}");
        }
        assert_eq!(pager.request("L", Some(""), 20).unwrap().after, None);
    }
}
