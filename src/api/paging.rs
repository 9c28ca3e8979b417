//! `MaxRecords` and `Marker` as every Describe action reads them; the paging itself (opaque
//! markers, pages that never repeat or skip) is `model::paging`, shared by every list.

use crate::model::paging::{MAX_RECORDS, MIN_RECORDS, PageRequest, Pager};
use crate::protocol::{ApiError, QueryParams};

/// `MaxRecords`: 20-100, default 100 (values outside are `InvalidParameterValue`).
pub fn max_records(params: &QueryParams) -> Result<usize, ApiError> {
    Ok(params
        .int_in("MaxRecords", MIN_RECORDS, MAX_RECORDS)?
        .unwrap_or(MAX_RECORDS) as usize)
}

/// The page a Describe call of `list` asks for: its `MaxRecords`, and the position its
/// `Marker` holds (a marker `pager` never issued for `list` is `InvalidParameterValue`).
pub fn request(pager: &Pager, list: &str, params: &QueryParams) -> Result<PageRequest, ApiError> {
    let max = max_records(params)?;
    pager.request(list, params.optional("Marker"), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_records_is_checked_and_defaults_to_100() {
        let pager = Pager::new([1; 32]);
        let params = |raw: &str| QueryParams::decode(Some(raw), b"");
        assert_eq!(request(&pager, "L", &params("")).unwrap().max, 100);
        assert_eq!(
            request(&pager, "L", &params("MaxRecords=20")).unwrap().max,
            20
        );
        for bad in [
            "MaxRecords=19",
            "MaxRecords=101",
            "MaxRecords=x",
            "Marker=rg1",
        ] {
            let error = request(&pager, "L", &params(bad)).unwrap_err();
            assert_eq!(error.code(), "InvalidParameterValue", "{bad}");
        }
        let marker = pager.issue("L", "rg1");
        let after = request(&pager, "L", &params(&format!("Marker={marker}"))).unwrap();
        assert_eq!(after.after.as_deref(), Some("rg1"));
    }
}
