//! What the engine tells consoles: `linedeskConversation` and `linedeskAgent` events in the
//! log, and the snapshots they carry.

use linedesk_protocol::routing::{AgentSnapshot, ConversationSnapshot, Offer, CONVERSATION_EVENT};
use serde_json::{json, Value};

use super::{default_queue_name, Engine};
use crate::store::events::NewEvent;
use crate::store::routing::{Result, RoutingStore};

/// The snapshot of one conversation as it is now.
pub fn snapshot_of(store: &impl RoutingStore, id: &str) -> Result<Option<ConversationSnapshot>> {
    let Some(c) = store.conversation(id)? else {
        return Ok(None);
    };
    let mode = store.workstream(&c.channel_id)?.mode;
    let queue_name = store
        .queue(&c.queue_id)?
        .map(|q| q.name)
        .unwrap_or_else(|| default_queue_name(&c.queue_id));
    let offer = match (&c.offered_to, c.offered_at, c.offer_expires_at) {
        (Some(to), Some(offered_at), Some(expires_at)) => Some(Offer {
            to: to.clone(),
            offered_at,
            expires_at,
        }),
        _ => None,
    };
    let (contact, flag) = store.contact_brief(&c.channel_id, &c.chat_id)?;
    let consent = store.consent(&c.channel_id, &c.chat_id)?;
    Ok(Some(ConversationSnapshot {
        consultants: store.consultants(id)?,
        survey: store.survey_answer(id)?,
        survey_asked: c.survey_state.is_some(),
        id: c.id,
        version: c.version as u64,
        channel_id: c.channel_id,
        chat_id: c.chat_id,
        state: c.state,
        queue_id: c.queue_id,
        queue_name,
        mode,
        owner: c.owner,
        offer,
        first_text: c.first_text,
        language: c.language,
        opened_at: c.opened_at,
        last_customer_at: c.last_customer_at,
        accepted_at: c.accepted_at,
        ended_at: c.ended_at,
        closed_at: c.closed_at,
        close_reason: c.close_reason,
        transferred_from: c.transferred_from,
        contact,
        flag,
        consent,
    }))
}

/// The LINE `source` of a chat: a group, a room or a user, by its ID's first letter.
pub fn source_of(chat: &str) -> Value {
    if chat.starts_with('C') {
        json!({"type": "group", "groupId": chat})
    } else if chat.starts_with('R') {
        json!({"type": "room", "roomId": chat})
    } else {
        json!({"type": "user", "userId": chat})
    }
}

/// A representative as consoles see them, with the load they hold at `now`.
pub fn agent_snapshot(
    store: &impl RoutingStore,
    user: &str,
    now: i64,
) -> Result<Option<AgentSnapshot>> {
    let Some(a) = store.agent(user)? else {
        return Ok(None);
    };
    Ok(Some(AgentSnapshot {
        used: store.units_held(user, now)?,
        user: a.user,
        presence: a.presence,
        chosen: a.chosen,
        capacity: a.capacity,
        connected: a.disconnected_at.is_none(),
        since: a.presence_since,
    }))
}

/// Every representative's snapshot, by name.
pub fn agent_snapshots(store: &impl RoutingStore, now: i64) -> Result<Vec<AgentSnapshot>> {
    store
        .agents()?
        .into_iter()
        .map(|a| {
            Ok(AgentSnapshot {
                used: store.units_held(&a.user, now)?,
                user: a.user,
                presence: a.presence,
                chosen: a.chosen,
                capacity: a.capacity,
                connected: a.disconnected_at.is_none(),
                since: a.presence_since,
            })
        })
        .collect()
}

impl<S: RoutingStore> Engine<S> {
    /// Appends one of the relay's own events to the log.
    pub(super) fn append(
        &mut self,
        channel: &str,
        kind: &str,
        id: Option<String>,
        body: Value,
    ) -> Result<()> {
        self.store.append_event(
            channel,
            NewEvent {
                webhook_event_id: id,
                event_type: kind.into(),
                event_ts: self.now,
                body: body.to_string(),
            },
            self.now,
        )
    }

    /// Bumps the version and logs the conversation's snapshot.
    pub(super) fn emit(&mut self, id: &str) -> Result<()> {
        if self.update(id, |c| c.version += 1)?.is_none() {
            return Ok(());
        }
        let Some(snap) = snapshot_of(&self.store, id)? else {
            return Ok(());
        };
        let event_id = format!("conv:{}:{}", snap.id, snap.version);
        let source = source_of(&snap.chat_id);
        let event = json!({
            "type": CONVERSATION_EVENT, "timestamp": self.now, "mode": "active",
            "source": source, "webhookEventId": event_id, "conversation": snap,
        });
        let channel = snap.channel_id.clone();
        self.append(&channel, CONVERSATION_EVENT, Some(event_id), event)
    }
}
