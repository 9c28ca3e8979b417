//! The owner of a group's `failover_in_flight` while one workflow runs. However the workflow
//! ends (done, failed, or panicked and unwound), dropping the guard clears the flag, so a
//! failover can never wedge a group; a workflow that did not say how it ended gets a
//! `FailoverFailed` event, so the group's events tell the truth.

use crate::model::FailoverTicket;
use crate::model::events::EventKind;
use crate::state::SharedState;

pub struct FailoverGuard {
    state: SharedState,
    ticket: FailoverTicket,
    /// Set once the workflow's outcome is in the event log.
    reported: bool,
}

impl FailoverGuard {
    /// Takes over the in-flight flag that admitting `ticket` set.
    pub fn new(state: SharedState, ticket: FailoverTicket) -> Self {
        Self {
            state,
            ticket,
            reported: false,
        }
    }

    pub fn ticket(&self) -> &FailoverTicket {
        &self.ticket
    }

    /// The workflow ended: a failure is recorded as `FailoverFailed` with its reason (success
    /// wrote its own events), then the flag is cleared.
    pub fn finish(mut self, outcome: Result<(), String>) {
        if let Err(reason) = outcome {
            tracing::error!(group = %self.ticket.group_id, %reason, "failover failed");
            self.record_failure(reason);
        }
        self.reported = true;
    }

    fn record_failure(&self, reason: String) {
        let group_id = self.ticket.group_id.clone();
        let kind = EventKind::FailoverFailed { group_id, reason };
        self.state.model().record(kind, self.state.now());
    }
}

impl Drop for FailoverGuard {
    fn drop(&mut self) {
        if !self.reported {
            let how = if std::thread::panicking() {
                "panicked"
            } else {
                "was cancelled"
            };
            tracing::error!(group = %self.ticket.group_id, "failover workflow {how}");
            self.record_failure(format!(
                "the failover workflow {how}; the group is available again"
            ));
        }
        self.state.model().end_failover(&self.ticket);
    }
}
