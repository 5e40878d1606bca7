//! Reports for supervisors: the figures of a date range, grouped by day, channel, queue or
//! representative. The relay answers them from summary tables that a follower of the log
//! keeps (`linedesk-relay`'s `reports`), never by reading the log per request. What each
//! figure means is written in the README ("Report figures").

use serde::{Deserialize, Serialize};

/// How a report's rows are grouped.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportGroup {
    /// One row per day (in the relay's report time zone).
    #[default]
    Day,
    /// One row per LINE channel.
    Channel,
    /// One row per queue.
    Queue,
    /// One row per representative (`""`: what no representative did, such as automated
    /// messages and conversations nobody took).
    Agent,
}

impl ReportGroup {
    /// The name used in the query string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Channel => "channel",
            Self::Queue => "queue",
            Self::Agent => "agent",
        }
    }
}

/// The figures of one group (or of the whole range).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRow {
    /// The group: a day `YYYY-MM-DD`, a channel ID, a queue ID or a user name.
    pub key: String,
    /// Conversations opened by a customer's message.
    pub received: u64,
    /// Conversations a representative took (first acceptance).
    pub accepted: u64,
    /// Closed conversations in which a representative wrote.
    pub answered: u64,
    /// Closed conversations in which no representative wrote.
    pub unanswered: u64,
    /// Hand-overs to another representative or queue.
    pub transfers: u64,
    /// Offers that ended without the representative taking them (rejected, timed out, or
    /// withdrawn when they left).
    pub declines: u64,
    /// Accepted in a queue with a service-level target.
    pub targeted: u64,
    /// Of those, accepted within the target.
    pub within_target: u64,
    /// Waiting time (opened to accepted): median, ms.
    pub wait_median_ms: Option<i64>,
    /// Waiting time: 90th percentile, ms.
    pub wait_p90_ms: Option<i64>,
    /// Time to first response (opened to a representative's first message): median, ms.
    pub first_response_median_ms: Option<i64>,
    /// Time to first response: 90th percentile, ms.
    pub first_response_p90_ms: Option<i64>,
    /// Handle time (accepted to ended): average, ms.
    pub handle_avg_ms: Option<i64>,
    /// Wrap-up time (ended to closed): average, ms.
    pub wrap_up_avg_ms: Option<i64>,
    /// Survey questions sent.
    pub surveys_sent: u64,
    /// Survey ratings received.
    pub surveys_answered: u64,
    /// Average rating (1 = the scale's first choice).
    pub rating_avg: Option<f64>,
    /// Messages sent as replies (free).
    pub sent_free: u64,
    /// Messages sent as pushes (counted against the channel's monthly quota).
    pub sent_metered: u64,
}

/// A report: its rows in key order and the whole range's figures.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// First day, `YYYY-MM-DD`, inclusive.
    pub from: String,
    /// Last day, inclusive.
    pub to: String,
    /// How the rows are grouped.
    pub group: ReportGroup,
    /// The time zone days are counted in (IANA name).
    pub time_zone: String,
    /// One row per group that had anything.
    pub rows: Vec<ReportRow>,
    /// The whole range (its `key` is empty).
    pub total: ReportRow,
}
