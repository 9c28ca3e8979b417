//! `MaxRecords` and `Marker` for the describe calls that list ids in order.

use crate::protocol::{ApiError, QueryParams};

/// `MaxRecords`: 20-100, default 100 (values outside are `InvalidParameterValue`).
pub fn max_records(params: &QueryParams) -> Result<usize, ApiError> {
    Ok(params.int_in("MaxRecords", 20, 100)?.unwrap_or(100) as usize)
}

/// One page of `items` (already sorted by `key`) after `marker`. The marker is the last key
/// returned, so a page never repeats or skips an item even when others are added or removed,
/// and the last page has no marker, so paginators and the CLI stop.
pub fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> &str,
    marker: Option<&str>,
    max: usize,
) -> (Vec<T>, Option<String>) {
    let mut rest = items
        .into_iter()
        .filter(|item| marker.is_none_or(|m| key(item) > m))
        .peekable();
    let page: Vec<T> = rest.by_ref().take(max).collect();
    let next = match (rest.peek(), page.last()) {
        (Some(_), Some(last)) => Some(key(last).to_string()),
        _ => None,
    };
    (page, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_through_and_terminates() {
        let items: Vec<String> = (0..45).map(|i| format!("rg{i:02}")).collect();
        let mut seen = Vec::new();
        let mut marker = None;
        loop {
            let (page, next) = page(items.clone(), |s| s.as_str(), marker.as_deref(), 20);
            seen.extend(page);
            match next {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        assert_eq!(seen, items);
    }

    #[test]
    fn an_exact_fit_has_no_marker() {
        let items: Vec<String> = (0..20).map(|i| format!("{i:02}")).collect();
        assert_eq!(page(items, |s| s.as_str(), None, 20).1, None);
    }
}
