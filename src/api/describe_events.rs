//! DescribeEvents: newest first, default window the last 60 minutes, paged by a marker (the
//! shared opaque kind, `model::paging`) that holds the resume position and the window resolved
//! on the first page, so pages never repeat or skip an event while new ones arrive. Each event's XML is encoded once and reused (see
//! `protocol::fragments`).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::encoded_page::{EncodedPage, lookup_entries};
use super::paging;
use crate::model::events::{Event, EventQuery, SOURCE_TYPES};
use crate::model::paging::Pager;
use crate::protocol::xml::XmlTime;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

const DEFAULT_WINDOW_MINUTES: i64 = 60;
/// The retention period: a longer `Duration` could never return more.
const MAX_DURATION_MINUTES: i64 = 14 * 24 * 60;

const LIST: &str = "Events";
const MEMBER: &str = "Event";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventShape<'a> {
    source_identifier: &'a str,
    source_type: &'static str,
    message: &'a str,
    date: XmlTime,
}

impl<'a> From<&'a Event> for EventShape<'a> {
    fn from(event: &'a Event) -> Self {
        Self {
            source_identifier: &event.source_id,
            source_type: event.source_type,
            message: &event.message,
            date: XmlTime(event.date),
        }
    }
}

/// An event copied out of the log (its XML was not cached), encoded after the lock is released.
struct UncachedEvent(Event);

impl Serialize for UncachedEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        EventShape::from(&self.0).serialize(serializer)
    }
}

/// Events never change once recorded, so each is encoded once (while it stays in the cache).
const EVENT_REVISION: u64 = 0;

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    _ctx: &RequestContext,
) -> Result<EncodedPage, ApiError> {
    // Under the model lock only the events whose XML is not cached yet are copied.
    let (entries, marker) = {
        let model = state.model();
        let query = parse_query(params, &model.pager, state.now())?;
        let page = model.events.query(&query);
        let marker = page.next_before_seq.map(|seq| {
            model
                .pager
                .issue(LIST, &encode_position(seq, query.start, query.end))
        });
        let entries = lookup_entries(
            &state.encoded_events,
            &page.events,
            |event| (&event.seq, EVENT_REVISION),
            |event| UncachedEvent((*event).clone()),
        );
        (entries, marker)
    };
    EncodedPage::encode(LIST, MEMBER, marker, entries, &state.encoded_events)
}

fn parse_query(
    params: &QueryParams,
    pager: &Pager,
    now: DateTime<Utc>,
) -> Result<EventQuery, ApiError> {
    let source_type = params
        .optional("SourceType")
        .map(parse_source_type)
        .transpose()?;
    let request = paging::request(pager, LIST, params)?;
    let source_id = params.optional("SourceIdentifier").map(str::to_string);
    let (start, end, before_seq) = match request.after {
        Some(position) => {
            let (seq, start, end) = decode_position(&position)?;
            (start, end, Some(seq))
        }
        None => {
            let (start, end) = window(params, now)?;
            (start, end, None)
        }
    };
    Ok(EventQuery {
        source_id,
        source_type,
        start,
        end,
        before_seq,
        max_records: request.max,
    })
}

fn parse_source_type(raw: &str) -> Result<String, ApiError> {
    if SOURCE_TYPES.contains(&raw) {
        Ok(raw.to_string())
    } else {
        Err(ApiError::InvalidParameterValue(format!(
            "Invalid value '{raw}' for SourceType: it must be one of {}.",
            SOURCE_TYPES.join(", ")
        )))
    }
}

/// `StartTime`/`EndTime`, or `Duration` minutes before `EndTime` (or now), or the last hour.
fn window(
    params: &QueryParams,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let start = params.timestamp("StartTime")?;
    let end = params.timestamp("EndTime")?.unwrap_or(now);
    let duration = params.int_in("Duration", 0, MAX_DURATION_MINUTES)?;
    match (start, duration) {
        (Some(_), Some(_)) => Err(ApiError::InvalidParameterCombination(
            "StartTime and Duration cannot be given together.".into(),
        )),
        (Some(start), None) => Ok((start, end)),
        (None, Some(minutes)) => Ok((end - Duration::minutes(minutes), end)),
        (None, None) => Ok((end - Duration::minutes(DEFAULT_WINDOW_MINUTES), end)),
    }
}

/// The resume position a marker holds: the next event's sequence number and the window.
fn encode_position(before_seq: u64, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    format!(
        "{before_seq}-{}-{}",
        start.timestamp_micros(),
        end.timestamp_micros()
    )
}

