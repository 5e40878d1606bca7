//! Representatives: the presence they choose, their consoles coming and going, capacity, and
//! the effective presence that follows from load and connection.

use linedesk_protocol::routing::{AgentSnapshot, Presence, AGENT_EVENT};
use linedesk_protocol::Reason;
use serde_json::json;

use super::super::config::Queue;
use super::{Engine, EngineError};
use crate::store::routing::{Agent, Result, RoutingStore};

impl<S: RoutingStore> Engine<S> {
    /// The representative chooses a presence.
    pub fn set_presence(
        &mut self,
        user: &str,
        chosen: Presence,
    ) -> std::result::Result<AgentSnapshot, EngineError> {
        if matches!(chosen, Presence::Inactive) {
            return Err(EngineError::Invalid(linedesk_protocol::Invalid::new(
                "presence",
                Reason::NotChoosable,
            )));
        }
        let mut agent = self.ensure_agent(user)?;
        agent.chosen = chosen;
        agent.updated_at = self.now;
        self.store.save_agent(&agent)?;
        if !matches!(chosen, Presence::Available | Presence::Busy) {
            self.withdraw_offers(user)?;
        }
        self.refresh_agent(user)?;
        self.agent_snapshot(user)?
            .ok_or_else(|| EngineError::not_found(Reason::NoSuchUser))
    }

    /// A console of `user` connected (`true`) or its last one went away (`false`).
    pub fn connection(&mut self, user: &str, connected: bool) -> Result<()> {
        let mut agent = self.ensure_agent(user)?;
        // Worth a snapshot (supervisors watch who is reachable) when it changes for someone
        // who takes work; an admin's console coming and going is not news.
        let was_connected = agent.disconnected_at.is_none();
        let takes_part = agent.chosen != Presence::Offline;
        if connected {
            agent.disconnected_at = None;
            agent.gone = false;
        } else {
            agent.disconnected_at = Some(self.now);
        }
        self.store.save_agent(&agent)?;
        if !connected {
            self.withdraw_offers(user)?;
        }
        self.refresh_agent_noting(user, takes_part && was_connected != connected)
    }

    /// Takes back the offer of a representative who can no longer answer it (chose away or
    /// offline, or their console went away): the customer goes back to the queue at once
    /// instead of waiting out the countdown. Not counted as a decline.
    fn withdraw_offers(&mut self, user: &str) -> Result<()> {
        for id in self.store.offered_to(user)? {
            self.update(&id, super::commands::clear_offer)?;
            self.emit(&id)?;
        }
        Ok(())
    }

    /// Sets a representative's capacity in units.
    pub fn set_capacity(
        &mut self,
        user: &str,
        capacity: u32,
    ) -> std::result::Result<AgentSnapshot, EngineError> {
        if self.store.user_role(user)?.is_none() {
            return Err(EngineError::not_found(Reason::NoSuchUser));
        }
        let mut agent = self.ensure_agent(user)?;
        agent.capacity = capacity;
        self.store.save_agent(&agent)?;
        self.refresh_agent(user)?;
        self.agent_snapshot(user)?
            .ok_or_else(|| EngineError::not_found(Reason::NoSuchUser))
    }

    /// The representative's routing row, made on first sight.
    fn ensure_agent(&mut self, user: &str) -> Result<Agent> {
        if let Some(a) = self.store.agent(user)? {
            return Ok(a);
        }
        let agent = Agent::new(user, self.now);
        self.store.ensure_agent(&agent)?;
        Ok(agent)
    }

    /// A representative as consoles see them, with the load they hold now.
    pub(super) fn agent_snapshot(&self, user: &str) -> Result<Option<AgentSnapshot>> {
        super::output::agent_snapshot(&self.store, user, self.now)
    }

    /// Recomputes a representative's effective presence from choice, load and connection;
    /// logs a snapshot when it changed.
    pub(super) fn refresh_agent(&mut self, user: &str) -> Result<()> {
        self.refresh_agent_noting(user, false)
    }

    /// [`Engine::refresh_agent`]; `connection_changed` logs a snapshot even when presence and
    /// load stayed the same.
    fn refresh_agent_noting(&mut self, user: &str, connection_changed: bool) -> Result<()> {
        let Some(mut agent) = self.store.agent(user)? else {
            return Ok(());
        };
        let used = self.store.units_held(user, self.now)?;
        let presence = if agent.gone {
            if self.store.holds_work(user)? {
                Presence::Inactive
            } else {
                Presence::Offline
            }
        } else {
            match agent.chosen {
                Presence::Available if used >= agent.capacity => Presence::DoNotDisturb,
                Presence::Available if used > 0 => Presence::Busy,
                Presence::Busy if used >= agent.capacity => Presence::DoNotDisturb,
                other => other,
            }
        };
        if presence == agent.presence && used == agent.used && !connection_changed {
            return Ok(());
        }
        if presence != agent.presence {
            agent.presence_since = self.now;
        }
        agent.presence = presence;
        agent.used = used;
        agent.updated_at = self.now;
        self.store.save_agent(&agent)?;
        let snap = AgentSnapshot {
            user: user.to_owned(),
            presence,
            chosen: agent.chosen,
            capacity: agent.capacity,
            used,
            connected: agent.disconnected_at.is_none(),
            since: agent.presence_since,
        };
        let id = format!("agent:{user}:{}", uuid::Uuid::new_v4());
        let event = json!({
            "type": AGENT_EVENT, "timestamp": self.now, "mode": "active",
            "webhookEventId": id, "agent": snap,
        });
        self.append("", AGENT_EVENT, Some(id), event)
    }

    /// Whether anyone who may take the queue's work is available or busy.
    pub(super) fn anyone_available(&self, queue: &Queue) -> Result<bool> {
        Ok(self
            .store
            .available_agents()?
            .iter()
            .any(|a| queue.members.is_empty() || queue.members.contains(&a.user)))
    }

    /// Whether `user` may take the queue's work: its members, or everyone with an account
    /// when it names none (presence is the opt-in).
    pub(super) fn is_member(&self, queue: &Queue, user: &str) -> Result<bool> {
        if !queue.members.is_empty() {
            return Ok(queue.members.iter().any(|m| m == user));
        }
        Ok(self.store.user_role(user)?.is_some())
    }
}
