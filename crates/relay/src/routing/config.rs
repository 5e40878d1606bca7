//! What an admin sets up (the types live in `linedesk_protocol::setup`, shared with the
//! console): checked by [`check_workstream`] and [`check_queue`] before anything is saved, each
//! refusal naming its field and a [`Reason`] the console words in the user's language.

use linedesk_protocol::routing::Presence;
use linedesk_protocol::Reason;

pub use linedesk_protocol::setup::{
    Attachments, Condition, Holiday, Hours, Overflow, OverflowAction, OverflowWhen, PresenceRules,
    Queue, Rule, ServiceLevel, Share, SkillMatch, Slot, Survey, Trigger, Workstream, WrapUpBlocks,
    DEFAULT_QUEUE,
};

/// Why a configuration was refused: the field, as a path into the JSON, and why.
pub type ConfigError = linedesk_protocol::Invalid;

fn bad(field: impl Into<String>, reason: Reason) -> ConfigError {
    ConfigError::new(field, reason)
}

/// Longest wrap-up block and offer countdown an admin may set.
const DAY_MS: i64 = 24 * 3_600_000;

/// Checks a whole workstream before it is saved: everything a running relay relies on.
/// `queue_exists` answers for queue IDs.
pub fn check_workstream(
    ws: &Workstream,
    queue_exists: &dyn Fn(&str) -> bool,
) -> Result<(), ConfigError> {
    if !queue_exists(&ws.fallback_queue) {
        return Err(bad("fallbackQueue", Reason::NoSuchQueue));
    }
    if !(1..=100).contains(&ws.capacity_units) {
        return Err(bad("capacityUnits", Reason::Range { min: 1, max: 100 }));
    }
    if !(10_000..=3_600_000).contains(&ws.offer_timeout_ms) {
        return Err(bad(
            "offerTimeoutMs",
            Reason::Duration {
                min_ms: 10_000,
                max_ms: 3_600_000,
            },
        ));
    }
    if !(1..=5).contains(&ws.decline_limit) {
        return Err(bad("declineLimit", Reason::Range { min: 1, max: 5 }));
    }
    if let WrapUpBlocks::Duration { ms } = ws.wrap_up_blocks {
        if !(0..=DAY_MS).contains(&ms) {
            return Err(bad(
                "wrapUpBlocks.ms",
                Reason::Duration {
                    min_ms: 0,
                    max_ms: DAY_MS,
                },
            ));
        }
    }
    if ws
        .auto_close_after_ms
        .is_some_and(|ms| !(60_000..=30 * DAY_MS).contains(&ms))
    {
        return Err(bad(
            "autoCloseAfterMs",
            Reason::Duration {
                min_ms: 60_000,
                max_ms: 30 * DAY_MS,
            },
        ));
    }
    if !(0..=365 * DAY_MS).contains(&ws.affinity_window_ms) {
        return Err(bad(
            "affinityWindowMs",
            Reason::Duration {
                min_ms: 0,
                max_ms: 365 * DAY_MS,
            },
        ));
    }
    if ws.language.trim().is_empty() {
        return Err(bad("language", Reason::Required));
    }
    if ws
        .open_auto_close_after_ms
        .is_some_and(|ms| !(3_600_000..=365 * DAY_MS).contains(&ms))
    {
        return Err(bad(
            "openAutoCloseAfterMs",
            Reason::Duration {
                min_ms: 3_600_000,
                max_ms: 365 * DAY_MS,
            },
        ));
    }
    let presences = |allowed: &[Presence]| Reason::OneOf {
        values: allowed.iter().map(|p| p.as_str().to_owned()).collect(),
    };
    const AFTER_MISSED: [Presence; 3] =
        [Presence::Inactive, Presence::Away, Presence::DoNotDisturb];
    const AFTER_REJECT: [Presence; 2] = [Presence::DoNotDisturb, Presence::Away];
    if let Some(p) = ws.presence_rules.after_missed {
        if !AFTER_MISSED.contains(&p) {
            return Err(bad("presenceRules.afterMissed", presences(&AFTER_MISSED)));
        }
    }
    if let Some(p) = ws.presence_rules.after_reject {
        if !AFTER_REJECT.contains(&p) {
            return Err(bad("presenceRules.afterReject", presences(&AFTER_REJECT)));
        }
    }
    for (i, rule) in ws.rules.iter().enumerate() {
        check_rule(rule, queue_exists)
            .map_err(|e| bad(format!("rules[{i}].{}", e.field), e.reason))?;
    }
    check_survey(&ws.survey)?;
    for (trigger, texts) in &ws.messages {
        for (lang, text) in texts {
            if linedesk_line::send::utf16_len(text) > linedesk_line::send::TEXT_MAX_UTF16 {
                return Err(bad(
                    format!("messages.{}.{lang}", trigger_name(*trigger)),
                    Reason::Length {
                        min: 0,
                        max: linedesk_line::send::TEXT_MAX_UTF16 as u32,
                    },
                ));
            }
        }
    }
    Ok(())
}

