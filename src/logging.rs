//! Log lines go to stderr, batched on the runtime's worker threads.
//!
//! Every API call logs one line. Written one `write(2)` each, the log was the third syscall of
//! every request and cost ~10% of DescribeEvents throughput. A worker thread instead keeps its
//! lines in a thread-local buffer and writes them in one call when it runs out of work (tokio's
//! `on_thread_park`), when the buffer passes `MAX_BUFFERED_BYTES`, or when its oldest line is
//! older than `MAX_LINE_DELAY`. An idle server therefore shows each line as soon as it is
//! logged, and a busy one within `MAX_LINE_DELAY`. Threads that never park through the hook
//! (main, the blocking pool) write each line at once, so startup and shutdown lines are never
//! held. Lines still buffered when the process is SIGKILLed are lost; a worker that stops
//! (runtime shutdown) writes its buffer first.

use std::cell::RefCell;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;

/// A batch is written once it holds this much.
const MAX_BUFFERED_BYTES: usize = 32 * 1024;
/// A line waits at most about this long, even on a worker that never runs out of work.
const MAX_LINE_DELAY: Duration = Duration::from_millis(50);

#[derive(Default)]
struct ThreadBuffer {
    /// Set on the first park: only runtime workers batch.
    batching: bool,
    bytes: Vec<u8>,
    oldest: Option<Instant>,
}

impl ThreadBuffer {
    /// Writes what it holds, keeping the allocation for the next batch (unless one huge line
    /// grew it far past the usual size).
    fn write_out(&mut self) {
        if !self.bytes.is_empty() {
            write_batch(&self.bytes);
            self.bytes.clear();
        }
        if self.bytes.capacity() > 4 * MAX_BUFFERED_BYTES {
            self.bytes = Vec::new();
        }
        self.oldest = None;
    }
}

thread_local! {
    static BUFFER: RefCell<ThreadBuffer> = RefCell::new(ThreadBuffer::default());
}

/// The `MakeWriter` for `tracing_subscriber::fmt`: stderr, batched on worker threads.
#[derive(Clone, Copy, Default)]
pub struct BatchedStderr;

impl<'a> MakeWriter<'a> for BatchedStderr {
    type Writer = BatchedStderr;

    fn make_writer(&'a self) -> Self::Writer {
        BatchedStderr
    }
}

