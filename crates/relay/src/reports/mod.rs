//! Reports for supervisors. A follower of the log ([`follow`], on the arbiter) turns the
//! conversation snapshots and the sends it reads into summary rows by day, channel, queue and
//! representative ([`fold`]); a report adds those rows up ([`http`]). The follower's cursor
//! moves in the same transaction as the sums it wrote, so a crash or a change of arbiter counts
//! nothing twice and loses nothing.
//!
//! Days are counted in the relay's report time zone (`report_time_zone`, default UTC). Each
//! figure's definition is in the README ("Report figures").

pub mod fold;
pub mod http;

use std::time::Duration;

use jiff::tz::TimeZone;
use tokio::sync::watch;

use crate::store::reports::REPORTS_CURSOR;
use crate::Relay;

/// Events counted per transaction.
const BATCH: usize = 1024;

/// Handle on reports; part of [`Relay`].
pub struct Reports {
    /// Log sequence counted so far.
    counted: watch::Sender<u64>,
    /// The time zone days are counted in.
    zone: TimeZone,
    /// Its IANA name.
    zone_name: String,
}

impl Reports {
    /// A handle counting days in `zone_name` (an IANA time zone).
    pub fn new(zone_name: &str) -> anyhow::Result<Self> {
        let zone = crate::routing::hours::zone(zone_name).map_err(anyhow::Error::msg)?;
        Ok(Self {
            counted: watch::channel(0).0,
            zone,
            zone_name: zone_name.to_owned(),
        })
    }

    /// The report time zone.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// Its IANA name.
    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    /// Spawns the follower, on the arbiter.
    pub fn start(relay: &Relay) {
        tokio::spawn(crate::cluster::while_arbiter(
            relay.clone(),
            "reports",
            follow,
        ));
    }

    /// Resolves once every event logged so far is counted.
    pub async fn settled(relay: &Relay) {
        let head = *relay.log_head().borrow();
        let mut rx = relay.reports().counted.subscribe();
        let _ = rx.wait_for(|c| *c >= head).await;
    }
}

/// Follows the log, counting what it reads.
async fn follow(relay: Relay) {
    let mut head = relay.tail().head();
    let mut stop = relay.shutdown_signal();
    loop {
        match count_batch(&relay).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "counting for reports failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        tokio::select! {
            r = head.changed() => if r.is_err() { return },
            _ = stop.changed() => return,
        }
    }
}

/// Counts the next batch; `Ok(true)` when there may be more.
async fn count_batch(relay: &Relay) -> anyhow::Result<bool> {
    let cursor = *relay.reports().counted.borrow();
    let cursor = if cursor == 0 {
        relay
            .read(|c| crate::store::meta::get(c, REPORTS_CURSOR))
            .await?
            .unwrap_or(0) as u64
    } else {
        cursor
    };
    let batch = crate::tail::events_after(relay, cursor, BATCH).await?;
    let Some(last) = batch.last().map(|e| e.seq) else {
        relay.reports().counted.send_replace(cursor);
        return Ok(false);
    };
    let more = batch.len() == BATCH;
    let id = relay.cluster().id().to_owned();
    let zone = relay.reports().zone().clone();
    let counted = relay
        .writer()
        .run(move |c| {
            // Fenced as routing is: only the lease holder counts, from where the database
            // says counting stands.
            let stands = crate::store::meta::get(c, REPORTS_CURSOR)?;
            if !crate::store::cluster::holds_lease(c, &id)? || stands.unwrap_or(0) as u64 != cursor
            {
                return Ok(false);
            }
            let mut fold = fold::Fold::new(c, zone)?;
            for ev in &batch {
                fold.event(ev)?;
            }
            fold.finish()?;
            crate::store::meta::set(c, REPORTS_CURSOR, last as i64)?;
            Ok(true)
        })
        .await?;
    if !counted {
        tracing::info!("reports moved on elsewhere; reading their cursor again");
        relay.reports().counted.send_replace(0);
        return Ok(false);
    }
    relay.reports().counted.send_replace(last);
    Ok(more)
}