fn trigger_name(t: Trigger) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Checks one routing rule; fields are relative to the rule (`queue`, `conditions[0]`).
pub fn check_rule(rule: &Rule, queue_exists: &dyn Fn(&str) -> bool) -> Result<(), ConfigError> {
    if rule.name.chars().count() > 80 {
        return Err(bad("name", Reason::Length { min: 0, max: 80 }));
    }
    if !queue_exists(&rule.queue) {
        return Err(bad("queue", Reason::NoSuchQueue));
    }
    if !rule.split.is_empty() {
        for (k, share) in rule.split.iter().enumerate() {
            if !queue_exists(&share.queue) {
                return Err(bad(format!("split[{k}].queue"), Reason::NoSuchQueue));
            }
            if !(1..=100).contains(&share.percent) {
                return Err(bad(
                    format!("split[{k}].percent"),
                    Reason::Range { min: 1, max: 100 },
                ));
            }
        }
        for (k, share) in rule.split.iter().enumerate() {
            if rule.split[..k].iter().any(|s| s.queue == share.queue) {
                return Err(bad(format!("split[{k}].queue"), Reason::Duplicate));
            }
        }
        if rule.split.iter().map(|s| s.percent).sum::<u32>() != 100 {
            return Err(bad("split", Reason::Percentages));
        }
    }
    if rule.required_skills.len() > 10 {
        return Err(bad("requiredSkills", Reason::Count { min: 0, max: 10 }));
    }
    if let Some(k) = rule
        .required_skills
        .iter()
        .position(|s| s.trim().is_empty() || s.chars().count() > 40)
    {
        return Err(bad(
            format!("requiredSkills[{k}]"),
            Reason::Length { min: 1, max: 40 },
        ));
    }
    for (j, c) in rule.conditions.iter().enumerate() {
        let field = format!("conditions[{j}]");
        match c {
            Condition::Regex { pattern } => {
                regex::RegexBuilder::new(pattern)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| {
                        bad(
                            format!("{field}.pattern"),
                            Reason::Regex {
                                detail: e.to_string(),
                            },
                        )
                    })?;
            }
            Condition::TimeOfDay {
                time_zone,
                from,
                to,
            } => {
                super::hours::zone(time_zone)
                    .map_err(|_| bad(format!("{field}.timeZone"), Reason::TimeZone))?;
                super::hours::parse_hhmm(from)
                    .map_err(|_| bad(format!("{field}.from"), Reason::TimeOfDay))?;
                super::hours::parse_hhmm(to)
                    .map_err(|_| bad(format!("{field}.to"), Reason::TimeOfDay))?;
            }
            Condition::ContactField { name, any_of } => {
                if name.trim().is_empty() {
                    return Err(bad(format!("{field}.name"), Reason::Required));
                }
                if any_of.iter().all(|v| v.trim().is_empty()) {
                    return Err(bad(format!("{field}.in"), Reason::Required));
                }
            }
            Condition::Language { any_of } | Condition::Channel { any_of } => {
                if any_of.iter().all(|v| v.trim().is_empty()) {
                    return Err(bad(format!("{field}.in"), Reason::Required));
                }
            }
            Condition::Keywords { any_of } => {
                if any_of.iter().all(|v| v.trim().is_empty()) {
                    return Err(bad(format!("{field}.anyOf"), Reason::Required));
                }
            }
            Condition::Following { .. } | Condition::KnownContact { .. } => {}
        }
    }
    Ok(())
}

fn check_survey(survey: &Survey) -> Result<(), ConfigError> {
    match survey {
        Survey::Buttons { scale, .. } if scale.is_empty() || scale.len() > 13 => {
            Err(bad("survey.scale", Reason::Count { min: 1, max: 13 }))
        }
        Survey::Buttons { scale, .. } => {
            match scale
                .iter()
                .position(|l| l.trim().is_empty() || l.chars().count() > 20)
            {
                Some(i) => Err(bad(
                    format!("survey.scale[{i}]"),
                    Reason::Length { min: 1, max: 20 },
                )),
                None => Ok(()),
            }
        }
        Survey::Link { url, .. }
            if !url.starts_with("https://")
                || url::Url::parse(url)
                    .map_or(true, |u| u.host_str().is_none_or(str::is_empty)) =>
        {
            Err(bad("survey.url", Reason::HttpsUrl))
        }
        Survey::Link { .. } | Survey::Off => Ok(()),
    }
}