impl Write for BatchedStderr {
    /// tracing-subscriber writes each line with one `write_all`, so a line is never split
    /// between batches.
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let buffered = BUFFER.with(|cell| {
            // Busy: this thread is writing its batch and logged meanwhile; the line goes alone.
            let Ok(mut buffer) = cell.try_borrow_mut() else {
                return false;
            };
            if !buffer.batching {
                return false;
            }
            buffer.bytes.extend_from_slice(line);
            let oldest = *buffer.oldest.get_or_insert_with(Instant::now);
            if buffer.bytes.len() >= MAX_BUFFERED_BYTES || oldest.elapsed() >= MAX_LINE_DELAY {
                buffer.write_out();
            }
            true
        });
        if !buffered {
            write_batch(line);
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// For `on_thread_park`: makes this thread a batching one and writes what it holds.
pub fn on_worker_park() {
    drain_and_set_batching(true);
}

/// For `on_thread_stop`: writes what this thread holds and stops batching on it.
pub fn on_worker_stop() {
    drain_and_set_batching(false);
}

fn drain_and_set_batching(batching: bool) {
    BUFFER.with(|cell| {
        if let Ok(mut buffer) = cell.try_borrow_mut() {
            buffer.batching = batching;
            buffer.write_out();
        }
    });
}

/// A log that cannot be written (stderr closed) must not take requests down with it.
#[cfg(not(test))]
fn write_batch(batch: &[u8]) {
    let _ = io::stderr().lock().write_all(batch);
}

#[cfg(test)]
thread_local! {
    /// What this thread wrote: the unit tests check it instead of the real stderr.
    static WRITTEN: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

#[cfg(test)]
fn write_batch(batch: &[u8]) {
    WRITTEN.with(|written| written.borrow_mut().push(batch.to_vec()));
}

/// Set by `--access-log debug`: the per-request lines are written at debug level.
static ACCESS_AT_DEBUG: AtomicBool = AtomicBool::new(false);

/// Makes [`access_line!`] write at debug level (`true`) or info level (`false`).
pub fn set_access_at_debug(debug: bool) {
    ACCESS_AT_DEBUG.store(debug, Ordering::Relaxed);
}

pub fn access_at_debug() -> bool {
    ACCESS_AT_DEBUG.load(Ordering::Relaxed)
}

/// One access line (an API call), on the `elasticache_local::access` target at the level
/// `--access-log` chose, so it can be turned down without silencing anything else.
#[macro_export]
macro_rules! access_line {
    ($($field:tt)*) => {
        if $crate::logging::access_at_debug() {
            tracing::debug!(target: "elasticache_local::access", $($field)*)
        } else {
            tracing::info!(target: "elasticache_local::access", $($field)*)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffered() -> usize {
        BUFFER.with(|cell| cell.borrow().bytes.len())
    }

    /// The writes this thread made so far, each as text.
    fn writes() -> Vec<String> {
        WRITTEN.with(|w| {
            w.borrow()
                .iter()
                .map(|b| String::from_utf8_lossy(b).into())
                .collect()
        })
    }

    fn on_own_thread(test: impl FnOnce() + Send + 'static) {
        std::thread::spawn(test).join().unwrap();
    }

    #[test]
    fn a_thread_that_never_parked_writes_each_line_at_once() {
        on_own_thread(|| {
            BatchedStderr.write_all(b"one\n").unwrap();
            BatchedStderr.write_all(b"two\n").unwrap();
            assert_eq!(writes(), ["one\n", "two\n"]);
        });
    }

    #[test]
    fn a_parked_worker_holds_lines_until_it_parks_again() {
        on_own_thread(|| {
            on_worker_park();
            BatchedStderr.write_all(b"one\n").unwrap();
            BatchedStderr.write_all(b"two\n").unwrap();
            assert!(writes().is_empty());
            on_worker_park();
            assert_eq!(writes(), ["one\ntwo\n"]);
            on_worker_park();
            assert_eq!(writes().len(), 1, "an empty buffer is not written");
        });
    }

    #[test]
    fn a_full_buffer_is_written_without_waiting_for_a_park() {
        on_own_thread(|| {
            on_worker_park();
            let line = [b'x'; 1000];
            let lines = MAX_BUFFERED_BYTES.div_ceil(line.len());
            for _ in 0..lines - 1 {
                BatchedStderr.write_all(&line).unwrap();
            }
            assert!(writes().is_empty());
            BatchedStderr.write_all(&line).unwrap();
            assert_eq!(writes().len(), 1);
            assert_eq!(writes()[0].len(), lines * line.len());
            assert_eq!(buffered(), 0);
        });
    }

    #[test]
    fn a_batch_keeps_its_allocation_unless_a_huge_line_grew_it() {
        on_own_thread(|| {
            on_worker_park();
            BatchedStderr.write_all(b"line\n").unwrap();
            on_worker_park();
            assert!(BUFFER.with(|cell| cell.borrow().bytes.capacity()) > 0);
            BatchedStderr
                .write_all(&vec![b'x'; 5 * MAX_BUFFERED_BYTES])
                .unwrap();
            assert_eq!(
                writes().len(),
                2,
                "a line past the limit is written at once"
            );
            assert_eq!(BUFFER.with(|cell| cell.borrow().bytes.capacity()), 0);
        });
    }

    #[test]
    fn a_line_older_than_the_delay_is_written_with_the_next_one() {
        on_own_thread(|| {
            on_worker_park();
            BatchedStderr.write_all(b"old\n").unwrap();
            BUFFER.with(|cell| {
                cell.borrow_mut().oldest = Some(Instant::now() - MAX_LINE_DELAY);
            });
            BatchedStderr.write_all(b"new\n").unwrap();
            assert_eq!(writes(), ["old\nnew\n"]);
        });
    }

    #[test]
    fn a_stopping_worker_writes_its_lines_and_stops_batching() {
        on_own_thread(|| {
            on_worker_park();
            BatchedStderr.write_all(b"held\n").unwrap();
            on_worker_stop();
            BatchedStderr.write_all(b"direct\n").unwrap();
            assert_eq!(writes(), ["held\n", "direct\n"]);
            assert_eq!(buffered(), 0);
        });
    }
}

/// The timestamp of each line, as `tracing_subscriber`'s default (`SystemTime`) prints it:
/// RFC 3339 UTC with microseconds (`2026-12-02T07:15:55.257366Z`). The date and time up to the
/// second are formatted once per second per thread, not for every line: that formatting was
/// a tenth of the cost of an API call.
#[derive(Clone, Copy, Default)]
pub struct LineTime;

thread_local! {
    /// The last second formatted on this thread, and its text up to the `.`.
    static SECOND: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
}

impl LineTime {
    /// Appends the present time, formatted.
    fn push_now(line: &mut String) {
        let now = chrono::Utc::now();
        SECOND.with(|second| {
            let mut second = second.borrow_mut();
            if second.0 != now.timestamp() {
                second.0 = now.timestamp();
                second.1 = now.format("%Y-%m-%dT%H:%M:%S").to_string();
            }
            line.push_str(&second.1);
        });
        let fraction = line_time_fraction(now.timestamp_subsec_micros());
        line.push_str(std::str::from_utf8(&fraction).unwrap_or(".000000Z"));
    }
}

impl tracing_subscriber::fmt::time::FormatTime for LineTime {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        let mut text = String::with_capacity(32);
        Self::push_now(&mut text);
        w.write_str(&text)
    }
}

/// Whether lines are written without colours (stderr is not a terminal): set once at start.
static PLAIN_LINES: AtomicBool = AtomicBool::new(false);

pub fn set_plain_lines(plain: bool) {
    PLAIN_LINES.store(plain, Ordering::Relaxed);
}

/// True when [`write_info`] may stand in for `tracing::info!`.
pub fn plain_lines() -> bool {
    PLAIN_LINES.load(Ordering::Relaxed)
}

/// `message` as an INFO line of `target`, byte for byte as the fmt layer writes it without
/// colours, but built directly: the fmt layer passes every character of a field through its
/// escaping of terminal control sequences, which made the one access line per API call a
/// sixth of the call's cost. Only for messages made of text the server itself chose (no
/// client input), which is why that escaping is not needed; callers check
/// `tracing::enabled!` first so that `RUST_LOG` still decides.
pub fn write_info(target: &str, message: &str) {
    let _ = BatchedStderr.write_all(info_line(target, message).as_bytes());
}

fn info_line(target: &str, message: &str) -> String {
    let mut line = String::with_capacity(40 + target.len() + message.len());
    LineTime::push_now(&mut line);
    line.push_str("  INFO ");
    line.push_str(target);
    line.push_str(": ");
    line.push_str(message);
    line.push('\n');
    line
}

/// `.uuuuuuZ` for the microseconds of a second.
fn line_time_fraction(micros: u32) -> [u8; 8] {
    let mut text = *b".000000Z";
    let mut rest = micros.min(999_999);
    for digit in text[1..7].iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    text
}

#[cfg(test)]
pub(crate) mod line_time_tests {
    use super::*;

    #[test]
    fn the_fraction_has_six_digits_and_a_z() {
        assert_eq!(&line_time_fraction(0), b".000000Z");
        assert_eq!(&line_time_fraction(257_366), b".257366Z");
        assert_eq!(&line_time_fraction(999_999), b".999999Z");
        assert_eq!(&line_time_fraction(7), b".000007Z");
    }

    #[test]
    fn a_line_time_reads_as_rfc3339_with_microseconds() {
        let mut text = String::new();
        let mut writer = tracing_subscriber::fmt::format::Writer::new(&mut text);
        tracing_subscriber::fmt::time::FormatTime::format_time(&LineTime, &mut writer).unwrap();
        assert_eq!(text.len(), "2026-12-02T07:15:55.257366Z".len(), "{text}");
        let parsed = chrono::DateTime::parse_from_rfc3339(&text).expect("RFC 3339");
        let age = chrono::Utc::now().signed_duration_since(parsed);
        assert!(
            age >= chrono::TimeDelta::zero() && age < chrono::TimeDelta::seconds(60),
            "{text}"
        );
    }

    /// What a `tracing_subscriber::fmt` writer is given, captured (also for other tests).
    #[derive(Clone, Default)]
    pub(crate) struct Captured(pub(crate) std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_info_line_is_what_the_fmt_layer_writes_without_colours() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_timer(LineTime)
            .with_ansi(false)
            .finish();
        let message = "api call action=DescribeEvents status=200 elapsed_us=17 request_id=5eb6";
        tracing::subscriber::with_default(subscriber, || tracing::info!("{message}"));
        let by_tracing = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let direct = info_line(module_path!(), message);
        // The same bytes after the timestamp (27 characters), which moved on meanwhile.
        assert_eq!(by_tracing.len(), direct.len(), "{by_tracing}{direct}");
        assert_eq!(by_tracing[27..], direct[27..], "{by_tracing}{direct}");
        assert!(direct.ends_with(&format!(
            "  INFO elasticache_local::logging::line_time_tests: {message}\n"
        )));
    }
}
