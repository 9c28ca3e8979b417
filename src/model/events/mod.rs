//! The event log DescribeEvents reads. The one table of event kinds to messages is [`kinds`].

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};

mod kinds;

pub use kinds::EventKind;

/// How long events are kept, as AWS documents.
pub const RETENTION_DAYS: i64 = 14;
/// The most events kept whatever their age, to bound memory (~200 bytes each: ~50 MiB).
pub const MAX_EVENTS: usize = 250_000;

/// The source types of the model's `SourceType` enum.
pub const SOURCE_TYPES: [&str; 9] = [
    "cache-cluster",
    "cache-parameter-group",
    "cache-security-group",
    "cache-subnet-group",
    "replication-group",
    "serverless-cache",
    "serverless-cache-snapshot",
    "user",
    "user-group",
];

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    /// Position in the log: strictly increasing, never reused. Markers page by it.
    pub seq: u64,
    #[serde(deserialize_with = "crate::model::persist::static_str::deserialize")]
    pub source_type: crate::model::persist::static_str::StaticStr,
    pub source_id: String,
    pub message: String,
    pub date: DateTime<Utc>,
}

/// What DescribeEvents asks for, already validated and resolved to a fixed window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    pub source_id: Option<String>,
    pub source_type: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Only events with `seq < before_seq` (the position a marker resumes from).
    pub before_seq: Option<u64>,
    pub max_records: usize,
}

/// One page, newest first; `next_before_seq` is set when older matching events may remain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage<'a> {
    /// Borrowed from the log: a page of cached encodings needs no copy of its events.
    pub events: Vec<&'a Event>,
    pub next_before_seq: Option<u64>,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct EventLog {
    events: VecDeque<Event>,
    next_seq: u64,
    /// Sequence numbers of each source's events (lower-case id), oldest first, so a query for
    /// one source costs its events, not the whole log.
    by_source: HashMap<String, VecDeque<u64>>,
}

impl EventLog {
    pub fn record(&mut self, kind: &EventKind, now: DateTime<Utc>) {
        let (source_type, source_id) = kind.source();
        // The log stays in date order, which pruning and the window search rely on, even if
        // the clock steps back: such an event gets its predecessor's date.
        let date = self.events.back().map_or(now, |last| last.date.max(now));
        let event = Event {
            seq: self.next_seq,
            source_type,
            source_id: source_id.to_string(),
            message: kind.message(),
            date,
        };
        self.next_seq += 1;
        let key = event.source_id.to_ascii_lowercase();
        self.by_source.entry(key).or_default().push_back(event.seq);
        self.events.push_back(event);
        self.prune(now);
    }

    fn prune(&mut self, now: DateTime<Utc>) {
        let oldest_kept = now - Duration::days(RETENTION_DAYS);
        while let Some(front) = self.events.front() {
            if self.events.len() > MAX_EVENTS || front.date < oldest_kept {
                let key = front.source_id.to_ascii_lowercase();
                self.events.pop_front();
                // The pruned event is its source's oldest too: sequence numbers only grow.
                if let Some(seqs) = self.by_source.get_mut(&key) {
                    seqs.pop_front();
                    if seqs.is_empty() {
                        self.by_source.remove(&key);
                    }
                }
            } else {
                break;
            }
        }
    }

    /// Forgets every event. Sequence numbers keep growing: an event encoded or a marker given
    /// out before is never mistaken for a later event.
    pub fn clear(&mut self) {
        self.events.clear();
        self.by_source.clear();
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Newest first. Paging by sequence number means events appended between pages never
    /// shift a later page: nothing is repeated or skipped.
    pub fn query(&self, query: &EventQuery) -> EventPage<'_> {
        let first_seq = self.events.front().map_or(0, |e| e.seq);
        // Events after the window are skipped by binary search (the log is in date order) and
        // the walk stops at the first event before it, so a narrow window costs its own events.
        let after_window = self.events.partition_point(|e| e.date <= query.end);
        let end_index = match query.before_seq {
            Some(seq) => seq.saturating_sub(first_seq).min(self.events.len() as u64) as usize,
            None => self.events.len(),
        }
        .min(after_window);
        let candidates: Box<dyn Iterator<Item = &Event>> = match &query.source_id {
            Some(id) => {
                let seqs = self.by_source.get(&id.to_ascii_lowercase());
                let before = first_seq + end_index as u64;
                Box::new(
                    seqs.into_iter()
                        .flat_map(|s| s.iter().rev())
                        .filter(move |seq| **seq < before)
                        .filter_map(move |seq| self.events.get((seq - first_seq) as usize)),
                )
            }
            None => Box::new(self.events.range(..end_index).rev()),
        };
        let mut events = Vec::new();
        let mut next_before_seq = None;
        for event in candidates {
            if event.date < query.start {
                break;
            }
            if !matches(query, event) {
                continue;
            }
            if events.len() == query.max_records {
                next_before_seq = Some(events.last().map_or(event.seq + 1, |e: &&Event| e.seq));
                break;
            }
            events.push(event);
        }
        EventPage {
            events,
            next_before_seq,
        }
    }
}

