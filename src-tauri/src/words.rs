//! The words the shell shows outside the window (the notifications' buttons and the breach
//! notification, the tray's menu and its "n waiting"), in the console's language.
//!
//! The console sends them from its own catalogue whenever its language is chosen, so the four
//! languages live in one place. They are kept in the cache, so a restart speaks the chosen
//! language before the window has loaded; English until the console has said anything.

use std::sync::RwLock;

use serde::{Deserialize, Serialize};

/// Longest word or sentence accepted from the console.
const MAX_CHARS: usize = 200;
/// Where they are kept in the cache's `meta`.
const META_KEY: &str = "shell_words";

/// The shell's words in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ShellWords {
    /// A notification's default action.
    pub open: String,
    /// A chat request's "accept" button.
    pub accept: String,
    /// A chat request's "reject" button.
    pub reject: String,
    /// The tray's "show the window".
    pub show: String,
    /// The tray's "quit".
    pub quit: String,
    /// The tray's tooltip while items wait: `{count}` is filled in.
    pub waiting: String,
    /// A service-level breach: `{seconds}` and `{queue}` are filled in.
    pub breach: String,
    /// A reminder's notification, before its note.
    #[serde(default = "default_reminder")]
    pub reminder: String,
}

fn default_reminder() -> String {
    "Reminder".into()
}

impl Default for ShellWords {
    fn default() -> Self {
        Self {
            open: "Open".into(),
            accept: "Accept".into(),
            reject: "Reject".into(),
            show: "Show linedesk".into(),
            quit: "Quit linedesk".into(),
            waiting: "{count} waiting".into(),
            breach: "Waiting past the {seconds} s target · {queue}".into(),
            reminder: default_reminder(),
        }
    }
}

impl ShellWords {
    /// What is wrong with words the console sent, if anything.
    pub fn problem(&self) -> Option<String> {
        let all = [
            &self.open,
            &self.accept,
            &self.reject,
            &self.show,
            &self.quit,
            &self.waiting,
            &self.breach,
            &self.reminder,
        ];
        if all.iter().any(|w| w.trim().is_empty()) {
            return Some("every word is needed".into());
        }
        if all.iter().any(|w| w.chars().count() > MAX_CHARS) {
            return Some(format!("a word is longer than {MAX_CHARS} characters"));
        }
        None
    }

    /// The tray's tooltip for `count` waiting items.
    pub fn waiting(&self, count: u32) -> String {
        self.waiting.replace("{count}", &count.to_string())
    }

    /// The body of a reminder's notification: the word, then the note if there is one.
    pub fn reminder(&self, note: &str) -> String {
        match note.trim() {
            "" => self.reminder.clone(),
            note => format!("{} · {note}", self.reminder),
        }
    }

    /// The body of a breach notification.
    pub fn breach(&self, target_ms: i64, queue: &str) -> String {
        self.breach
            .replace("{seconds}", &(target_ms / 1000).to_string())
            .replace("{queue}", queue)
    }
}

/// The words in use.
#[derive(Debug, Default)]
pub struct Words(RwLock<ShellWords>);

impl Words {
    /// The words kept in the cache, or English.
    pub fn load(cache: &linedesk_core::cache::Cache) -> Self {
        let kept = cache
            .meta(META_KEY)
            .ok()
            .flatten()
            .and_then(|t| serde_json::from_str::<ShellWords>(&t).ok())
            .filter(|w| w.problem().is_none());
        Self(RwLock::new(kept.unwrap_or_default()))
    }

    /// A copy of the words in use.
    pub fn get(&self) -> ShellWords {
        self.0.read().expect("words lock").clone()
    }

    /// Uses `words` from now on and keeps them in the cache.
    pub fn set(&self, cache: &linedesk_core::cache::Cache, words: ShellWords) {
        if let Ok(text) = serde_json::to_string(&words) {
            if let Err(e) = cache.set_meta(META_KEY, &text) {
                tracing::warn!(error = %e, "could not keep the shell's words");
            }
        }
        *self.0.write().expect("words lock") = words;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fill_their_numbers_and_outlive_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = linedesk_core::cache::Cache::open(dir.path()).expect("cache");
        assert_eq!(Words::load(&cache).get(), ShellWords::default());
        let ja = ShellWords {
            open: "開く".into(),
            accept: "受け付ける".into(),
            reject: "断る".into(),
            show: "linedesk を表示".into(),
            quit: "linedesk を終了".into(),
            waiting: "{count} 件待機中".into(),
            breach: "目標 {seconds} 秒を超えて待機中 · {queue}".into(),
            reminder: "リマインダー".into(),
        };
        assert_eq!(ja.problem(), None);
        Words::default().set(&cache, ja.clone());
        let again = Words::load(&cache).get();
        assert_eq!(again, ja);
        assert_eq!(again.waiting(3), "3 件待機中");
        assert_eq!(
            again.breach(60_000, "一般"),
            "目標 60 秒を超えて待機中 · 一般"
        );
        assert_eq!(again.reminder("返金の件"), "リマインダー · 返金の件");
        assert_eq!(again.reminder(" "), "リマインダー");
        // Words kept before reminders existed still load.
        let old = r#"{"open":"a","accept":"b","reject":"c","show":"d","quit":"e","waiting":"f","breach":"g"}"#;
        let old: ShellWords = serde_json::from_str(old).expect("older words");
        assert_eq!(old.reminder, "Reminder");
        let empty = ShellWords {
            open: " ".into(),
            ..ja
        };
        assert!(empty.problem().is_some());
    }
}
