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
    /// Routing has said something about this conversation (the relay distributes work).
    pub routed: bool,
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

/// The rule: a message in one of my conversations alerts while the window is not focused (in
/// focus, the list and its badges show it). Routed conversations that are not mine do not
/// alert: their offer does ([`offer_alert`]). Without routing (an older relay) a new chat
/// request always alerts. One alert per conversation per batch.
pub fn alerts(
    inbound: &[Inbound],
    attention: Attention,
    me: &str,
    unknown_name: &str,
) -> Vec<Alert> {
    let mut out: Vec<Alert> = Vec::new();
    for m in inbound {
        let reading = attention.focused && attention.open_conversation == Some(m.conversation_id);
        let mine = m.owner.as_deref() == Some(me);
        let new_unrouted_request = m.first && !m.routed;
        if reading || (m.routed && !mine) || (attention.focused && !new_unrouted_request) {
            continue;
        }
        if let Some(existing) = out
            .iter_mut()
            .find(|a| a.conversation_id == m.conversation_id)
        {
            existing.body = m.preview.clone();
            existing.request |= m.first;
            continue;
        }
        out.push(Alert {
            conversation_id: m.conversation_id,
            title: m
                .display_name
                .clone()
                .unwrap_or_else(|| unknown_name.to_owned()),
            body: m.preview.clone(),
            request: m.first && !m.routed,
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

    fn msg(conv: i64, first: bool) -> Inbound {
        Inbound {
            conversation_id: conv,
            message_id: 1,
            display_name: Some("王小明".into()),
            preview: "hi".into(),
            first,
            owner: None,
            routed: false,
        }
    }

    #[test]
    fn requests_always_alert_messages_only_when_unfocused() {
        let focused = Attention {
            focused: true,
            open_conversation: Some(9),
        };
        assert_eq!(
            alerts(&[msg(1, true)], focused, "rita", "?").len(),
            1,
            "a new request alerts even in focus"
        );
        assert!(
            alerts(&[msg(1, false)], focused, "rita", "?").is_empty(),
            "in focus, the list shows it"
        );
        assert!(
            alerts(&[msg(9, true)], focused, "rita", "?").is_empty(),
            "being read right now"
        );
        let away = Attention {
            focused: false,
            open_conversation: Some(9),
        };
        assert_eq!(
            alerts(
                &[msg(9, false), msg(9, false), msg(2, false)],
                away,
                "rita",
                "?"
            )
            .len(),
            2,
            "one per conversation"
        );
    }

    #[test]
    fn routed_conversations_alert_only_their_owner() {
        let away = Attention::default();
        let routed = |owner: Option<&str>| Inbound {
            owner: owner.map(str::to_owned),
            routed: true,
            ..msg(3, false)
        };
        assert_eq!(alerts(&[routed(Some("rita"))], away, "rita", "?").len(), 1);
        assert!(alerts(&[routed(Some("bob"))], away, "rita", "?").is_empty());
        assert!(
            alerts(
                &[Inbound {
                    first: true,
                    ..routed(None)
                }],
                away,
                "rita",
                "?"
            )
            .is_empty(),
            "a queued request alerts through its offer"
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
