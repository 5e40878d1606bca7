//! Automated messages (greeting, assigned, ended, out of hours…) and the survey: its rating
//! and comment.

use std::collections::BTreeMap;

use linedesk_line::send::Message;

use super::super::config::{Survey, Trigger};
use super::{Engine, COMMENT_WINDOW_MS, REPLY_TOKEN_FRESH_MS};
use crate::store::routing::{Conversation, NewAutomated, Result, RoutingStore};

/// The stored name of a trigger.
pub fn trigger_name(t: Trigger) -> &'static str {
    match t {
        Trigger::Greeting => "greeting",
        Trigger::Assigned => "assigned",
        Trigger::NoAgent => "no_agent",
        Trigger::Ended => "ended",
        Trigger::OutOfHours => "out_of_hours",
        Trigger::Holiday => "holiday",
        Trigger::Closed => "closed",
        Trigger::AttachmentBlocked => "attachment_blocked",
        Trigger::SurveyThanks => "survey_thanks",
        Trigger::QueuePosition => "queue_position",
        Trigger::TransferAccepted => "transfer_accepted",
    }
}

/// The text for a language: exact, then same base language, then the workstream's, then
/// English, then any.
pub fn pick_language<'t>(
    texts: &'t BTreeMap<String, String>,
    lang: Option<&str>,
    fallback: &str,
) -> Option<&'t str> {
    // An empty text is no text: the next language in line is used instead.
    let texts: Vec<(&String, &String)> =
        texts.iter().filter(|(_, t)| !t.trim().is_empty()).collect();
    let base = |l: &str| l.split('-').next().unwrap_or(l).to_ascii_lowercase();
    let find = |want: &str| {
        texts
            .iter()
            .find(|(k, _)| k.as_str() == want)
            .or_else(|| texts.iter().find(|(k, _)| base(k) == base(want)))
            .map(|(_, v)| *v)
    };
    lang.and_then(find)
        .or_else(|| find(fallback))
        .or_else(|| find("en"))
        .or_else(|| texts.first().map(|(_, v)| *v))
        .map(String::as_str)
}

impl<S: RoutingStore> Engine<S> {
    /// A text after a rating, within the comment window, is the survey's comment; `true`
    /// when it was taken as one.
    pub(super) fn maybe_survey_comment(
        &mut self,
        channel: &str,
        chat: &str,
        text: Option<&str>,
    ) -> Result<bool> {
        let Some(text) = text else { return Ok(false) };
        if self.live_state(channel, chat)?.is_some() {
            return Ok(false);
        }
        let Some(id) = self
            .store
            .rated_since(channel, chat, self.now - COMMENT_WINDOW_MS)?
        else {
            return Ok(false);
        };
        let comment: String = text.chars().take(2000).collect();
        self.store.record_comment(&id, &comment, self.now)?;
        self.update(&id, |c| c.survey_state = Some("done".into()))?;
        self.emit(&id)?;
        self.automated(&id, &[Trigger::SurveyThanks], Vec::new())?;
        Ok(true)
    }

    /// A tap on a survey button: `rest` is `{conversation}:{rating}`.
    pub(super) fn on_survey_rating(&mut self, channel: &str, chat: &str, rest: &str) -> Result<()> {
        let Some((id, rating)) = rest.rsplit_once(':') else {
            return Ok(());
        };
        let Ok(rating) = rating.parse::<u8>() else {
            return Ok(());
        };
        let Some(conv) = self
            .conv(id)?
            .filter(|c| c.channel_id == channel && c.chat_id == chat)
        else {
            return Ok(());
        };
        // Only the survey we asked, once: a second tap does not overwrite the first.
        if conv.survey_state.as_deref() != Some("asked") {
            return Ok(());
        }
        self.store
            .record_rating(id, conv.owner.as_deref(), rating, self.now)?;
        let ws = self.workstream(channel)?;
        let asks_comment = matches!(&ws.survey, Survey::Buttons { comment_prompt, .. }
            if comment_prompt.values().any(|t| !t.trim().is_empty()));
        self.update(id, |c| {
            c.survey_state = Some(if asks_comment { "rated" } else { "done" }.into());
        })?;
        self.emit(id)?;
        if let Survey::Buttons { comment_prompt, .. } = &ws.survey {
            if !asks_comment {
                self.automated(id, &[Trigger::SurveyThanks], Vec::new())?;
            } else if let Some(conv) = self.conv(id)? {
                if let Some(text) =
                    pick_language(comment_prompt, conv.language.as_deref(), &ws.language)
                {
                    self.queue_messages(&conv, "survey_comment", vec![Message::text(text)])?;
                }
            }
        }
        Ok(())
    }

