//! Suggested answers from the team's own history, with no outside service: the customer's
//! question is compared with the questions customers asked before (full text, Chinese,
//! Japanese and Thai included), and what the team answered to the closest ones is offered.
//!
//! Similarity is term overlap weighted by rarity: Latin words (a prefix, so "arrive" and
//! "arrived" meet) and, for scripts written without spaces, each pair of neighbouring
//! characters. Each term fetches only its newest matches from the index, so the cost stays
//! bounded however large the cache grows.

use std::collections::HashMap;

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{search, Cache, CacheError};

/// Most terms taken from one question.
const MAX_TERMS: usize = 12;
/// Newest matches fetched per term.
const PER_TERM: usize = 300;
/// An answer counts when the team wrote it within this long after the question.
const ANSWER_WITHIN_MS: i64 = 24 * 3_600_000;

/// Words that say nothing about what a question is about.
const STOP: &[&str] = &[
    "the", "and", "you", "your", "for", "are", "was", "were", "what", "when", "how", "can",
    "could", "have", "has", "had", "with", "this", "that", "not", "yet", "please", "hello",
    "thanks", "thank", "there", "they", "them", "will", "would", "from", "about", "just", "still",
    "any", "why", "who", "our", "its", "but", "did", "does", "get", "got",
];

/// A past answer offered for the customer's question.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// What the team answered.
    pub answer: String,
    /// The earlier question it answered.
    pub question: String,
    /// Who answered.
    pub sent_by: Option<String>,
    /// When it was answered, UTC ms.
    pub answered_at: i64,
}

/// The terms of a question, each as an FTS5 query: Latin words as prefixes, neighbouring
/// characters of unspaced scripts as two-token phrases.
pub fn terms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let spaced = search::index_text(&text.to_lowercase());
    let tokens: Vec<&str> = spaced
        .split(|c: char| !c.is_alphanumeric() && !search::is_unspaced(c))
        .filter(|t| !t.is_empty())
        .collect();
    let unspaced = |t: &str| t.chars().next().is_some_and(search::is_unspaced);
    for (i, t) in tokens.iter().enumerate() {
        let term = if unspaced(t) {
            match tokens.get(i + 1) {
                Some(next) if unspaced(next) => format!("\"{t} {next}\""),
                _ => continue,
            }
        } else {
            let n = t.chars().count();
            if n < 3 || STOP.contains(t) || t.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            // A rough stem: "arrived" and "arrive" share "arriv".
            let keep = if n >= 5 { (n - 2).max(4) } else { n };
            format!("{}*", t.chars().take(keep).collect::<String>())
        };
        if !out.contains(&term) {
            out.push(term);
        }
    }
    out.truncate(MAX_TERMS);
    out
}

impl Cache {
    /// Suggestions for the newest customer text of conversation `conversation_id`, when it
    /// has not been answered yet.
    pub fn suggest_for(
        &self,
        conversation_id: i64,
        limit: usize,
    ) -> Result<Vec<Suggestion>, CacheError> {
        let newest: Option<(i64, String)> = self
            .r()
            .query_row(
                "SELECT id, direction FROM messages
                 WHERE conversation_id = ?1 AND hidden = 0 AND direction IN ('in', 'out')
                 ORDER BY created_at DESC, id DESC LIMIT 1",
                [conversation_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match newest {
            Some((id, direction)) if direction == "in" => self.suggest(id, limit),
            _ => Ok(Vec::new()),
        }
    }

    /// Up to `limit` answers the team gave to past questions most like message `question_id`
    /// (a customer's text), best first, each answer once.
    pub fn suggest(&self, question_id: i64, limit: usize) -> Result<Vec<Suggestion>, CacheError> {
        let conn = self.r();
        let question: Option<String> = conn
            .query_row(
                "SELECT text FROM messages WHERE id = ?1 AND direction = 'in' AND hidden = 0",
                [question_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        let Some(question) = question else {
            return Ok(Vec::new());
        };
        let terms = terms(&question);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        // Candidates: each term's newest matches; a rare term (fewer matches) weighs more.
        let mut scores: HashMap<i64, f64> = HashMap::new();
        {
            let mut stmt = conn.prepare_cached(
                "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2",
            )?;
            for term in &terms {
                let ids: Vec<i64> = stmt
                    .query_map(params![term, PER_TERM as i64], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                let weight = (1.0 + PER_TERM as f64 / ids.len().max(1) as f64).ln();
                for id in ids {
                    if id != question_id {
                        *scores.entry(id).or_default() += weight;
                    }
                }
            }
        }
        let mut ranked: Vec<(i64, f64)> = scores.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        let mut asked = conn.prepare_cached(
            "SELECT conversation_id, created_at, text FROM messages
             WHERE id = ?1 AND direction = 'in' AND hidden = 0 AND kind = 'text'",
        )?;
        let mut answered = conn.prepare_cached(
            "SELECT text, sent_by, created_at FROM messages
             WHERE conversation_id = ?1 AND (created_at, id) > (?2, ?3) AND created_at <= ?4
               AND direction = 'out' AND kind = 'text' AND automated IS NULL AND hidden = 0
               AND text IS NOT NULL
             ORDER BY created_at, id LIMIT 1",
        )?;
        let mut out: Vec<Suggestion> = Vec::new();
        // Only the best candidates are looked at: a customer's question with a team's answer.
        for (id, _) in ranked.into_iter().take(200) {
            let Some((conv, at, text)) = asked
                .query_row([id], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .optional()?
            else {
                continue;
            };
            let answer = answered
                .query_row(params![conv, at, id, at + ANSWER_WITHIN_MS], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .optional()?;
            if let Some((answer, sent_by, answered_at)) = answer {
                if out.iter().all(|s| s.answer != answer) {
                    out.push(Suggestion {
                        answer,
                        question: text,
                        sent_by,
                        answered_at,
                    });
                    if out.len() == limit {
                        break;
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::terms;

    #[test]
    fn terms_are_word_prefixes_and_character_pairs() {
        assert_eq!(
            terms("When will my parcel arrive? It's 3 days late."),
            ["parc*", "arri*", "days*", "late*"]
        );
        assert_eq!(
            terms("包裹什麼時候到"),
            [
                "\"包 裹\"",
                "\"裹 什\"",
                "\"什 麼\"",
                "\"麼 時\"",
                "\"時 候\"",
                "\"候 到\""
            ]
        );
        assert!(terms("hello, thanks!").is_empty());
    }
}
