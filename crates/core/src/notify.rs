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

/// The rule: new chat requests always alert; other messages only while the window is not
/// focused (in focus, the list and its badges show them). One alert per conversation per batch.
pub fn alerts(inbound: &[Inbound], attention: Attention, unknown_name: &str) -> Vec<Alert> {
    let mut out: Vec<Alert> = Vec::new();
    for m in inbound {
        let reading = attention.focused && attention.open_conversation == Some(m.conversation_id);
        if reading || (attention.focused && !m.first) {
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
            request: m.first,
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
        }
    }

    #[test]
    fn requests_always_alert_messages_only_when_unfocused() {
        let focused = Attention {
            focused: true,
            open_conversation: Some(9),
        };
        assert_eq!(
            alerts(&[msg(1, true)], focused, "?").len(),
            1,
            "a new request alerts even in focus"
        );
        assert!(
            alerts(&[msg(1, false)], focused, "?").is_empty(),
            "in focus, the list shows it"
        );
        assert!(
            alerts(&[msg(9, true)], focused, "?").is_empty(),
            "being read right now"
        );
        let away = Attention {
            focused: false,
            open_conversation: Some(9),
        };
        assert_eq!(
            alerts(&[msg(9, false), msg(9, false), msg(2, false)], away, "?").len(),
            2,
            "one per conversation"
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