fn matches(query: &EventQuery, event: &Event) -> bool {
    event.date >= query.start
        && event.date <= query.end
        && query
            .source_type
            .as_deref()
            .is_none_or(|t| t == event.source_type)
        && query
            .source_id
            .as_deref()
            .is_none_or(|id| id.eq_ignore_ascii_case(&event.source_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    fn created(id: &str) -> EventKind {
        EventKind::CacheClusterCreated {
            cluster_id: id.into(),
        }
    }

    fn all(max_records: usize, before_seq: Option<u64>) -> EventQuery {
        EventQuery {
            source_id: None,
            source_type: None,
            start: at(0),
            end: at(10_000),
            before_seq,
            max_records,
        }
    }

    #[test]
    fn pages_newest_first_without_repeats_while_events_arrive() {
        let mut log = EventLog::default();
        for i in 0..45 {
            log.record(&created(&format!("c{i}")), at(i));
        }
        let source_ids = |page: &EventPage| -> Vec<String> {
            page.events.iter().map(|e| e.source_id.clone()).collect()
        };
        let first = log.query(&all(20, None));
        let (mut ids, first_marker) = (source_ids(&first), first.next_before_seq);
        assert_eq!(ids[0], "c44");
        // Events appended between pages must not shift what the next page returns.
        for i in 45..60 {
            log.record(&created(&format!("c{i}")), at(i));
        }
        let second = log.query(&all(20, first_marker));
        let third = log.query(&all(20, second.next_before_seq));
        ids.extend(source_ids(&second));
        ids.extend(source_ids(&third));
        let expected: Vec<_> = (0..45).rev().map(|i| format!("c{i}")).collect();
        assert_eq!(ids, expected);
        assert_eq!(third.next_before_seq, None);
    }

    #[test]
    fn a_full_last_page_has_no_marker() {
        let mut log = EventLog::default();
        for i in 0..20 {
            log.record(&created("c"), at(i));
        }
        assert_eq!(log.query(&all(20, None)).next_before_seq, None);
    }

    #[test]
    fn filters_by_source_type_id_and_window() {
        let mut log = EventLog::default();
        log.record(&created("RG-001"), at(10));
        log.record(
            &EventKind::TestFailoverCalled {
                group_id: "rg".into(),
                node_group_id: "0001".into(),
            },
            at(20),
        );
        log.record(&created("rg-002"), at(30));
        let mut query = all(100, None);
        query.source_type = Some("cache-cluster".into());
        query.source_id = Some("rg-001".into());
        assert_eq!(log.query(&query).events.len(), 1);
        let mut window = all(100, None);
        window.start = at(15);
        window.end = at(25);
        let page = log.query(&window);
        assert_eq!(page.events.len(), 1);
        assert_eq!(
            page.events[0].message,
            "Test Failover API called for node group 0001"
        );
    }

    #[test]
    fn the_source_index_pages_and_survives_pruning() {
        let mut log = EventLog::default();
        for i in 0..50 {
            log.record(&created(if i % 2 == 0 { "Even" } else { "odd" }), at(i));
        }
        let mut query = all(20, None);
        query.source_id = Some("even".into());
        let first = log.query(&query);
        assert_eq!(first.events.len(), 20);
        assert!(first.events.iter().all(|e| e.source_id == "Even"));
        query.before_seq = first.next_before_seq;
        let second = log.query(&query);
        assert_eq!(second.events.len(), 5);
        assert_eq!(second.next_before_seq, None);
        assert!(second.events[0].seq < first.events[19].seq);
        // Pruning the oldest events also drops them from the index.
        log.record(
            &created("odd"),
            at(0) + Duration::days(RETENTION_DAYS) + Duration::seconds(10),
        );
        query.before_seq = None;
        let after = log.query(&query);
        // Kept: dates from at(10) on (the even ones 10..=48), 20 of them.
        assert!(after.events.iter().all(|e| e.date >= at(10)));
        assert_eq!(after.events.len(), 20);
        assert_eq!(after.events.last().unwrap().date, at(10));
    }

    #[test]
    fn a_window_in_the_past_finds_its_events_among_many_newer_ones() {
        let mut log = EventLog::default();
        for i in 0..10_000 {
            log.record(&created(&format!("c{i}")), at(i));
        }
        let mut window = all(20, None);
        window.start = at(100);
        window.end = at(129);
        let first = log.query(&window);
        let ids: Vec<_> = first.events.iter().map(|e| e.source_id.as_str()).collect();
        let expected: Vec<_> = (110..130).rev().map(|i| format!("c{i}")).collect();
        assert_eq!(ids, expected);
        window.before_seq = first.next_before_seq;
        let second = log.query(&window);
        assert_eq!(second.events.len(), 10);
        assert_eq!(second.events.last().unwrap().source_id, "c100");
        assert_eq!(second.next_before_seq, None);
        window.source_id = Some("C105".into());
        window.before_seq = None;
        assert_eq!(log.query(&window).events.len(), 1);
    }

    #[test]
    fn a_clock_stepping_back_keeps_the_log_in_date_order() {
        let mut log = EventLog::default();
        log.record(&created("first"), at(50));
        log.record(&created("second"), at(40));
        let page = log.query(&all(20, None));
        assert_eq!(page.events[0].source_id, "second");
        assert_eq!(page.events[0].date, at(50));
        assert_eq!(page.events[1].source_id, "first");
    }

    #[test]
    fn old_events_expire_after_fourteen_days() {
        let mut log = EventLog::default();
        log.record(&created("old"), at(0));
        log.record(
            &created("new"),
            at(0) + Duration::days(RETENTION_DAYS) + Duration::seconds(1),
        );
        assert_eq!(log.len(), 1);
    }
}