/// Only positions this server sealed reach here; a malformed one is still refused.
fn decode_position(position: &str) -> Result<(u64, DateTime<Utc>, DateTime<Utc>), ApiError> {
    let invalid = || ApiError::InvalidParameterValue("Invalid Marker.".into());
    let mut parts = position.splitn(3, '-');
    let seq = parts
        .next()
        .and_then(|p| p.parse::<u64>().ok())
        .ok_or_else(invalid)?;
    let mut time = || {
        parts
            .next()
            .and_then(|p| p.parse::<i64>().ok())
            .and_then(DateTime::from_timestamp_micros)
            .ok_or_else(invalid)
    };
    let start = time()?;
    let end = time()?;
    Ok((seq, start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Action;
    use crate::api::test_support::{answer, ctx, query, state_with, whole_page};
    use crate::model::Model;
    use crate::model::events::EventKind;

    fn created(cluster_id: &str) -> EventKind {
        EventKind::CacheClusterCreated {
            cluster_id: cluster_id.into(),
        }
    }

    async fn describe(state: &SharedState, raw: &str) -> String {
        answer(
            Action::DescribeEvents,
            run(state, &query(raw), &ctx()).await,
        )
    }

    /// The answer serialized in one piece from the model's own page.
    fn serialized_whole(state: &SharedState, query: &str) -> String {
        let model = state.model();
        let params = QueryParams::decode(Some(query), b"");
        let query = parse_query(&params, &model.pager, state.now()).unwrap();
        let page = model.events.query(&query);
        let marker = page.next_before_seq.map(|seq| {
            model
                .pager
                .issue(LIST, &encode_position(seq, query.start, query.end))
        });
        let shapes = page.events.iter().map(|e| EventShape::from(*e)).collect();
        whole_page(
            Action::DescribeEvents,
            marker.as_deref(),
            "Events",
            MEMBER,
            shapes,
        )
    }

    #[tokio::test]
    async fn reused_encodings_read_exactly_as_a_whole_serialization() {
        let state = state_with(Model::new(15, Duration::hours(24)));
        for i in 0..25 {
            state
                .model()
                .record(created(&format!("rg-<{i}>")), Utc::now());
        }
        // A fixed window, so the marker (which carries it) is the same in every answer.
        let window = "StartTime=2020-01-01T00:00:00Z&EndTime=2040-01-01T00:00:00Z";
        for filter in ["MaxRecords=20", "SourceIdentifier=rg-<3>", "MaxRecords=100"] {
            let query = &format!("{window}&{filter}");
            let first = describe(&state, query).await;
            assert_eq!(first, serialized_whole(&state, query), "{query}");
            assert_eq!(describe(&state, query).await, first, "{query}");
        }
        assert!(describe(&state, "MaxRecords=20").await.contains("<Marker>"));
    }

    #[tokio::test]
    async fn events_after_a_reset_are_never_answered_with_older_encodings() {
        let state = state_with(Model::new(15, Duration::hours(24)));
        state.model().record(created("before-001"), Utc::now());
        assert!(describe(&state, "").await.contains("before-001"));
        state.model().reset();
        state.model().record(created("after-001"), Utc::now());
        let after = describe(&state, "").await;
        assert!(
            after.contains("after-001") && !after.contains("before-001"),
            "{after}"
        );
    }

    #[test]
    fn markers_round_trip_and_junk_is_invalid() {
        let start = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let end = start + Duration::minutes(60);
        let pager = Pager::new([3; 32]);
        let marker = pager.issue(LIST, &encode_position(42, start, end));
        let params = QueryParams::from_pairs([("Marker", marker.as_str())]);
        let query = parse_query(&params, &pager, Utc::now()).unwrap();
        assert_eq!(
            (query.before_seq, query.start, query.end),
            (Some(42), start, end)
        );
        let unsealed = encode_position(42, start, end);
        for junk in ["x", "1-2", "1-a-3", "-1-2-3", unsealed.as_str()] {
            let params = QueryParams::from_pairs([("Marker", junk)]);
            assert_eq!(
                parse_query(&params, &pager, Utc::now()).unwrap_err().code(),
                "InvalidParameterValue",
                "{junk}"
            );
        }
        for junk in ["", "x", "1-2", "1-a-3", "-1-2-3"] {
            assert_eq!(
                decode_position(junk).unwrap_err().code(),
                "InvalidParameterValue",
                "{junk}"
            );
        }
    }

    #[test]
    fn the_default_window_is_the_last_hour() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let query = parse_query(&QueryParams::default(), &Pager::random(), now).unwrap();
        assert_eq!(query.end, now);
        assert_eq!(query.start, now - Duration::minutes(60));
        assert_eq!(query.max_records, 100);
    }

    #[test]
    fn source_type_is_checked_against_the_model_enum() {
        let params = QueryParams::from_pairs([("SourceType", "cache-node")]);
        assert_eq!(
            parse_query(&params, &Pager::random(), Utc::now())
                .unwrap_err()
                .code(),
            "InvalidParameterValue"
        );
    }
}
