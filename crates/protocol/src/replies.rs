//! Quick replies: answers a representative inserts with `/` in the composer. The team's are
//! kept by supervisors and admins; everyone keeps their own. Each has a text per language and
//! variables filled when inserted (`{CustomerName}`, `{AgentName}`, `{ContactName}`,
//! `{Company}`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Longest title, in characters.
pub const MAX_TITLE: u32 = 100;
/// Longest text, in UTF-16 units (LINE's limit for a text message).
pub const MAX_TEXT: u32 = 5000;
/// Most languages one reply has.
pub const MAX_LANGUAGES: u32 = 20;
/// Most quick replies one user keeps, and the team keeps.
pub const MAX_REPLIES: u32 = 5000;

/// A quick reply as stored.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuickReply {
    /// Its ID.
    pub id: i64,
    /// The team's (kept by supervisors and admins), or `owner`'s own.
    pub team: bool,
    /// Whose own it is (`None` for the team's).
    pub owner: Option<String>,
    /// What the picker lists.
    pub title: String,
    /// The text by language (BCP-47: `en`, `zh-TW`, `ja`, `th` …).
    pub texts: BTreeMap<String, String>,
    /// A picture sent after the text, if any.
    #[serde(default)]
    pub image: Option<QuickReplyImage>,
    /// Last changed, UTC ms.
    pub updated_at: i64,
}

/// A quick reply's picture: an upload of the relay (`POST /api/uploads`), as LINE fetches it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuickReplyImage {
    /// The picture (`…/o/{token}`).
    pub url: String,
    /// Its preview (`…/o/{token}/preview`).
    pub preview_url: String,
}

impl QuickReplyImage {
    /// The upload's token, when the URLs are an upload's and its preview's.
    pub fn token(&self) -> Option<&str> {
        let (_, token) = self.url.rsplit_once("/o/")?;
        let valid = token.len() == 43
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (valid && self.preview_url == format!("{}/preview", self.url)).then_some(token)
    }
}

/// A quick reply as written (new, or in place of an old one).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuickReplyInput {
    /// The team's (supervisors and admins only) or the writer's own.
    pub team: bool,
    /// 1 to [`MAX_TITLE`] characters.
    pub title: String,
    /// At least one language; each text 1 to [`MAX_TEXT`] UTF-16 units.
    pub texts: BTreeMap<String, String>,
    /// A picture sent after the text: an image uploaded to the relay.
    #[serde(default)]
    pub image: Option<QuickReplyImage>,
}

/// Whether `tag` looks like a BCP-47 language tag (`en`, `zh-TW`, `th` …).
pub fn language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or_default();
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && tag.len() <= 16
}

#[cfg(test)]
mod tests {
    #[test]
    fn language_tags() {
        for ok in ["en", "zh-TW", "ja", "th", "pt-BR", "zh-Hant-TW"] {
            assert!(super::language_tag(ok), "{ok}");
        }
        for bad in ["", "E", "english", "zh_TW", "en-", "../x", "zh-TWWWWWWWWW"] {
            assert!(!super::language_tag(bad), "{bad}");
        }
    }
}
