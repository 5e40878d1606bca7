//! Push distribution: Open conversations offered to representatives, in queue order, to
//! those with the skills they need; and overflow, when a queue holds too many or too long.

use std::collections::HashMap;

use linedesk_protocol::routing::DistributionMode;

use super::super::config::{Overflow, OverflowAction, OverflowWhen, SkillMatch};
use super::super::hours::{self, Status};
use super::Engine;
use crate::store::routing::{Result, RoutingStore, Waiting};

/// Queue items read per page while walking the queue.
const PAGE: usize = 512;

/// A representative who may receive an offer in this distribution pass.
struct PoolAgent {
    free: u32,
    last_offer_at: i64,
    /// Skills, lower case.
    skills: Vec<String>,
}

impl PoolAgent {
    /// How many of `required` this representative has (case-insensitive).
    fn matched(&self, required: &[String]) -> usize {
        required
            .iter()
            .filter(|s| self.skills.contains(&s.trim().to_lowercase()))
            .count()
    }
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
                let skills = self
                    .store
                    .user_skills(&agent.user)?
                    .iter()
                    .map(|s| s.trim().to_lowercase())
                    .collect();
                pool.insert(
                    agent.user,
                    PoolAgent {
                        free: agent.capacity - used,
                        last_offer_at: agent.last_offer_at,
                        skills,
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
        // Exact: every required skill. Closest: anyone, those with more of them first.
        let required = &item.required_skills;
        let eligible = |user: &str, a: &PoolAgent| {
            a.free >= item.units
                && declined.get(user).copied().unwrap_or(0) < ws.decline_limit
                && (queue.members.is_empty() || queue.members.iter().any(|m| m == user))
                && (item.skill_match == SkillMatch::Closest
                    || a.matched(required) == required.len())
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
                        a.matched(required)
                            .cmp(&b.matched(required))
                            .then(a.free.cmp(&b.free))
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

    /// Applies every queue's overflow rules (the clock's part: waits that grew too long).
    pub(super) fn overflow_all(&mut self) -> Result<()> {
        for (id, queue) in self.store.queues()? {
            if !queue.overflow.is_empty() {
                self.overflow_queue(&id)?;
            }
        }
        Ok(())
    }

    /// Applies a queue's overflow rules, in order, to the conversations waiting in it: beyond
    /// the first `count`, or waiting longer than `ms` (from the customer's last message, as
    /// the queue orders them). Each rule fires once on a conversation; a move takes it to
    /// another queue (once in its life, so two queues cannot pass it back and forth), whose
    /// own rules then apply.
    pub(super) fn overflow_queue(&mut self, queue_id: &str) -> Result<()> {
        let rules: Vec<Overflow> = self.queue(queue_id)?.overflow;
        if rules.is_empty() {
            return Ok(());
        }
        let waiting = self.store.waiting_in(queue_id)?;
        let mut moved = std::collections::HashSet::new();
        let mut done: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
        for (r, rule) in rules.iter().enumerate().take(63) {
            let bit = 1_i64 << r;
            let mut place = 0;
            for item in &waiting {
                if moved.contains(&item.id) {
                    continue;
                }
                place += 1;
                let fired = done.get(&item.id).copied().unwrap_or(item.overflow_done);
                if fired & bit != 0 {
                    continue;
                }
                let over = match rule.when {
                    OverflowWhen::WaitingOver { count } => place > count as usize,
                    OverflowWhen::OldestOver { ms } => self.now - item.last_customer_at > ms,
                };
                if !over {
                    continue;
                }
                done.insert(item.id.clone(), fired | bit);
                let now = self.now;
                match &rule.action {
                    OverflowAction::MoveTo { queue }
                        if item.overflowed_at.is_none()
                            && queue != queue_id
                            && self.queue_exists(queue)? =>
                    {
                        let priority = i64::from(self.queue(queue)?.priority);
                        self.update(&item.id, |c| {
                            c.queue_id = queue.clone();
                            c.priority = priority;
                            c.overflowed_at = Some(now);
                            c.overflow_done = 0;
                        })?;
                        moved.insert(item.id.clone());
                        self.emit(&item.id)?;
                    }
                    OverflowAction::MoveTo { .. } => {
                        // Moved once already, or a queue removed since: it stays.
                        self.update(&item.id, |c| c.overflow_done |= bit)?;
                    }
                    OverflowAction::Message { text } => {
                        self.update(&item.id, |c| c.overflow_done |= bit)?;
                        self.overflow_message(&item.id, text, place)?;
                    }
                }
            }
        }
        // The queues they moved to may overflow in turn.
        if !moved.is_empty() {
            let targets: std::collections::BTreeSet<String> = rules
                .iter()
                .filter_map(|r| match &r.action {
                    OverflowAction::MoveTo { queue } if queue != queue_id => Some(queue.clone()),
                    _ => None,
                })
                .collect();
            for q in targets {
                self.overflow_queue(&q)?;
            }
        }
        Ok(())
    }

    /// The overflow message of a queue to one waiting customer.
    fn overflow_message(
        &mut self,
        id: &str,
        texts: &std::collections::BTreeMap<String, String>,
        position: usize,
    ) -> Result<()> {
        let Some(conv) = self.conv(id)? else {
            return Ok(());
        };
        let ws = self.workstream(&conv.channel_id)?;
        let queue_name = self.queue(&conv.queue_id)?.name;
        let Some(text) = super::pick_language(texts, conv.language.as_deref(), &ws.language) else {
            return Ok(());
        };
        let text = text
            .replace("{QueueName}", &queue_name)
            .replace("{Position}", &position.to_string());
        self.queue_messages(
            &conv,
            "overflow",
            vec![linedesk_line::send::Message::text(text)],
        )
    }
}
