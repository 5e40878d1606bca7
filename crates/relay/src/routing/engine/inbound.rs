//! Customer events from the log: messages open or wake conversations, follows and profiles
//! update what routing knows, the consent answer is recorded.

use linedesk_line::send::Message;
use linedesk_protocol::identity::ConsentState;
use linedesk_protocol::routing::{
    ConversationState, DistributionMode, AGENT_EVENT, CONVERSATION_EVENT,
};
use serde_json::{json, Value};

use super::super::config::{Trigger, Workstream, DEFAULT_QUEUE};
use super::super::hours::{self, Status};
use super::super::rules::{self, Facts};
use super::{Engine, CONSENT_PREFIX, SURVEY_PREFIX};
use crate::glance::Glance;
use crate::store::events::StoredEvent;
use crate::store::routing::{Conversation, Result, RoutingStore};

impl<S: RoutingStore> Engine<S> {
    /// Routes one logged event. Our own `linedesk*` events only feed activity and reply
    /// token bookkeeping.
    pub fn on_event(&mut self, ev: &StoredEvent) -> Result<()> {
        // Our own records of what the team did (not the customer): no activity, so a
        // whisper or an alert never keeps an idle conversation from closing.
        if ev.event_type == CONVERSATION_EVENT
            || ev.event_type == AGENT_EVENT
            || ev.event_type == "linedeskBlocked"
            || ev.event_type == super::NOTE_EVENT
            || ev.event_type == super::BREACH_EVENT
        {
            return Ok(());
        }
        if ev.event_type == "linedeskProfile" {
            return self.on_profile(ev);
        }
        // Borrowed from the body and typed, not a whole `Value`: this runs on the writer's
        // thread for every customer event.
        let body = Glance::of(&ev.body);
        if body.mode.as_deref() == Some("standby") {
            return Ok(());
        }
        let Some(chat) = body.chat().map(str::to_owned) else {
            return Ok(());
        };
        let channel = ev.channel_id.as_str();
        match ev.event_type.as_str() {
            "linedeskSent" => {
                // A representative (or we) wrote: activity; a reply spent the token (write
                // pending tokens first so a spent one is not brought back).
                self.flush_touches()?;
                let spent_reply = body.via.as_deref() == Some("reply");
                if let Some(mut c) = self.store.live_conversation(channel, &chat)? {
                    c.last_activity_at = c.last_activity_at.max(self.now);
                    if spent_reply {
                        c.reply_token = None;
                    }
                    self.store.save_conversation(&c)?;
                }
                Ok(())
            }
            "follow" | "unfollow" => {
                let mut customer = self.store.customer(channel, &chat)?;
                customer.following = Some(ev.event_type == "follow");
                self.store.save_customer(channel, &chat, &customer)?;
                self.touch_activity(channel, &chat)
            }
            "message" => self.on_message(ev, &body, &chat),
            "postback" => {
                let data = body.postback_data().unwrap_or_default();
                if let Some(rest) = data.strip_prefix(SURVEY_PREFIX) {
                    return self.on_survey_rating(channel, &chat, rest);
                }
                if let Some(answer) = data.strip_prefix(CONSENT_PREFIX) {
                    return self.on_consent(channel, &chat, answer);
                }
                self.on_message(ev, &body, &chat)
            }
            _ => self.touch_activity(channel, &chat),
        }
    }

    /// A profile fetched after the conversation opened gives it its language.
    fn on_profile(&mut self, ev: &StoredEvent) -> Result<()> {
        let body = Glance::of(&ev.body);
        let (Some(chat), Some(language)) = (body.chat(), body.profile_language()) else {
            return Ok(());
        };
        let chat = chat.to_owned();
        if let Some((id, _)) = self.live_state(&ev.channel_id, &chat)? {
            if let Some(mut c) = self.conv(&id)? {
                if c.language.is_none() {
                    c.language = Some(language.to_owned());
                    self.store.save_conversation(&c)?;
                    self.emit(&id)?;
                }
            }
        }
        Ok(())
    }

    fn touch_activity(&mut self, channel: &str, chat: &str) -> Result<()> {
        if let Some((id, _)) = self.live_state(channel, chat)? {
            self.touches.entry(id).or_default();
        }
        Ok(())
    }

    /// Writes the activity the batch's events left on busy conversations.
    pub fn flush_touches(&mut self) -> Result<()> {
        let touches: Vec<_> = self.touches.drain().collect();
        for (id, t) in touches {
            let now = self.now;
            self.update(&id, |c| {
                c.last_activity_at = now;
                if let Some(at) = t.last_customer_at {
                    c.last_customer_at = c.last_customer_at.max(at);
                }
                if let Some((token, at)) = t.reply_token {
                    c.reply_token = Some(token);
                    c.reply_token_at = Some(at);
                }
            })?;
        }
        Ok(())
    }

