//! Representatives' and supervisors' commands on a conversation, and closing.

use linedesk_line::send::Message;
use linedesk_protocol::routing::{
    ConversationSnapshot, ConversationState, DistributionMode, Presence, Warning,
};
use linedesk_protocol::{Invalid, Reason};
use serde_json::{json, Value};

use super::super::config::{Survey, Trigger, WrapUpBlocks};
use super::{pick_language, Actor, Command, Engine, EngineError, SURVEY_PREFIX};
use crate::store::routing::{Conversation, Result, RoutingStore};

impl<S: RoutingStore> Engine<S> {
    /// Runs a representative's command; answers the conversation afterwards and a warning.
    pub fn command(
        &mut self,
        actor: &Actor,
        id: &str,
        cmd: Command,
    ) -> std::result::Result<(ConversationSnapshot, Option<Warning>), EngineError> {
        let conv = self
            .conv(id)?
            .ok_or_else(|| EngineError::not_found(Reason::NoSuchConversation))?;
        let owns = conv.owner.as_deref() == Some(actor.user.as_str());
        let mut warning = None;
        let assigning = matches!(cmd, Command::Assign(_));
        let now = self.now;
        use ConversationState as S;
        match cmd {
            Command::Accept => {
                let ws = self.workstream(&conv.channel_id)?;
                match conv.state {
                    S::Open if conv.offered_to.as_deref() == Some(actor.user.as_str()) => {}
                    S::Open if ws.mode == DistributionMode::Pick => {
                        let queue = self.queue(&conv.queue_id)?;
                        if !self.is_member(&queue, &actor.user)? {
                            return Err(EngineError::forbidden(Reason::NotQueueMember));
                        }
                    }
                    S::Waiting if owns => {}
                    S::Open => return Err(EngineError::conflict(Reason::NotOffered)),
                    S::Active | S::Waiting | S::WrapUp if !owns => {
                        return Err(EngineError::conflict(Reason::OwnedByOther {
                            owner: conv.owner.clone(),
                        }))
                    }
                    state => {
                        return Err(EngineError::conflict(Reason::NotInState {
                            state: state.as_str().to_owned(),
                        }))
                    }
                }
                self.update(id, |c| {
                    c.state = S::Active;
                    c.owner = Some(actor.user.clone());
                    c.accepted_at = c.accepted_at.or(Some(now));
                    // Taking it is activity: a customer who wrote a day ago is not closed
                    // as idle the moment a representative takes them.
                    c.last_activity_at = c.last_activity_at.max(now);
                    clear_offer(c);
                    c.affinity_to = None;
                })?;
                self.remember_owner(&conv, &actor.user)?;
                self.emit(id)?;
                self.refresh_agent(&actor.user)?;
                if conv.state == S::Open {
                    // A colleague handed it over: the customer hears who has them now.
                    let trigger = if conv.transferred_from.is_some() {
                        Trigger::TransferAccepted
                    } else {
                        Trigger::Assigned
                    };
                    self.automated(id, &[trigger], Vec::new())?;
                }
            }
            Command::Reject => {
                if conv.state != S::Open || conv.offered_to.as_deref() != Some(actor.user.as_str())
                {
                    return Err(EngineError::conflict(Reason::NotOffered));
                }
                self.decline(&conv, &actor.user, super::Declined::Rejected)?;
            }
            Command::Wait => {
                self.require_owner(&conv, actor, &[S::Active])?;
                self.update(id, |c| c.state = S::Waiting)?;
                self.emit(id)?;
                self.refresh_owner(&conv)?;
            }
            Command::End => {
                self.require_owner(&conv, actor, &[S::Active, S::Waiting])?;
                let ws = self.workstream(&conv.channel_id)?;
                let until = match ws.wrap_up_blocks {
                    WrapUpBlocks::Always => None,
                    WrapUpBlocks::Never => Some(now),
                    WrapUpBlocks::Duration { ms } => Some(now + ms),
                };
                self.update(id, |c| {
                    c.state = S::WrapUp;
                    c.ended_at = Some(now);
                    c.wrapup_until = until;
                })?;
                self.emit(id)?;
                self.refresh_owner(&conv)?;
                self.automated(id, &[Trigger::Ended], Vec::new())?;
            }
            Command::Close(reason) => {
                if conv.state == S::Open && !actor.supervises() {
                    return Err(EngineError::forbidden(Reason::SupervisorOnly));
                }
                self.require_owner(&conv, actor, &[S::Open, S::Active, S::Waiting, S::WrapUp])?;
                if owns {
                    self.close(&conv, "agent")?;
                } else {
                    // Someone else's: a forced close, by a supervisor of its queue, who says why.
                    self.require_supervisor_of(&conv, actor)?;
                    let reason = reason.map(|r| r.trim().to_owned()).unwrap_or_default();
                    if reason.is_empty() || reason.chars().count() > super::MAX_REASON {
                        return Err(EngineError::Invalid(Invalid::new(
                            "reason",
                            Reason::Length {
                                min: 1,
                                max: super::MAX_REASON as u32,
                            },
                        )));
                    }
                    self.store
                        .audit(now, &actor.user, "force_close", id, Some(&reason))?;
                    self.close(&conv, "forced")?;
                }
            }
            Command::Monitor => {
                self.require_supervisor_of(&conv, actor)?;
                self.store.audit(now, &actor.user, "monitor", id, None)?;
            }
            Command::Note { text, whisper } => {
                let text = text.trim().to_owned();
                if text.is_empty() || text.chars().count() > super::MAX_NOTE {
                    return Err(EngineError::Invalid(Invalid::new(
                        "text",
                        Reason::Length {
                            min: 1,
                            max: super::MAX_NOTE as u32,
                        },
                    )));
                }
                if whisper {
                    self.require_supervisor_of(&conv, actor)?;
                    if conv.owner.is_none() {
                        return Err(EngineError::conflict(Reason::NotInState {
                            state: conv.state.as_str().to_owned(),
                        }));
                    }
                    self.store
                        .audit(now, &actor.user, "whisper", id, Some(&text))?;
                } else if !owns
                    && !self.store.consults(id, &actor.user)?
                    && !actor.supervises_queue(&self.queue(&conv.queue_id)?)
                {
                    return Err(EngineError::forbidden(Reason::OwnedByOther {
                        owner: conv.owner.clone(),
                    }));
                }
                self.note(&conv, &actor.user, &text, whisper)?;
            }
            Command::TransferToQueue(queue_id) => {
                self.require_owner(&conv, actor, &[S::Open, S::Active, S::Waiting])?;
                if !self.queue_exists(&queue_id)? {
                    return Err(EngineError::NotFound(Invalid::new(
                        "toQueue",
                        Reason::NoSuchQueue,
                    )));
                }
                if !owns {
                    self.store
                        .audit(now, &actor.user, "transfer", id, Some(&queue_id))?;
                }
                let queue = self.queue(&queue_id)?;
                self.update(id, |c| {
                    c.state = S::Open;
                    c.queue_id = queue_id.clone();
                    c.priority = i64::from(queue.priority);
                    c.transferred_from = c.owner.take().or(c.transferred_from.take());
                    clear_offer(c);
                    c.affinity_to = None;
                    // Whoever moved it chose the queue: its members take it whatever the first
                    // rule asked, and the new queue's overflow rules apply afresh.
                    c.required_skills.clear();
                    c.skill_match = Default::default();
                    c.overflowed_at = None;
                    c.overflow_done = 0;
                })?;
                self.store.clear_declines(id)?;
                self.emit(id)?;
                self.refresh_owner(&conv)?;
                if let Some(offered) = &conv.offered_to {
                    self.refresh_agent(offered)?;
                }
                self.overflow_queue(&queue_id)?;
                if !self.anyone_available(&queue)? {
                    warning = Some(Warning::NobodyAvailable {
                        queue: queue.name.clone(),
                    });
                    self.automated(id, &[Trigger::QueuePosition], Vec::new())?;
                }
            }
            Command::TransferToUser(target) | Command::Assign(target) => {
                self.require_owner(&conv, actor, &[S::Open, S::Active, S::Waiting])?;
                if assigning {
                    self.require_supervisor_of(&conv, actor)?;
                }
                let agent = self.agent_snapshot(&target)?.ok_or_else(|| {
                    EngineError::NotFound(Invalid::new("toUser", Reason::NoSuchUser))
                })?;
                if matches!(agent.presence, Presence::Offline | Presence::Inactive) {
                    return Err(EngineError::Conflict(Invalid::new(
                        "toUser",
                        Reason::Offline {
                            user: target.clone(),
                        },
                    )));
                }
                // Audited once it is sure to happen: a refused hand-over leaves no trace.
                if assigning {
                    self.store
                        .audit(now, &actor.user, "assign", id, Some(&target))?;
                } else if !owns {
                    self.store
                        .audit(now, &actor.user, "transfer", id, Some(&target))?;
                }
                if agent.used + conv.units > agent.capacity {
                    warning = Some(Warning::OverCapacity {
                        user: target.clone(),
                    });
                }
                self.update(id, |c| {
                    c.state = S::Active;
                    c.transferred_from = c
                        .owner
                        .take()
                        .or(c.offered_to.clone())
                        .or(c.transferred_from.take());
                    c.owner = Some(target.clone());
                    c.accepted_at = c.accepted_at.or(Some(now));
                    c.last_activity_at = c.last_activity_at.max(now);
                    clear_offer(c);
                    c.affinity_to = None;
                })?;
                self.store.remove_consultant(id, &target)?;
                self.remember_owner(&conv, &target)?;
                self.emit(id)?;
                self.refresh_owner(&conv)?;
                if let Some(offered) = &conv.offered_to {
                    self.refresh_agent(offered)?;
                }
                self.refresh_agent(&target)?;
                self.automated(id, &[Trigger::TransferAccepted], Vec::new())?;
            }
            Command::Consult(user) => {
                self.require_owner(&conv, actor, &[S::Active, S::Waiting, S::WrapUp])?;
                if Some(user.as_str()) == conv.owner.as_deref() {
                    return Err(EngineError::Conflict(Invalid::new(
                        "user",
                        Reason::ConsultSelf,
                    )));
                }
                if self.store.user_role(&user)?.is_none() {
                    return Err(EngineError::NotFound(Invalid::new(
                        "user",
                        Reason::NoSuchUser,
                    )));
                }
                self.store.add_consultant(id, &user)?;
                self.emit(id)?;
            }
            Command::Join(user) => {
                self.require_owner(&conv, actor, &[S::Active, S::Waiting, S::WrapUp])?;
                if user == actor.user && !owns {
                    // A supervisor joins herself: she writes alongside the owner.
                    self.require_supervisor_of(&conv, actor)?;
                    self.store.add_consultant(id, &user)?;
                    self.store.audit(now, &actor.user, "join", id, None)?;
                } else if Some(user.as_str()) == conv.owner.as_deref() {
                    return Err(EngineError::Conflict(Invalid::new(
                        "user",
                        Reason::ConsultSelf,
                    )));
                }
                if !self.store.join_consultant(id, &user)? {
                    return Err(EngineError::Conflict(Invalid::new(
                        "user",
                        Reason::ConsultFirst,
                    )));
                }
                self.emit(id)?;
            }
        }
        let snap = super::snapshot_of(&self.store, id)?
            .ok_or_else(|| EngineError::not_found(Reason::NoSuchConversation))?;
        Ok((snap, warning))
    }

