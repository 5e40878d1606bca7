//! The routing tables in memory: [`MemoryRouting`] answers [`RoutingStore`] from maps, so the
//! engine's rules run in unit tests without a database. It keeps the same meaning as
//! [`super::routing::SqliteRouting`] (queue order, load, the survey's first rating wins);
//! the relay's scenario tests run the same rules on SQLite.

use std::collections::{BTreeMap, HashMap};

use linedesk_protocol::identity::{ConsentSettings, ConsentState, ContactBrief};
use linedesk_protocol::routing::{Consultant, ConversationState, Presence, SurveyAnswer};

use super::events::NewEvent;
use super::routing::{Agent, Conversation, Customer, NewAutomated, Result, RoutingStore, Waiting};
use crate::routing::config::{Queue, Workstream};

type Chat = (String, String);

fn waiting(c: &Conversation) -> Waiting {
    Waiting {
        id: c.id.clone(),
        channel_id: c.channel_id.clone(),
        queue_id: c.queue_id.clone(),
        affinity_to: c.affinity_to.clone(),
        units: c.units,
        required_skills: c.required_skills.clone(),
        skill_match: c.skill_match,
        last_customer_at: c.last_customer_at,
        overflowed_at: c.overflowed_at,
        overflow_done: c.overflow_done,
    }
}

fn chat(channel: &str, chat: &str) -> Chat {
    (channel.to_owned(), chat.to_owned())
}

/// A survey answer as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredAnswer {
    /// Who had the conversation.
    pub owner: Option<String>,
    /// The rating.
    pub rating: Option<u8>,
    /// The comment.
    pub comment: Option<String>,
}

/// Every routing table, in maps.
#[derive(Debug, Default)]
pub struct MemoryRouting {
    /// Workstreams by channel.
    pub workstreams: HashMap<String, Workstream>,
    /// Saved queues by id.
    pub queues: HashMap<String, Queue>,
    /// Channels' consent questions.
    pub consent_settings: HashMap<String, ConsentSettings>,
    /// Conversations by id.
    pub conversations: BTreeMap<String, Conversation>,
    /// Customers by (channel, chat).
    pub customers: HashMap<Chat, Customer>,
    /// LINE profiles' (language, display name) by (channel, user).
    pub profiles: HashMap<Chat, (Option<String>, Option<String>)>,
    /// Linked contacts' fields by (channel, user).
    pub contacts: HashMap<Chat, BTreeMap<String, String>>,
    /// Consent by (channel, user).
    pub consents: HashMap<Chat, ConsentState>,
    /// Accounts: role name by user.
    pub users: BTreeMap<String, String>,
    /// Skills by user.
    pub skills: HashMap<String, Vec<String>>,
    /// Routing rows by user.
    pub agents: BTreeMap<String, Agent>,
    /// Declines by (conversation, user).
    pub declines: HashMap<Chat, u32>,
    /// Consultants by (conversation, user): whether they joined.
    pub consultants: BTreeMap<Chat, bool>,
    /// Survey answers by conversation.
    pub answers: HashMap<String, StoredAnswer>,
    /// When conversations breached their queue's target, by id.
    pub breached: HashMap<String, i64>,
    /// Supervisors' actions: (at, actor, action, conversation, detail).
    pub audit: Vec<(i64, String, String, String, Option<String>)>,
    /// Automated messages queued, in order.
    pub automated: Vec<NewAutomated>,
    /// Events appended, in order, with their channel.
    pub events: Vec<(String, NewEvent)>,
}

impl MemoryRouting {
    /// Adds an account.
    pub fn with_user(mut self, name: &str, role: &str) -> Self {
        self.users.insert(name.to_owned(), role.to_owned());
        self
    }
}

impl RoutingStore for MemoryRouting {
    fn workstream(&self, channel: &str) -> Result<Workstream> {
        Ok(self.workstreams.get(channel).cloned().unwrap_or_default())
    }

    fn queue(&self, id: &str) -> Result<Option<Queue>> {
        Ok(self.queues.get(id).cloned())
    }

    fn consent_settings(&self, channel: &str) -> Result<Option<ConsentSettings>> {
        Ok(self.consent_settings.get(channel).cloned())
    }

    fn conversation(&self, id: &str) -> Result<Option<Conversation>> {
        Ok(self.conversations.get(id).cloned())
    }