    fn on_message(&mut self, ev: &StoredEvent, body: &Glance<'_>, chat: &str) -> Result<()> {
        let channel = ev.channel_id.as_str();
        let message = body.message();
        let kind = message
            .and_then(|m| m.kind.as_deref())
            .unwrap_or("postback");
        let text = message
            .and_then(|m| m.text.as_deref())
            .or_else(|| body.postback_data())
            .map(str::to_owned);
        let reply_token = body.reply_token.as_deref().map(str::to_owned);
        // LINE's timestamp orders a burst; never let a late redelivery move time backwards.
        let at = ev.event_ts.min(self.now);

        if kind == "text" && self.maybe_survey_comment(channel, chat, text.as_deref())? {
            return Ok(());
        }
        let attachment = matches!(kind, "image" | "video" | "audio" | "file");
        let blocked = attachment && !self.workstream(channel)?.attachments.customers_can_send;
        let token = reply_token.map(|t| (t, self.now));

        let conv_id = match self.live_state(channel, chat)? {
            None => {
                // New conversations know their reply token before any automated message.
                let ws = self.workstream(channel)?;
                let id = self.open_conversation(channel, chat, &ws, text.as_deref(), at, token)?;
                self.live.insert(
                    (channel.to_owned(), chat.to_owned()),
                    Some((id.clone(), ConversationState::Open)),
                );
                id
            }
            Some((id, ConversationState::Waiting)) => {
                // The customer wrote to a conversation set aside: back to the queue, offered
                // to its owner first.
                let now = self.now;
                let woken = self.update(&id, |c| {
                    c.state = ConversationState::Open;
                    c.affinity_to = c.owner.take();
                    c.last_customer_at = at;
                    c.last_activity_at = now;
                    if let Some((t, t_at)) = &token {
                        c.reply_token = Some(t.clone());
                        c.reply_token_at = Some(*t_at);
                    }
                })?;
                self.live.insert(
                    (channel.to_owned(), chat.to_owned()),
                    Some((id.clone(), ConversationState::Open)),
                );
                self.emit(&id)?;
                if let Some(owner) = woken.and_then(|c| c.affinity_to) {
                    self.refresh_agent(&owner)?;
                }
                id
            }
            Some((id, _)) => {
                let touch = self.touches.entry(id.clone()).or_default();
                touch.last_customer_at = Some(touch.last_customer_at.map_or(at, |t| t.max(at)));
                if token.is_some() {
                    touch.reply_token = token;
                }
                id
            }
        };
        if blocked {
            // Kept in the log (nothing acknowledged is lost), hidden from representatives.
            let message_id = message.and_then(|m| m.id.as_deref()).unwrap_or_default();
            // The source as LINE wrote it, read whole on this rare path; the chat's own when
            // the body is one a `Value` refuses (the glance reads past what it skips).
            let source = serde_json::from_str::<Value>(&ev.body)
                .ok()
                .and_then(|b| b.get("source").cloned())
                .unwrap_or_else(|| super::output::source_of(chat));
            let event = json!({
                "type": "linedeskBlocked", "timestamp": self.now, "mode": "active",
                "source": source, "webhookEventId": format!("blocked:{message_id}"),
                "messageId": message_id, "reason": "workstream_forbids_customer_attachments",
            });
            self.append(
                channel,
                "linedeskBlocked",
                Some(format!("blocked:{message_id}")),
                event,
            )?;
            self.flush_touches()?;
            self.automated(&conv_id, &[Trigger::AttachmentBlocked], Vec::new())?;
        }
        Ok(())
    }