    /// An admin, or a supervisor the conversation's queue lists.
    fn require_supervisor_of(
        &mut self,
        conv: &Conversation,
        actor: &Actor,
    ) -> std::result::Result<(), EngineError> {
        if actor.supervises_queue(&self.queue(&conv.queue_id)?) {
            Ok(())
        } else {
            Err(EngineError::forbidden(Reason::SupervisorOnly))
        }
    }

    /// Logs an internal note in the conversation: consoles that see the chat show it; LINE
    /// never hears of it.
    fn note(&mut self, conv: &Conversation, author: &str, text: &str, whisper: bool) -> Result<()> {
        let event_id = format!("note:{}", uuid::Uuid::new_v4());
        let event = json!({
            "type": super::NOTE_EVENT, "timestamp": self.now, "mode": "active",
            "source": super::output::source_of(&conv.chat_id),
            "webhookEventId": event_id, "conversationId": conv.id,
            "author": author, "text": text, "whisper": whisper,
        });
        self.append(&conv.channel_id, super::NOTE_EVENT, Some(event_id), event)
    }

    /// The conversation is in one of `states`, and the actor owns it or supervises its queue.
    fn require_owner(
        &mut self,
        conv: &Conversation,
        actor: &Actor,
        states: &[ConversationState],
    ) -> std::result::Result<(), EngineError> {
        if !states.contains(&conv.state) {
            return Err(EngineError::conflict(Reason::NotInState {
                state: conv.state.as_str().to_owned(),
            }));
        }
        if conv.owner.as_deref() != Some(actor.user.as_str())
            && !actor.supervises_queue(&self.queue(&conv.queue_id)?)
        {
            return Err(EngineError::forbidden(Reason::OwnedByOther {
                owner: conv.owner.clone(),
            }));
        }
        Ok(())
    }

