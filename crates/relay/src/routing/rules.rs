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

/// The queue of the first matching rule.
pub fn choose<'r>(rules: &'r [Rule], facts: &Facts<'_>) -> Option<&'r str> {
    rules
        .iter()
        .find(|r| r.conditions.iter().all(|c| holds(c, facts)))
        .map(|r| r.queue.as_str())
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
        }
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
            choose(&rules, &facts(Some("ja"), Some("my invoice"))),
            Some("billing")
        );
        assert_eq!(
            choose(&rules, &facts(Some("zh-TW"), Some("請問帳單"))),
            Some("billing")
        );
        assert_eq!(
            choose(&rules, &facts(Some("ja"), Some("hello"))),
            Some("japanese")
        );
        assert_eq!(
            choose(&rules, &facts(Some("en"), Some("order #123456"))),
            Some("orders")
        );
        assert_eq!(choose(&rules, &facts(None, None)), None);
        let zh = vec![rule(
            "zh",
            vec![Condition::Language {
                any_of: vec!["zh".into()],
            }],
        )];
        assert_eq!(choose(&zh, &facts(Some("zh-TW"), None)), Some("zh"));
        assert_eq!(choose(&zh, &facts(Some("zhx"), None)), None);
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
        assert_eq!(choose(&rules, &facts(Some(&gold))), Some("vip"));
        assert_eq!(choose(&rules, &facts(Some(&plain))), Some("known"));
        assert_eq!(choose(&rules, &facts(None)), None);
    }
}