/// Checks a queue's name, hours, service level and overflow; `id` is the queue's own ID.
pub fn check_queue(
    id: &str,
    queue: &Queue,
    queue_exists: &dyn Fn(&str) -> bool,
) -> Result<(), ConfigError> {
    if queue.name.trim().is_empty() || queue.name.chars().count() > 80 {
        return Err(bad("name", Reason::Length { min: 1, max: 80 }));
    }
    if let Some(h) = &queue.hours {
        super::hours::zone(&h.time_zone).map_err(|_| bad("hours.timeZone", Reason::TimeZone))?;
        for (i, slot) in h.weekly.iter().enumerate() {
            if slot.days.is_empty() {
                return Err(bad(format!("hours.weekly[{i}].days"), Reason::Required));
            }
            for d in &slot.days {
                super::hours::weekday(d)
                    .map_err(|_| bad(format!("hours.weekly[{i}].days"), Reason::Weekday))?;
            }
            let from = super::hours::parse_hhmm(&slot.from)
                .map_err(|_| bad(format!("hours.weekly[{i}].from"), Reason::TimeOfDay))?;
            let to = super::hours::parse_hhmm(&slot.to)
                .map_err(|_| bad(format!("hours.weekly[{i}].to"), Reason::TimeOfDay))?;
            if to <= from {
                return Err(bad(
                    format!("hours.weekly[{i}].to"),
                    Reason::ClosesBeforeOpens,
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, hday) in h.holidays.iter().enumerate() {
            hday.date
                .parse::<jiff::civil::Date>()
                .map_err(|_| bad(format!("hours.holidays[{i}].date"), Reason::Date))?;
            if !seen.insert(hday.date.as_str()) {
                return Err(bad(format!("hours.holidays[{i}].date"), Reason::Duplicate));
            }
        }
    }
    if let Some(sl) = &queue.service_level {
        if !(1..=100).contains(&sl.percent) {
            return Err(bad(
                "serviceLevel.percent",
                Reason::Range { min: 1, max: 100 },
            ));
        }
        if !(1_000..=DAY_MS).contains(&sl.within_ms) {
            return Err(bad(
                "serviceLevel.withinMs",
                Reason::Duration {
                    min_ms: 1_000,
                    max_ms: DAY_MS,
                },
            ));
        }
    }
    if queue.overflow.len() > 5 {
        return Err(bad("overflow", Reason::Count { min: 0, max: 5 }));
    }
    for (i, o) in queue.overflow.iter().enumerate() {
        match o.when {
            OverflowWhen::WaitingOver { count } if count > 10_000 => {
                return Err(bad(
                    format!("overflow[{i}].when.count"),
                    Reason::Range {
                        min: 0,
                        max: 10_000,
                    },
                ));
            }
            OverflowWhen::OldestOver { ms } if !(10_000..=7 * DAY_MS).contains(&ms) => {
                return Err(bad(
                    format!("overflow[{i}].when.ms"),
                    Reason::Duration {
                        min_ms: 10_000,
                        max_ms: 7 * DAY_MS,
                    },
                ));
            }
            _ => {}
        }
        match &o.action {
            OverflowAction::MoveTo { queue: to } if to == id => {
                return Err(bad(
                    format!("overflow[{i}].action.queue"),
                    Reason::SameQueue,
                ));
            }
            OverflowAction::MoveTo { queue: to } if !queue_exists(to) => {
                return Err(bad(
                    format!("overflow[{i}].action.queue"),
                    Reason::NoSuchQueue,
                ));
            }
            OverflowAction::Message { text } if text.values().all(|t| t.trim().is_empty()) => {
                return Err(bad(format!("overflow[{i}].action.text"), Reason::Required));
            }
            OverflowAction::Message { text } => {
                if let Some(lang) = text.iter().find_map(|(lang, t)| {
                    (linedesk_line::send::utf16_len(t) > linedesk_line::send::TEXT_MAX_UTF16)
                        .then_some(lang)
                }) {
                    return Err(bad(
                        format!("overflow[{i}].action.text.{lang}"),
                        Reason::Length {
                            min: 1,
                            max: linedesk_line::send::TEXT_MAX_UTF16 as u32,
                        },
                    ));
                }
            }
            OverflowAction::MoveTo { .. } => {}
        }
    }
    Ok(())
}

/// Valid queue IDs: short, URL-safe.
pub fn valid_queue_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