    /// Affinity: the customer's next conversation is offered to `owner` first.
    fn remember_owner(&mut self, conv: &Conversation, owner: &str) -> Result<()> {
        let mut customer = self.store.customer(&conv.channel_id, &conv.chat_id)?;
        customer.last_owner = Some(owner.to_owned());
        self.store
            .save_customer(&conv.channel_id, &conv.chat_id, &customer)
    }

    pub(super) fn refresh_owner(&mut self, conv: &Conversation) -> Result<()> {
        if let Some(owner) = &conv.owner {
            self.refresh_agent(owner)?;
        }
        Ok(())
    }

    /// `user` declined the offer (or let it lapse): counted, and the item goes back to the
    /// queue without its affinity to them. The workstream may then change their presence
    /// (a missed offer often means nobody is at the desk).
    pub(super) fn decline(
        &mut self,
        conv: &Conversation,
        user: &str,
        how: super::Declined,
    ) -> Result<()> {
        self.store.add_decline(&conv.id, user)?;
        self.update(&conv.id, |c| {
            clear_offer(c);
            if c.affinity_to.as_deref() == Some(user) {
                c.affinity_to = None;
            }
        })?;
        self.emit(&conv.id)?;
        let rules = self.workstream(&conv.channel_id)?.presence_rules;
        let after = match how {
            super::Declined::Missed => rules.after_missed,
            super::Declined::Rejected => rules.after_reject,
        };
        if let Some(presence) = after {
            if let Some(mut agent) = self.store.agent(user)? {
                agent.chosen = presence;
                agent.updated_at = self.now;
                self.store.save_agent(&agent)?;
            }
        }
        self.refresh_agent(user)
    }