    fn open_conversation(
        &mut self,
        channel: &str,
        chat: &str,
        ws: &Workstream,
        text: Option<&str>,
        at: i64,
        token: Option<(String, i64)>,
    ) -> Result<String> {
        let (language, _name) = self.store.profile(channel, chat)?;
        let customer = self.store.customer(channel, chat)?;
        let contact = self.store.contact_facts(channel, chat)?;
        let facts = Facts {
            channel_id: channel,
            language: language.as_deref(),
            text,
            following: customer.following,
            now_ms: self.now,
            contact: contact.as_ref(),
        };
        let id = ulid::Ulid::new().to_string();
        let rule = rules::choose(&ws.rules, &facts).map(|(_, r)| r);
        let mut queue_id = rule
            .map(|r| rules::queue_of(r, rules::ticket(&id)))
            .unwrap_or(&ws.fallback_queue)
            .to_owned();
        if !self.queue_exists(&queue_id)? {
            queue_id = DEFAULT_QUEUE.into();
        }
        let affinity_to = match (ws.affinity, customer.last_owner, customer.last_closed_at) {
            (true, Some(owner), Some(closed)) if self.now - closed <= ws.affinity_window_ms => {
                Some(owner)
            }
            _ => None,
        };
        let priority = i64::from(self.queue(&queue_id)?.priority);
        let (reply_token, reply_token_at) = token.unzip();
        self.store.insert_conversation(&Conversation {
            id: id.clone(),
            version: 1,
            channel_id: channel.to_owned(),
            chat_id: chat.to_owned(),
            state: ConversationState::Open,
            queue_id: queue_id.clone(),
            priority,
            owner: None,
            affinity_to,
            offered_to: None,
            offered_at: None,
            offer_expires_at: None,
            first_text: text.map(|t| t.chars().take(200).collect()),
            language: language.clone(),
            opened_at: self.now,
            last_customer_at: at,
            last_activity_at: self.now,
            accepted_at: None,
            ended_at: None,
            wrapup_until: None,
            closed_at: None,
            close_reason: None,
            transferred_from: None,
            reply_token,
            reply_token_at,
            last_trigger: None,
            survey_state: None,
            units: ws.capacity_units,
            required_skills: rule.map(|r| r.required_skills.clone()).unwrap_or_default(),
            skill_match: rule.map(|r| r.skill_match).unwrap_or_default(),
            overflowed_at: None,
            overflow_done: 0,
        })?;
        let consent = self.ask_consent(channel, chat, language.as_deref())?;
        self.emit(&id)?;
        // Too many waiting already: it may move on before anyone is told where it waits.
        self.overflow_queue(&queue_id)?;
        let queue_id = self.conv(&id)?.map(|c| c.queue_id).unwrap_or(queue_id);

        let mut triggers = vec![Trigger::Greeting];
        let queue = self.queue(&queue_id)?;
        let waits = match queue.hours.as_ref().map(|h| hours::status(h, self.now)) {
            Some(Status::Closed) => {
                triggers.push(Trigger::OutOfHours);
                true
            }
            Some(Status::Holiday) => {
                triggers.push(Trigger::Holiday);
                true
            }
            _ if ws.mode == DistributionMode::Push && !self.anyone_available(&queue)? => {
                triggers.push(Trigger::NoAgent);
                true
            }
            _ => ws.mode == DistributionMode::Pick,
        };
        if waits {
            triggers.push(Trigger::QueuePosition);
        }
        self.automated(&id, &triggers, consent.into_iter().collect())?;
        Ok(id)
    }

    /// The channel's consent question for a profile never asked before (recorded as asked).
    fn ask_consent(
        &mut self,
        channel: &str,
        chat: &str,
        language: Option<&str>,
    ) -> Result<Option<Message>> {
        let Some(settings) = self.store.consent_settings(channel)? else {
            return Ok(None);
        };
        if !self.store.mark_consent_asked(channel, chat, self.now)? {
            return Ok(None);
        }
        let Some(text) = super::pick_language(&settings.message, language, "*") else {
            return Ok(None);
        };
        let button = |label: &str, answer: &str| {
            json!({"type": "action", "action": {
                "type": "postback", "label": label.chars().take(20).collect::<String>(),
                "data": format!("{CONSENT_PREFIX}{answer}"), "displayText": label,
            }})
        };
        let mut m = Message::text(text);
        m.quick_reply = Some(json!({"items": [
            button(&settings.agree, "granted"),
            button(&settings.decline, "declined"),
        ]}));
        Ok(Some(m))
    }

    /// The customer answered the consent question: recorded with the time, and the live
    /// conversation told (the representative's banner goes away).
    fn on_consent(&mut self, channel: &str, chat: &str, answer: &str) -> Result<()> {
        let state = match answer {
            "granted" => ConsentState::Granted,
            "declined" => ConsentState::Declined,
            _ => return Ok(()),
        };
        self.store.answer_consent(channel, chat, state, self.now)?;
        self.profile_changed(channel, chat)
    }

    /// An admin deleted the channel: every conversation still open is closed with the reason
    /// `channel_deleted` (no survey), and `message`, when given, goes to its customer.
    pub fn close_channel(&mut self, channel: &str, message: Option<&str>) -> Result<usize> {
        self.flush_touches()?;
        let ids = self.store.live_in_channel(channel)?;
        for id in &ids {
            let Some(conv) = self.conv(id)? else { continue };
            let now = self.now;
            self.update(id, |c| {
                c.state = ConversationState::Closed;
                c.closed_at = Some(now);
                c.close_reason = Some("channel_deleted".into());
                c.offered_to = None;
                c.offered_at = None;
                c.offer_expires_at = None;
            })?;
            self.live
                .remove(&(conv.channel_id.clone(), conv.chat_id.clone()));
            self.emit(id)?;
            self.refresh_owner(&conv)?;
            if let Some(offered) = &conv.offered_to {
                self.refresh_agent(offered)?;
            }
            if let Some(text) = message.map(str::trim).filter(|t| !t.is_empty()) {
                self.queue_messages(&conv, "channel_deleted", vec![Message::text(text)])?;
            }
        }
        Ok(ids.len())
    }

    /// Something about the profile changed (contact link, consent): every conversation of it
    /// that consoles still show is logged again.
    pub fn profile_changed(&mut self, channel: &str, chat: &str) -> Result<()> {
        self.flush_touches()?;
        for id in self.store.shown_of_chat(channel, chat)? {
            self.emit(&id)?;
        }
        Ok(())
    }
}
