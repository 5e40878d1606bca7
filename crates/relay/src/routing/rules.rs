//! Routing rules: the first rule whose conditions all hold chooses the queue.

use super::config::{Condition, Rule};
use super::hours;

/// What rules may look at.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// Channel the conversation came in on.
    pub channel_id: &'a str,
    /// The customer's LINE language, when known.
    pub language: Option<&'a str>,
    /// The first message's text, when it has one.
    pub text: Option<&'a str>,
    /// Whether the customer follows the account (`None`: unknown).
    pub following: Option<bool>,
    /// Now, UTC ms.
    pub now_ms: i64,
    /// The linked contact's fields (name, company, email, phone and custom fields), when the
    /// profile is linked to exactly one contact.
    pub contact: Option<&'a std::collections::BTreeMap<String, String>>,
}

/// The first rule whose conditions all hold, with its place in the list.
pub fn choose<'r>(rules: &'r [Rule], facts: &Facts<'_>) -> Option<(usize, &'r Rule)> {
    rules
        .iter()
        .enumerate()
        .find(|(_, r)| r.conditions.iter().all(|c| holds(c, facts)))
}

/// The queue a rule sends a conversation to: its queue, or with a percentage split the share
/// that `ticket` (0 to 99, uniform over conversations) falls in.
pub fn queue_of(rule: &Rule, ticket: u32) -> &str {
    let mut upto = 0;
    for share in &rule.split {
        upto += share.percent;
        if ticket < upto {
            return &share.queue;
        }
    }
    &rule.queue
}

/// A conversation's draw for a split, 0 to 99: from the random part of its ULID, so it is
/// uniform, and the same however often it is asked.
pub fn ticket(conversation_id: &str) -> u32 {
    ulid::Ulid::from_string(conversation_id)
        .map(|u| (u.random() % 100) as u32)
        .unwrap_or(0)
}

fn holds(c: &Condition, f: &Facts<'_>) -> bool {
    match c {
        Condition::Language { any_of } => f.language.is_some_and(|lang| {
            let lang = lang.to_ascii_lowercase();
            any_of.iter().any(|want| {
                let want = want.to_ascii_lowercase();
                lang == want || lang.starts_with(&format!("{want}-"))
            })
        }),
        Condition::Keywords { any_of } => f.text.is_some_and(|t| {
            let t = t.to_lowercase();
            any_of
                .iter()
                .any(|k| !k.is_empty() && t.contains(&k.to_lowercase()))
        }),
        Condition::Regex { pattern } => f.text.is_some_and(|t| {
            regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .is_ok_and(|re| re.is_match(t))
        }),
        Condition::Channel { any_of } => any_of.iter().any(|c| c == f.channel_id),
        Condition::Following { value } => f.following.unwrap_or(true) == *value,
        Condition::TimeOfDay {
            time_zone,
            from,
            to,
        } => hours::within(time_zone, from, to, f.now_ms),
        Condition::KnownContact { value } => f.contact.is_some() == *value,
        Condition::ContactField { name, any_of } => {
            f.contact.and_then(|c| c.get(name.trim())).is_some_and(|v| {
                any_of
                    .iter()
                    .any(|want| want.trim().eq_ignore_ascii_case(v.trim()))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(queue: &str, conditions: Vec<Condition>) -> Rule {
        Rule {
            name: queue.into(),
            conditions,
            queue: queue.into(),
            split: Vec::new(),
            required_skills: Vec::new(),
            skill_match: Default::default(),
        }
    }

    fn chosen<'r>(rules: &'r [Rule], facts: &Facts<'_>) -> Option<&'r str> {
        choose(rules, facts).map(|(_, r)| r.queue.as_str())
    }

    #[test]
    fn a_split_rule_spreads_conversations_by_percentage() {
        let mut r = rule("a", Vec::new());
        r.split = vec![
            crate::routing::config::Share {
                queue: "a".into(),
                percent: 70,
            },
            crate::routing::config::Share {
                queue: "b".into(),
                percent: 30,
            },
        ];
        assert_eq!(queue_of(&r, 0), "a");
        assert_eq!(queue_of(&r, 69), "a");
        assert_eq!(queue_of(&r, 70), "b");
        assert_eq!(queue_of(&r, 99), "b");
        // Over many conversations the draw is uniform: 70/30 within two points in 10,000
        // ULIDs (their random parts from a fixed sequence, so the test always sees the same).
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            // splitmix64
            seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let to_b = (0..10_000)
            .map(|i| {
                let random = (u128::from(next()) << 64 | u128::from(next())) & ((1 << 80) - 1);
                ulid::Ulid::from_parts(1_700_000_000_000 + i, random).to_string()
            })
            .filter(|id| queue_of(&r, ticket(id)) == "b")
            .count();
        assert!(
            (2_800..=3_200).contains(&to_b),
            "{to_b} of 10,000 went to b"
        );
        let id = ulid::Ulid::new().to_string();
        assert_eq!(
            ticket(&id),
            ticket(&id),
            "the same conversation draws the same"
        );
    }

    #[test]
    fn first_matching_rule_wins_and_language_matches_by_prefix() {
        let rules = vec![
            rule(
                "billing",
                vec![Condition::Keywords {
                    any_of: vec!["Invoice".into(), "帳單".into()],
                }],
            ),
            rule(
                "japanese",
                vec![Condition::Language {
                    any_of: vec!["ja".into()],
                }],
            ),
            rule(
                "orders",
                vec![Condition::Regex {
                    pattern: r"#\d{6}".into(),
                }],
            ),
        ];
        let facts = |language, text| Facts {
            channel_id: "c",
            language,
            text,
            following: Some(true),
            now_ms: 0,
            contact: None,
        };
        assert_eq!(
            chosen(&rules, &facts(Some("ja"), Some("my invoice"))),
            Some("billing")
        );
        assert_eq!(
            chosen(&rules, &facts(Some("zh-TW"), Some("請問帳單"))),
            Some("billing")
        );
        assert_eq!(
            chosen(&rules, &facts(Some("ja"), Some("hello"))),
            Some("japanese")
        );
        assert_eq!(
            chosen(&rules, &facts(Some("en"), Some("order #123456"))),
            Some("orders")
        );
        assert_eq!(chosen(&rules, &facts(None, None)), None);
        let zh = vec![rule(
            "zh",
            vec![Condition::Language {
                any_of: vec!["zh".into()],
            }],
        )];
        assert_eq!(chosen(&zh, &facts(Some("zh-TW"), None)), Some("zh"));
        assert_eq!(chosen(&zh, &facts(Some("zhx"), None)), None);
    }

    #[test]
    fn rules_look_at_the_linked_contact() {
        let rules = vec![
            rule(
                "vip",
                vec![Condition::ContactField {
                    name: "tier".into(),
                    any_of: vec!["Gold".into(), "platinum".into()],
                }],
            ),
            rule("known", vec![Condition::KnownContact { value: true }]),
        ];
        let gold: std::collections::BTreeMap<String, String> = [
            ("name".to_owned(), "Mei".to_owned()),
            ("tier".to_owned(), "gold".to_owned()),
        ]
        .into();
        let plain: std::collections::BTreeMap<String, String> =
            [("name".to_owned(), "Ken".to_owned())].into();
        let facts = |contact| Facts {
            channel_id: "c",
            language: None,
            text: None,
            following: Some(true),
            now_ms: 0,
            contact,
        };
        assert_eq!(chosen(&rules, &facts(Some(&gold))), Some("vip"));
        assert_eq!(chosen(&rules, &facts(Some(&plain))), Some("known"));
        assert_eq!(chosen(&rules, &facts(None)), None);
    }
}
