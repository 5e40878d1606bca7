//! `GET /api/reports?from=&to=&by=`: a date range's figures, grouped, added up from the daily
//! sums. Supervisors see what happened in the queues they supervise; admins see everything.

use std::collections::{BTreeMap, HashSet};

use axum::extract::{Query, State};
use axum::Json;
use jiff::civil::Date;
use linedesk_protocol::reports::{Report, ReportGroup, ReportRow};
use linedesk_protocol::{Invalid, Reason, Role};
use serde::Deserialize;
use sketches_ddsketch::DDSketch;

use super::fold::sketch_of;
use crate::access::Viewer;
use crate::policy::{Refusal, Supervising};
use crate::store::reports::{DayKey, Sums};
use crate::store::sql::Db;
use crate::store::StoreError;
use crate::Relay;

/// The longest range one report covers, in days (two years).
pub const MAX_DAYS: i64 = 731;

/// The query string, read leniently so that each wrong part is named in the refusal.
#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
}

const GROUPS: [ReportGroup; 4] = [
    ReportGroup::Day,
    ReportGroup::Channel,
    ReportGroup::Queue,
    ReportGroup::Agent,
];

/// A report for the caller.
pub async fn report(
    State(relay): State<Relay>,
    caller: Supervising,
    Query(q): Query<ReportQuery>,
) -> Result<Json<Report>, Refusal> {
    let day = |field: &str, text: &Option<String>| match text.as_deref() {
        None | Some("") => Err(Invalid::new(field, Reason::Required)),
        Some(t) => t
            .parse::<Date>()
            .map_err(|_| Invalid::new(field, Reason::Date)),
    };
    let by = match q.by.as_deref() {
        None | Some("") => Ok(ReportGroup::Day),
        Some(b) => GROUPS.into_iter().find(|g| g.as_str() == b).ok_or_else(|| {
            Invalid::new(
                "by",
                Reason::OneOf {
                    values: GROUPS.iter().map(|g| g.as_str().to_owned()).collect(),
                },
            )
        }),
    };
    let (from, to, by) = match (day("from", &q.from), day("to", &q.to), by) {
        (Ok(f), Ok(t), Ok(b)) => (f, t, b),
        (f, t, b) => {
            return Err(Refusal::fields(
                [f.err(), t.err(), b.err()].into_iter().flatten().collect(),
            ))
        }
    };
    let span = from.until(to).map(|s| s.get_days() as i64).unwrap_or(-1);
    if !(0..MAX_DAYS).contains(&span) {
        return Err(Refusal::field(
            "to",
            Reason::DayRange { max_days: MAX_DAYS },
        ));
    }
    let viewer = caller.viewer();
    let (from, to) = (from.to_string(), to.to_string());
    let zone = relay.reports().zone_name().to_owned();
    let report = relay
        .read(move |c| report_for(c, &viewer, &from, &to, by, &zone))
        .await?;
    Ok(Json(report))
}

/// The report `viewer` may see: the daily rows from `from` to `to` (`YYYY-MM-DD`, valid and in
/// order), of the queues they supervise unless they are an admin, added up by `by`.
pub fn report_for(
    c: Db<'_>,
    viewer: &Viewer,
    from: &str,
    to: &str,
    by: ReportGroup,
    zone: &str,
) -> Result<Report, StoreError> {
    let allowed: Option<HashSet<String>> = if viewer.role == Role::Admin {
        None
    } else {
        Some(
            crate::access::queues(c)?
                .into_iter()
                .filter(|(_, q)| q.supervisors.contains(&viewer.user))
                .map(|(id, _)| id)
                .collect(),
        )
    };
    let rows = crate::store::reports::range(c, from, to)?
        .into_iter()
        .filter(|(k, _)| allowed.as_ref().is_none_or(|a| a.contains(&k.queue_id)));
    let (rows, total) = grouped(rows, by);
    Ok(Report {
        rows,
        total,
        from: from.to_owned(),
        to: to.to_owned(),
        group: by,
        time_zone: zone.to_owned(),
    })
}

/// One group's sums and merged sketches.
struct Group {
    sums: Sums,
    wait: DDSketch,
    first_response: DDSketch,
}

impl Group {
    fn new() -> Self {
        Self {
            sums: Sums::default(),
            wait: sketch_of(None),
            first_response: sketch_of(None),
        }
    }

    fn add(&mut self, s: &Sums) {
        self.sums.add(s);
        // Every sketch is made with the same settings, so merging cannot fail.
        if let Some(j) = &s.wait_sketch {
            let _ = self.wait.merge(&sketch_of(Some(j)));
        }
        if let Some(j) = &s.first_response_sketch {
            let _ = self.first_response.merge(&sketch_of(Some(j)));
        }
    }

    fn merge(&mut self, o: &Group) {
        self.sums.add(&o.sums);
        let _ = self.wait.merge(&o.wait);
        let _ = self.first_response.merge(&o.first_response);
    }

    fn row(&self, key: String) -> ReportRow {
        let s = &self.sums;
        let q = |sk: &DDSketch, q: f64| sk.quantile(q).ok().flatten().map(|v| v.round() as i64);
        let avg = |sum: i64, n: i64| (n > 0).then(|| (sum as f64 / n as f64).round() as i64);
        let n = |v: i64| v.max(0) as u64;
        ReportRow {
            key,
            received: n(s.received),
            accepted: n(s.accepted),
            answered: n(s.answered),
            unanswered: n(s.unanswered),
            transfers: n(s.transfers),
            declines: n(s.declines),
            targeted: n(s.targeted),
            within_target: n(s.within_target),
            wait_median_ms: q(&self.wait, 0.5),
            wait_p90_ms: q(&self.wait, 0.9),
            first_response_median_ms: q(&self.first_response, 0.5),
            first_response_p90_ms: q(&self.first_response, 0.9),
            handle_avg_ms: avg(s.handle_ms, s.handle_n),
            wrap_up_avg_ms: avg(s.wrap_ms, s.wrap_n),
            surveys_sent: n(s.surveys_sent),
            surveys_answered: n(s.surveys_answered),
            rating_avg: (s.surveys_answered > 0)
                .then(|| s.rating_sum as f64 / s.surveys_answered as f64),
            sent_free: n(s.sent_free),
            sent_metered: n(s.sent_metered),
        }
    }
}

/// The daily rows added up by `by`, in key order, and the whole range's figures.
fn grouped(
    rows: impl Iterator<Item = (DayKey, Sums)>,
    by: ReportGroup,
) -> (Vec<ReportRow>, ReportRow) {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (k, s) in rows {
        let key = match by {
            ReportGroup::Day => k.day,
            ReportGroup::Channel => k.channel_id,
            ReportGroup::Queue => k.queue_id,
            ReportGroup::Agent => k.agent,
        };
        groups.entry(key).or_insert_with(Group::new).add(&s);
    }
    let mut total = Group::new();
    let out: Vec<ReportRow> = groups
        .into_iter()
        .map(|(k, g)| {
            total.merge(&g);
            g.row(k)
        })
        .collect();
    (out, total.row(String::new()))
}
