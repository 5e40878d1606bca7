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
        self.distribute()
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