    /// Closes a conversation: frees capacity, remembers affinity, says goodbye, asks the survey.
    pub(super) fn close(&mut self, conv: &Conversation, reason: &str) -> Result<()> {
        let ws = self.workstream(&conv.channel_id)?;
        let mut survey_state = None;
        let mut extra = Vec::new();
        // Surveys go to customers someone actually talked to, and not after a supervisor
        // closed the conversation over its owner's head (spam, abuse, a duplicate).
        if conv.owner.is_some() && reason != "forced" {
            let lang = conv.language.as_deref();
            match &ws.survey {
                Survey::Off => {}
                Survey::Buttons {
                    question, scale, ..
                } => {
                    if let Some(q) = pick_language(question, lang, &ws.language) {
                        let items: Vec<Value> = scale
                            .iter()
                            .enumerate()
                            .map(|(i, label)| {
                                json!({"type": "action", "action": {
                                    "type": "postback", "label": label,
                                    "data": format!("{SURVEY_PREFIX}{}:{}", conv.id, i + 1),
                                    "displayText": label,
                                }})
                            })
                            .collect();
                        let mut m = Message::text(q);
                        m.quick_reply = Some(json!({ "items": items }));
                        extra.push(m);
                        survey_state = Some("asked");
                    }
                }
                Survey::Link { text, url } => {
                    if let Some(t) = pick_language(text, lang, &ws.language) {
                        extra.push(Message::text(t.replace("{Url}", url)));
                        survey_state = Some("done");
                    }
                }
            }
        }
        let now = self.now;
        self.update(&conv.id, |c| {
            c.state = ConversationState::Closed;
            c.closed_at = Some(now);
            c.close_reason = Some(reason.to_owned());
            c.survey_state = survey_state.map(str::to_owned);
            clear_offer(c);
        })?;
        self.live
            .remove(&(conv.channel_id.clone(), conv.chat_id.clone()));
        if let Some(owner) = &conv.owner {
            let mut customer = self.store.customer(&conv.channel_id, &conv.chat_id)?;
            customer.last_owner = Some(owner.clone());
            customer.last_closed_at = Some(now);
            self.store
                .save_customer(&conv.channel_id, &conv.chat_id, &customer)?;
        }
        self.emit(&conv.id)?;
        self.refresh_owner(conv)?;
        if let Some(offered) = &conv.offered_to {
            self.refresh_agent(offered)?;
        }
        self.automated(&conv.id, &[Trigger::Closed], extra)
    }
}

/// Nobody holds an offer for it any more.
pub(super) fn clear_offer(c: &mut Conversation) {
    c.offered_to = None;
    c.offered_at = None;
    c.offer_expires_at = None;
}