    fn live_conversation(&self, channel: &str, chat_id: &str) -> Result<Option<Conversation>> {
        Ok(self
            .conversations
            .values()
            .find(|c| {
                c.channel_id == channel
                    && c.chat_id == chat_id
                    && c.state != ConversationState::Closed
            })
            .cloned())
    }

    fn insert_conversation(&mut self, c: &Conversation) -> Result<()> {
        self.conversations.insert(c.id.clone(), c.clone());
        Ok(())
    }

    fn save_conversation(&mut self, c: &Conversation) -> Result<()> {
        if let Some(row) = self.conversations.get_mut(&c.id) {
            *row = c.clone();
        }
        Ok(())
    }

    fn live_in_channel(&self, channel: &str) -> Result<Vec<String>> {
        Ok(self
            .conversations
            .values()
            .filter(|c| c.channel_id == channel && c.state != ConversationState::Closed)
            .map(|c| c.id.clone())
            .collect())
    }

    fn shown_of_chat(&self, channel: &str, chat_id: &str) -> Result<Vec<String>> {
        let of_chat = || {
            self.conversations
                .values()
                .filter(move |c| c.channel_id == channel && c.chat_id == chat_id)
        };
        let latest = of_chat().max_by_key(|c| c.opened_at).map(|c| c.id.clone());
        Ok(of_chat()
            .filter(|c| c.state != ConversationState::Closed || Some(&c.id) == latest.as_ref())
            .map(|c| c.id.clone())
            .collect())
    }

    fn rated_since(&self, channel: &str, chat_id: &str, since: i64) -> Result<Option<String>> {
        Ok(self
            .conversations
            .values()
            .filter(|c| {
                c.channel_id == channel
                    && c.chat_id == chat_id
                    && c.state == ConversationState::Closed
                    && c.survey_state.as_deref() == Some("rated")
                    && c.closed_at.is_some_and(|at| at >= since)
            })
            .max_by_key(|c| c.closed_at)
            .map(|c| c.id.clone()))
    }

    fn offered_to(&self, user: &str) -> Result<Vec<String>> {
        Ok(self
            .conversations
            .values()
            .filter(|c| c.state == ConversationState::Open && c.offered_to.as_deref() == Some(user))
            .map(|c| c.id.clone())
            .collect())
    }

    fn lapsed_offers(&self, now: i64) -> Result<Vec<String>> {
        Ok(self
            .conversations
            .values()
            .filter(|c| {
                c.state == ConversationState::Open && c.offer_expires_at.is_some_and(|t| t <= now)
            })
            .map(|c| c.id.clone())
            .collect())
    }

    fn channels_with_held(&self) -> Result<Vec<String>> {
        let mut channels: Vec<String> = self
            .conversations
            .values()
            .filter(|c| held(c.state))
            .map(|c| c.channel_id.clone())
            .collect();
        channels.sort();
        channels.dedup();
        Ok(channels)
    }

    fn idle_held(&self, channel: &str, before: i64) -> Result<Vec<String>> {
        Ok(self
            .conversations
            .values()
            .filter(|c| c.channel_id == channel && held(c.state) && c.last_activity_at <= before)
            .map(|c| c.id.clone())
            .collect())
    }

    fn waiting_page(&self, limit: usize, offset: usize) -> Result<Vec<Waiting>> {
        let mut open: Vec<&Conversation> = self
            .conversations
            .values()
            .filter(|c| c.state == ConversationState::Open && c.offered_to.is_none())
            .collect();
        open.sort_by(|a, b| {
            b.affinity_to
                .is_some()
                .cmp(&a.affinity_to.is_some())
                .then(b.priority.cmp(&a.priority))
                .then(a.last_customer_at.cmp(&b.last_customer_at))
                .then(a.id.cmp(&b.id))
        });
        Ok(open
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(waiting)
            .collect())
    }

    fn units_held(&self, user: &str, now: i64) -> Result<u32> {
        Ok(self
            .conversations
            .values()
            .filter(|c| {
                let owned = c.owner.as_deref() == Some(user)
                    && (c.state == ConversationState::Active
                        || (c.state == ConversationState::WrapUp
                            && c.wrapup_until.is_none_or(|u| u > now)));
                let offered =
                    c.state == ConversationState::Open && c.offered_to.as_deref() == Some(user);
                owned || offered
            })
            .map(|c| c.units)
            .sum())
    }

