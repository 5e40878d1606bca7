//! Notification rules: which incoming messages deserve an OS notification.
//!
//! The core decides *what* to say; the shell's [`Notifier`] says it (notify-rust on Linux).
//! Text is customer-controlled: notifiers must show it as plain text (see [`plain_body`]).

use serde::Serialize;

/// A customer message that arrived, as the relay link stored it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inbound {
    /// Conversation.
    pub conversation_id: i64,
    /// Cache message id.
    pub message_id: i64,
    /// Customer's display name, if known.
    pub display_name: Option<String>,
    /// Plain-text preview (`[image]` and the like for media).
    pub preview: String,
    /// The conversation's first customer message: a new chat request.
    pub first: bool,
    /// The representative who has the conversation, as routing last said.
    pub owner: Option<String>,
}

/// What to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Conversation to open on click.
    pub conversation_id: i64,
    /// Title: the customer's name.
    pub title: String,
    /// Body: the message, plain text.
    pub body: String,
    /// A new chat request rather than a message in an ongoing conversation.
    pub request: bool,
    /// A push offer to answer with Accept or Reject.
    pub offer: Option<OfferAlert>,
}

/// The offer behind a request alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferAlert {
    /// The relay's conversation ID (for accept / reject).
    pub id: String,
    /// When the offer lapses, UTC ms.
    pub expires_at: i64,
}

/// The alert for a push offer to this representative: name, first message, queue.
pub fn offer_alert(
    conversation_id: i64,
    snap: &linedesk_protocol::routing::ConversationSnapshot,
    display_name: Option<String>,
) -> Option<Alert> {
    let offer = snap.offer.as_ref()?;
    let first = snap.first_text.clone().unwrap_or_default();
    Some(Alert {
        conversation_id,
        title: display_name.unwrap_or_default(),
        body: format!("{first}\n· {}", snap.queue_name),
        request: true,
        offer: Some(OfferAlert {
            id: snap.id.clone(),
            expires_at: offer.expires_at,
        }),
    })
}

/// A conversation that waited in its queue past the queue's service-level target (the relay
/// says so once; supervisors' consoles raise a toast and a notification).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Breach {
    /// The conversation in the cache.
    pub conversation_id: i64,
    /// Its queue's name.
    pub queue_name: String,
    /// When it opened, UTC ms.
    pub opened_at: i64,
    /// The queue's target, ms.
    pub target_ms: i64,
    /// When the relay saw it breach, UTC ms.
    pub at: i64,
}

/// A reminder came due ("remind me" on a conversation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// The conversation in the cache.
    pub conversation_id: i64,
    /// Whom it reminds.
    pub user: String,
    /// What for (may be empty).
    pub note: String,
    /// When the relay fired it, UTC ms.
    pub at: i64,
}

/// The notification for a reminder: the customer's name; `body` is the note, or words saying
/// the conversation was set aside until now.
pub fn reminder_alert(r: &Reminder, display_name: Option<String>, body: String) -> Alert {
    Alert {
        conversation_id: r.conversation_id,
        title: display_name.unwrap_or_default(),
        body,
        request: false,
        offer: None,
    }
}

/// Alerts older than this are history (a console catching up after a night), not news.
pub const BREACH_NEWS_MS: i64 = 10 * 60_000;

/// The notification for a breach: the customer's name; `body` says the queue and its target
/// in the console's language.
pub fn breach_alert(b: &Breach, display_name: Option<String>, body: String) -> Alert {
    Alert {
        conversation_id: b.conversation_id,
        title: display_name.unwrap_or_default(),
        body,
        request: false,
        offer: None,
    }
}

/// Shows alerts (the shell implements it).
pub trait Notifier: Send + Sync {
    /// Shows one alert; failures are logged by the implementation, never fatal.
    fn notify(&self, alert: &Alert);
}

/// What the window is doing, as the shell reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attention {
    /// The window has focus.
    pub focused: bool,
    /// The conversation open in the window.
    pub open_conversation: Option<i64>,
}

/// The rule: a message in one of my conversations alerts while I am not reading it and the
/// window is not focused (in focus, the list and its badges show it). A new chat does not
/// alert here: the relay offers it, and the offer alerts ([`offer_alert`]) whoever it goes to.
/// One alert per conversation per batch.
pub fn alerts(
    inbound: &[Inbound],
    attention: Attention,
    me: &str,
    unknown_name: &str,
) -> Vec<Alert> {
    let mut out: Vec<Alert> = Vec::new();
    for m in inbound {
        let mine = m.owner.as_deref() == Some(me);
        if !mine || attention.focused {
            continue;
        }
        if let Some(existing) = out
            .iter_mut()
            .find(|a| a.conversation_id == m.conversation_id)
        {
            existing.body = m.preview.clone();
            continue;
        }
        out.push(Alert {
            conversation_id: m.conversation_id,
            title: m
                .display_name
                .clone()
                .unwrap_or_else(|| unknown_name.to_owned()),
            body: m.preview.clone(),
            request: false,
            offer: None,
        });
    }
    out
}

/// Makes customer text safe for notification servers that interpret a subset of HTML in the
/// body (freedesktop "body-markup"): escapes `&`, `<`, `>` and shortens it.
pub fn plain_body(text: &str, max_chars: usize) -> String {
    let mut short: String = text.chars().take(max_chars).collect();
    if text.chars().count() > max_chars {
        short.push('…');
    }
    short
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(conv: i64, owner: Option<&str>) -> Inbound {
        Inbound {
            conversation_id: conv,
            message_id: 1,
            display_name: Some("王小明".into()),
            preview: "hi".into(),
            first: false,
            owner: owner.map(str::to_owned),
        }
    }

    #[test]
    fn only_my_conversations_alert_and_only_while_the_window_is_unfocused() {
        let focused = Attention {
            focused: true,
            open_conversation: Some(9),
        };
        let away = Attention {
            focused: false,
            open_conversation: Some(9),
        };
        assert!(
            alerts(&[msg(1, Some("rita"))], focused, "rita", "?").is_empty(),
            "in focus, the list shows it"
        );
        assert_eq!(
            alerts(
                &[
                    msg(9, Some("rita")),
                    msg(9, Some("rita")),
                    msg(2, Some("rita"))
                ],
                away,
                "rita",
                "?"
            )
            .len(),
            2,
            "one per conversation"
        );
        assert!(
            alerts(&[msg(3, Some("bob"))], away, "rita", "?").is_empty(),
            "a colleague's conversation"
        );
        assert!(
            alerts(
                &[Inbound {
                    first: true,
                    ..msg(4, None)
                }],
                away,
                "rita",
                "?"
            )
            .is_empty(),
            "a new chat alerts through its offer, to whoever it is offered"
        );
    }

    #[test]
    fn customer_text_cannot_inject_notification_markup() {
        assert_eq!(
            plain_body("<img src=x> & <b>", 100),
            "&lt;img src=x&gt; &amp; &lt;b&gt;"
        );
        assert_eq!(plain_body("abcdef", 3), "abc…");
    }
}