    /// Queues the automated messages for `triggers` (each skipped when it was also the last
    /// one sent in this conversation, or has no text), plus `extra`, in one send.
    pub(super) fn automated(
        &mut self,
        id: &str,
        triggers: &[Trigger],
        extra: Vec<Message>,
    ) -> Result<()> {
        let Some(conv) = self.conv(id)? else {
            return Ok(());
        };
        let ws = self.workstream(&conv.channel_id)?;
        let queue_name = self.queue(&conv.queue_id)?.name;
        let (_, customer_name) = self.store.profile(&conv.channel_id, &conv.chat_id)?;
        let mut messages = Vec::new();
        let mut last = conv.last_trigger.clone();
        for trigger in triggers {
            let name = trigger_name(*trigger);
            if last.as_deref() == Some(name) {
                continue;
            }
            let Some(texts) = ws.messages.get(trigger) else {
                continue;
            };
            let Some(text) = pick_language(texts, conv.language.as_deref(), &ws.language) else {
                continue;
            };
            let mut text = text
                .replace("{AgentName}", conv.owner.as_deref().unwrap_or(""))
                .replace("{QueueName}", &queue_name)
                .replace("{CustomerName}", customer_name.as_deref().unwrap_or(""));
            if text.contains("{Position}") {
                text = text.replace("{Position}", &self.position(&conv)?.to_string());
            }
            messages.push(Message::text(text));
            last = Some(name.to_owned());
        }
        if last != conv.last_trigger {
            self.update(id, |c| c.last_trigger = last)?;
        }
        messages.extend(extra);
        if messages.is_empty() {
            return Ok(());
        }
        let label = triggers
            .first()
            .map(|t| trigger_name(*t))
            .unwrap_or("automated");
        self.queue_messages(&conv, label, messages)
    }

    /// The conversation's place in its queue, 1 first (1 when it is offered or held).
    pub(super) fn position(&self, conv: &Conversation) -> Result<usize> {
        Ok(self
            .store
            .waiting_in(&conv.queue_id)?
            .iter()
            .position(|w| w.id == conv.id)
            .map_or(1, |i| i + 1))
    }

    /// Queues one send of `messages` to the conversation's customer, as a reply while its
    /// token is fresh (spending it), else as a push.
    pub(super) fn queue_messages(
        &mut self,
        conv: &Conversation,
        trigger: &str,
        mut messages: Vec<Message>,
    ) -> Result<()> {
        messages.truncate(linedesk_line::send::MESSAGES_PER_REQUEST);
        let token = match (&conv.reply_token, conv.reply_token_at) {
            (Some(t), Some(at)) if self.now - at < REPLY_TOKEN_FRESH_MS => Some((t.clone(), at)),
            _ => None,
        };
        if token.is_some() {
            // Spent by this send; a representative's reply must push.
            self.update(&conv.id, |c| c.reply_token = None)?;
        }
        self.store.queue_automated(&NewAutomated {
            id: uuid::Uuid::new_v4().to_string(),
            conversation_id: conv.id.clone(),
            channel_id: conv.channel_id.clone(),
            chat_id: conv.chat_id.clone(),
            trigger: trigger.to_owned(),
            messages: serde_json::to_string(&messages).unwrap_or_else(|_| "[]".into()),
            reply_token: token,
            created_at: self.now,
        })?;
        self.queued_automated = true;
        Ok(())
    }
}