    fn holds_work(&self, user: &str) -> Result<bool> {
        Ok(self
            .conversations
            .values()
            .any(|c| c.owner.as_deref() == Some(user) && held(c.state)))
    }

    fn waiting_in(&self, queue: &str) -> Result<Vec<Waiting>> {
        let mut open: Vec<&Conversation> = self
            .conversations
            .values()
            .filter(|c| {
                c.state == ConversationState::Open && c.offered_to.is_none() && c.queue_id == queue
            })
            .collect();
        open.sort_by(|a, b| {
            a.last_customer_at
                .cmp(&b.last_customer_at)
                .then(a.id.cmp(&b.id))
        });
        Ok(open.into_iter().map(waiting).collect())
    }

    fn channels_with_open(&self) -> Result<Vec<String>> {
        let mut channels: Vec<String> = self
            .conversations
            .values()
            .filter(|c| c.state == ConversationState::Open)
            .map(|c| c.channel_id.clone())
            .collect();
        channels.sort();
        channels.dedup();
        Ok(channels)
    }

    fn unbreached_open(&self, queue: &str, before: i64) -> Result<Vec<String>> {
        Ok(self
            .conversations
            .values()
            .filter(|c| {
                c.queue_id == queue
                    && c.state == ConversationState::Open
                    && c.opened_at <= before
                    && !self.breached.contains_key(&c.id)
            })
            .map(|c| c.id.clone())
            .collect())
    }

    fn mark_breached(&mut self, id: &str, at: i64) -> Result<()> {
        self.breached.insert(id.to_owned(), at);
        Ok(())
    }

    fn idle_open(&self, channel: &str, before: i64) -> Result<Vec<String>> {
        Ok(self
            .conversations
            .values()
            .filter(|c| {
                c.channel_id == channel
                    && c.state == ConversationState::Open
                    && c.last_activity_at <= before
            })
            .map(|c| c.id.clone())
            .collect())
    }

