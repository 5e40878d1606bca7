//! The clock: lapsed offers, the presence grace, wrap-ups that end with time, overflow by age,
//! auto-close of held conversations and of Open ones nobody took.

use linedesk_protocol::routing::Presence;

use super::{Engine, GRACE_MS};
use crate::store::routing::{Result, RoutingStore};

impl<S: RoutingStore> Engine<S> {
    /// Lapsed offers become declines, short disconnects that lasted become Offline,
    /// blocking wrap-ups end, idle conversations auto-close; then work is handed out.
    pub fn tick(&mut self) -> Result<usize> {
        for id in self.store.lapsed_offers(self.now)? {
            if let Some(conv) = self.conv(&id)? {
                if let Some(user) = conv.offered_to.clone() {
                    self.decline(&conv, &user, super::Declined::Missed)?;
                }
            }
        }
        let agents = self.store.agents()?;
        for mut agent in agents.iter().cloned() {
            if !agent.gone
                && agent
                    .disconnected_at
                    .is_some_and(|at| at <= self.now - GRACE_MS)
            {
                agent.gone = true;
                self.store.save_agent(&agent)?;
            }
        }
        // Recompute everyone who takes part: wrap-up durations end with time alone.
        for agent in &agents {
            if agent.chosen != Presence::Offline || agent.presence != Presence::Offline {
                self.refresh_agent(&agent.user)?;
            }
        }
        self.auto_close()?;
        self.overflow_all()?;
        self.breaches()?;
        self.distribute()
    }

    /// Alerts once for each Open conversation that has waited past its queue's service-level
    /// target (from opening): a `linedeskBreach` event, which the consoles that see the
    /// conversation (its queue's supervisors among them) turn into a toast and a notification.
    fn breaches(&mut self) -> Result<()> {
        for (queue_id, queue) in self.store.queues()? {
            let Some(target) = queue.service_level else {
                continue;
            };
            for id in self
                .store
                .unbreached_open(&queue_id, self.now - target.within_ms - 1)?
            {
                let Some(conv) = self.conv(&id)? else {
                    continue;
                };
                self.store.mark_breached(&id, self.now)?;
                let event_id = format!("breach:{id}");
                let event = serde_json::json!({
                    "type": super::BREACH_EVENT, "timestamp": self.now, "mode": "active",
                    "source": super::output::source_of(&conv.chat_id),
                    "webhookEventId": event_id, "conversationId": id,
                    "queueId": queue_id, "queueName": queue.name,
                    "openedAt": conv.opened_at, "targetMs": target.within_ms,
                });
                self.append(&conv.channel_id, super::BREACH_EVENT, Some(event_id), event)?;
            }
        }
        Ok(())
    }

    /// Closes held conversations idle for longer than their workstream allows, and Open ones
    /// nobody took in the time it gives them.
    fn auto_close(&mut self) -> Result<()> {
        for channel in self.store.channels_with_held()? {
            let Some(after) = self.workstream(&channel)?.auto_close_after_ms else {
                continue;
            };
            for id in self.store.idle_held(&channel, self.now - after)? {
                if let Some(conv) = self.conv(&id)? {
                    self.close(&conv, "auto_close")?;
                }
            }
        }
        for channel in self.store.channels_with_open()? {
            let Some(after) = self.workstream(&channel)?.open_auto_close_after_ms else {
                continue;
            };
            for id in self.store.idle_open(&channel, self.now - after)? {
                if let Some(conv) = self.conv(&id)? {
                    self.close(&conv, "unattended")?;
                }
            }
        }
        Ok(())
    }
}
