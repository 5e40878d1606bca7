//! Push distribution: Open conversations offered to representatives, in queue order.

use std::collections::HashMap;

use linedesk_protocol::routing::DistributionMode;

use super::super::hours::{self, Status};
use super::Engine;
use crate::store::routing::{Result, RoutingStore, Waiting};

/// Queue items read per page while walking the queue.
const PAGE: usize = 512;

/// A representative who may receive an offer in this distribution pass.
struct PoolAgent {
    free: u32,
    last_offer_at: i64,
}

impl<S: RoutingStore> Engine<S> {
    /// Hands Open conversations of push workstreams to representatives: affinity items
    /// first, then higher-priority queues, then longest waiting (by last customer message).
    /// One offer per representative at a time, and none to a representative whose console
    /// went away (through the grace they keep their presence and work, but get nothing new).
    /// Returns how many offers were made.
    pub fn distribute(&mut self) -> Result<usize> {
        let mut pool: HashMap<String, PoolAgent> = HashMap::new();
        for agent in self.store.available_agents()? {
            if agent.disconnected_at.is_some() || !self.store.offered_to(&agent.user)?.is_empty() {
                continue;
            }
            let used = self.store.units_held(&agent.user, self.now)?;
            if used < agent.capacity {
                pool.insert(
                    agent.user,
                    PoolAgent {
                        free: agent.capacity - used,
                        last_offer_at: agent.last_offer_at,
                    },
                );
            }
        }
        if pool.is_empty() {
            return Ok(0);
        }
        // Walk the queue in its order a page at a time, and stop as soon as nobody is left
        // to offer to. Offered items leave the set; skipped ones stay, so the next page
        // starts after the skipped ones.
        let mut skipped = 0;
        let mut open_queues: HashMap<String, bool> = HashMap::new();
        let mut made = 0;
        'pages: loop {
            let page = self.store.waiting_page(PAGE, skipped)?;
            let full_page = page.len() == PAGE;
            for item in page {
                if pool.is_empty() {
                    break 'pages;
                }
                if self.offer_one(&mut pool, &mut open_queues, &item)? {
                    made += 1;
                } else {
                    skipped += 1;
                }
            }
            if !full_page {
                break;
            }
        }
        Ok(made)
    }

    /// Offers one queued item to the best eligible representative in `pool`, if any.
    fn offer_one(
        &mut self,
        pool: &mut HashMap<String, PoolAgent>,
        open_queues: &mut HashMap<String, bool>,
        item: &Waiting,
    ) -> Result<bool> {
        if !open_queues.contains_key(&item.queue_id) {
            let q = self.queue(&item.queue_id)?;
            let open = q
                .hours
                .as_ref()
                .is_none_or(|h| hours::status(h, self.now) == Status::Open);
            open_queues.insert(item.queue_id.clone(), open);
        }
        if !open_queues[&item.queue_id] {
            return Ok(false); // outside operating hours: offered when they start
        }
        let ws = self.workstream(&item.channel_id)?;
        if ws.mode != DistributionMode::Push {
            return Ok(false);
        }
        let queue = self.queue(&item.queue_id)?;
        let declined = self.store.declines(&item.id)?;
        let eligible = |user: &str, a: &PoolAgent| {
            a.free >= item.units
                && declined.get(user).copied().unwrap_or(0) < ws.decline_limit
                && (queue.members.is_empty() || queue.members.iter().any(|m| m == user))
        };
        let chosen = item
            .affinity_to
            .as_deref()
            .filter(|u| pool.get(*u).is_some_and(|a| eligible(u, a)))
            .map(str::to_owned)
            .or_else(|| {
                pool.iter()
                    .filter(|(u, a)| eligible(u, a))
                    .max_by(|(ua, a), (ub, b)| {
                        a.free
                            .cmp(&b.free)
                            .then(b.last_offer_at.cmp(&a.last_offer_at))
                            .then(ub.cmp(ua))
                    })
                    .map(|(u, _)| u.clone())
            });
        let Some(user) = chosen else { return Ok(false) };
        pool.remove(&user);
        let (now, expires) = (self.now, self.now + ws.offer_timeout_ms);
        self.update(&item.id, |c| {
            c.offered_to = Some(user.clone());
            c.offered_at = Some(now);
            c.offer_expires_at = Some(expires);
        })?;
        if let Some(mut agent) = self.store.agent(&user)? {
            agent.last_offer_at = now;
            self.store.save_agent(&agent)?;
        }
        self.emit(&item.id)?;
        self.refresh_agent(&user)?;
        Ok(true)
    }
}