    fn queues(&self) -> Result<Vec<(String, Queue)>> {
        let mut all: Vec<(String, Queue)> = self
            .queues
            .iter()
            .map(|(id, q)| (id.clone(), q.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(all)
    }

    fn user_skills(&self, user: &str) -> Result<Vec<String>> {
        Ok(self.skills.get(user).cloned().unwrap_or_default())
    }

    fn customer(&self, channel: &str, chat_id: &str) -> Result<Customer> {
        Ok(self
            .customers
            .get(&chat(channel, chat_id))
            .cloned()
            .unwrap_or_default())
    }

    fn save_customer(&mut self, channel: &str, chat_id: &str, c: &Customer) -> Result<()> {
        self.customers.insert(chat(channel, chat_id), c.clone());
        Ok(())
    }

    fn profile(&self, channel: &str, chat_id: &str) -> Result<(Option<String>, Option<String>)> {
        Ok(self
            .profiles
            .get(&chat(channel, chat_id))
            .cloned()
            .unwrap_or_default())
    }

    fn contact_facts(
        &self,
        channel: &str,
        chat_id: &str,
    ) -> Result<Option<BTreeMap<String, String>>> {
        Ok(self.contacts.get(&chat(channel, chat_id)).cloned())
    }

    fn contact_brief(
        &self,
        _channel: &str,
        _chat: &str,
    ) -> Result<(Option<ContactBrief>, Option<String>)> {
        Ok((None, None))
    }

    fn consent(&self, channel: &str, chat_id: &str) -> Result<Option<ConsentState>> {
        Ok(self.consents.get(&chat(channel, chat_id)).copied())
    }

    fn mark_consent_asked(&mut self, channel: &str, chat_id: &str, _now: i64) -> Result<bool> {
        let key = chat(channel, chat_id);
        if self.consents.contains_key(&key) {
            return Ok(false);
        }
        self.consents.insert(key, ConsentState::Asked);
        Ok(true)
    }

    fn answer_consent(
        &mut self,
        channel: &str,
        chat_id: &str,
        state: ConsentState,
        _now: i64,
    ) -> Result<()> {
        self.consents.insert(chat(channel, chat_id), state);
        Ok(())
    }

    fn user_role(&self, user: &str) -> Result<Option<String>> {
        Ok(self.users.get(user).cloned())
    }

    fn agent(&self, user: &str) -> Result<Option<Agent>> {
        Ok(self.agents.get(user).cloned())
    }

    fn agents(&self) -> Result<Vec<Agent>> {
        Ok(self.agents.values().cloned().collect())
    }

    fn available_agents(&self) -> Result<Vec<Agent>> {
        Ok(self
            .agents
            .values()
            .filter(|a| matches!(a.presence, Presence::Available | Presence::Busy))
            .filter(|a| self.users.get(&a.user).is_some_and(|r| !r.is_empty()))
            .cloned()
            .collect())
    }

    fn ensure_agent(&mut self, agent: &Agent) -> Result<()> {
        self.agents
            .entry(agent.user.clone())
            .or_insert_with(|| agent.clone());
        Ok(())
    }

    fn save_agent(&mut self, agent: &Agent) -> Result<()> {
        if let Some(row) = self.agents.get_mut(&agent.user) {
            *row = agent.clone();
        }
        Ok(())
    }

    fn add_decline(&mut self, conversation: &str, user: &str) -> Result<()> {
        *self.declines.entry(chat(conversation, user)).or_default() += 1;
        Ok(())
    }

    fn declines(&self, conversation: &str) -> Result<HashMap<String, u32>> {
        Ok(self
            .declines
            .iter()
            .filter(|((c, _), _)| c == conversation)
            .map(|((_, u), n)| (u.clone(), *n))
            .collect())
    }

    fn clear_declines(&mut self, conversation: &str) -> Result<()> {
        self.declines.retain(|(c, _), _| c != conversation);
        Ok(())
    }

    fn consultants(&self, conversation: &str) -> Result<Vec<Consultant>> {
        Ok(self
            .consultants
            .iter()
            .filter(|((c, _), _)| c == conversation)
            .map(|((_, user), joined)| Consultant {
                user: user.clone(),
                joined: *joined,
            })
            .collect())
    }

    fn add_consultant(&mut self, conversation: &str, user: &str) -> Result<()> {
        self.consultants
            .entry(chat(conversation, user))
            .or_insert(false);
        Ok(())
    }

    fn join_consultant(&mut self, conversation: &str, user: &str) -> Result<bool> {
        Ok(match self.consultants.get_mut(&chat(conversation, user)) {
            Some(joined) => {
                *joined = true;
                true
            }
            None => false,
        })
    }

    fn remove_consultant(&mut self, conversation: &str, user: &str) -> Result<()> {
        self.consultants.remove(&chat(conversation, user));
        Ok(())
    }

    fn audit(
        &mut self,
        at: i64,
        actor: &str,
        action: &str,
        conversation: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        self.audit.push((
            at,
            actor.into(),
            action.into(),
            conversation.into(),
            detail.map(str::to_owned),
        ));
        Ok(())
    }

    fn survey_answer(&self, conversation: &str) -> Result<Option<SurveyAnswer>> {
        Ok(self
            .answers
            .get(conversation)
            .filter(|a| a.rating.is_some() || a.comment.is_some())
            .map(|a| SurveyAnswer {
                rating: a.rating,
                comment: a.comment.clone(),
            }))
    }

    fn record_rating(
        &mut self,
        conversation: &str,
        owner: Option<&str>,
        rating: u8,
        _now: i64,
    ) -> Result<()> {
        self.answers
            .entry(conversation.to_owned())
            .or_insert_with(|| StoredAnswer {
                owner: owner.map(str::to_owned),
                rating: Some(rating),
                comment: None,
            });
        Ok(())
    }

    fn record_comment(&mut self, conversation: &str, comment: &str, _now: i64) -> Result<()> {
        if let Some(a) = self.answers.get_mut(conversation) {
            a.comment = Some(comment.to_owned());
        }
        Ok(())
    }

    fn queue_automated(&mut self, message: &NewAutomated) -> Result<()> {
        self.automated.push(message.clone());
        Ok(())
    }

    fn append_event(&mut self, channel: &str, event: NewEvent, _now: i64) -> Result<()> {
        // Like the log, an event ID is stored once.
        if let Some(id) = &event.webhook_event_id {
            if self
                .events
                .iter()
                .any(|(_, e)| e.webhook_event_id.as_ref() == Some(id))
            {
                return Ok(());
            }
        }
        self.events.push((channel.to_owned(), event));
        Ok(())
    }
}

/// Someone holds it: active, waiting or in wrap-up.
fn held(state: ConversationState) -> bool {
    matches!(
        state,
        ConversationState::Active | ConversationState::Waiting | ConversationState::WrapUp
    )
}
