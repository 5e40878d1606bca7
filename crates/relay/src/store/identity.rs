//! `contacts`, `contact_links`, `audit` and `consents`: contacts, their links to LINE
//! profiles, the audit of everything done with them, and customers' consent. Also the reads of
//! `conversations` and `profiles` that the contact pages show ([`crate::identity`]).

use std::collections::BTreeMap;

use super::sql::{Db, Row};
use super::StoreError;
use crate::args;
use linedesk_protocol::identity::{
    AuditEntry, ConsentState, Contact, ContactBrief, ContactFields, ProfileLink,
};
use linedesk_protocol::Reason;

/// A refused contact field: which and why.
pub type FieldError = linedesk_protocol::Invalid;

fn field(field: &str, reason: Reason) -> FieldError {
    FieldError::new(field, reason)
}

fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Checks and normalises a contact's fields.
pub fn clean(mut f: ContactFields) -> Result<ContactFields, FieldError> {
    f.name = f.name.trim().to_owned();
    if f.name.is_empty() || f.name.chars().count() > 200 {
        return Err(field("name", Reason::Length { min: 1, max: 200 }));
    }
    f.phone = trimmed(&f.phone);
    if let Some(p) = &f.phone {
        let ok = p.chars().count() <= 40
            && p.chars()
                .all(|c| c.is_ascii_digit() || " +-().#".contains(c))
            && p.chars().any(|c| c.is_ascii_digit());
        if !ok {
            return Err(field("phone", Reason::Phone));
        }
    }
    f.email = trimmed(&f.email);
    if let Some(e) = &f.email {
        let ok = e.len() <= 254
            && !e.contains(char::is_whitespace)
            && e.split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'));
        if !ok {
            return Err(field("email", Reason::Email));
        }
    }
    f.company = trimmed(&f.company);
    if f.company.as_ref().is_some_and(|c| c.chars().count() > 200) {
        return Err(field("company", Reason::Length { min: 0, max: 200 }));
    }
    f.notes = trimmed(&f.notes);
    if f.notes.as_ref().is_some_and(|c| c.chars().count() > 10_000) {
        return Err(field(
            "notes",
            Reason::Length {
                min: 0,
                max: 10_000,
            },
        ));
    }
    if f.custom.len() > 50 {
        return Err(field("custom", Reason::Count { min: 0, max: 50 }));
    }
    let mut custom = BTreeMap::new();
    for (k, v) in f.custom {
        let k = k.trim().to_owned();
        if k.is_empty() || k.chars().count() > 60 {
            return Err(field("custom", Reason::Length { min: 1, max: 60 }));
        }
        if v.chars().count() > 1000 {
            return Err(field(
                &format!("custom.{k}"),
                Reason::Length { min: 0, max: 1000 },
            ));
        }
        if !v.trim().is_empty() {
            custom.insert(k, v.trim().to_owned());
        }
    }
    f.custom = custom;
    Ok(f)
}

fn digits(s: Option<&str>) -> Option<String> {
    s.map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>())
        .filter(|d| !d.is_empty())
}

fn fields_json(f: &ContactFields) -> String {
    serde_json::to_string(&f.custom).unwrap_or_else(|_| "{}".into())
}

/// Inserts a contact; answers its id.
pub fn create<'a>(
    db: impl Into<Db<'a>>,
    f: &ContactFields,
    actor: &str,
    now: i64,
) -> Result<i64, StoreError> {
    let db = db.into();
    let id = db
        .query_opt(
            "INSERT INTO contacts (name, phone, phone_digits, email, company, notes, fields, created_by, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) RETURNING id",
            args![
                f.name,
                f.phone,
                digits(f.phone.as_deref()),
                f.email,
                f.company,
                f.notes,
                fields_json(f),
                actor,
                now
            ],
            |r| r.get::<i64>(0),
        )?
        .ok_or_else(|| StoreError::Type {
            column: 0,
            why: "INSERT … RETURNING id gave no row".into(),
        })?;
    audit(db, now, actor, "create", Some(id), None, None, None)?;
    Ok(id)
}

/// Replaces a contact's fields; answers whether it exists.
pub fn update<'a>(
    db: impl Into<Db<'a>>,
    id: i64,
    f: &ContactFields,
    actor: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let db = db.into();
    let n = db.execute(
        "UPDATE contacts SET name = ?2, phone = ?3, phone_digits = ?4, email = ?5, company = ?6, notes = ?7,
             fields = ?8, updated_at = ?9 WHERE id = ?1",
        args![
            id,
            f.name,
            f.phone,
            digits(f.phone.as_deref()),
            f.email,
            f.company,
            f.notes,
            fields_json(f),
            now
        ],
    )?;
    if n > 0 {
        audit(db, now, actor, "edit", Some(id), None, None, None)?;
    }
    Ok(n > 0)
}

/// Appends to the audit.
#[allow(clippy::too_many_arguments)]
pub fn audit<'a>(
    db: impl Into<Db<'a>>,
    at: i64,
    actor: &str,
    action: &str,
    contact: Option<i64>,
    channel: Option<&str>,
    user: Option<&str>,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    db.into().execute(
        "INSERT INTO audit (at, actor, action, contact_id, channel_id, user_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![at, actor, action, contact, channel, user, detail],
    )?;
    Ok(())
}

fn links_of(db: Db<'_>, id: i64) -> Result<Vec<ProfileLink>, StoreError> {
    db.query(
        "SELECT l.channel_id, l.user_id, p.display_name, l.linked_by, l.linked_at FROM contact_links l
         LEFT JOIN profiles p ON p.channel_id = l.channel_id AND p.user_id = l.user_id
         WHERE l.contact_id = ?1 ORDER BY l.linked_at",
        args![id],
        |r| {
            Ok(ProfileLink {
                channel_id: r.get(0)?,
                user_id: r.get(1)?,
                display_name: r.get(2)?,
                linked_by: r.get(3)?,
                linked_at: r.get(4)?,
            })
        },
    )
}

const CONTACT_COLUMNS: &str =
    "id, name, phone, email, company, notes, fields, created_at, updated_at";

fn contact_row(r: &Row<'_>) -> Result<Contact, StoreError> {
    Ok(Contact {
        id: r.get(0)?,
        fields: ContactFields {
            name: r.get(1)?,
            phone: r.get(2)?,
            email: r.get(3)?,
            company: r.get(4)?,
            notes: r.get(5)?,
            custom: serde_json::from_str(&r.get::<String>(6)?).unwrap_or_default(),
        },
        links: Vec::new(),
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

fn with_links(db: Db<'_>, mut list: Vec<Contact>) -> Result<Vec<Contact>, StoreError> {
    for c in &mut list {
        c.links = links_of(db, c.id)?;
    }
    Ok(list)
}

/// One contact with its links.
pub fn get<'a>(db: impl Into<Db<'a>>, id: i64) -> Result<Option<Contact>, StoreError> {
    let db = db.into();
    let c = db.query_opt(
        &format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = ?1"),
        args![id],
        contact_row,
    )?;
    Ok(match c {
        Some(c) => with_links(db, vec![c])?.pop(),
        None => None,
    })
}

/// Contacts whose name, email or phone matches `q` (name and email by prefix or word, phone by
/// digits); at most `limit`, by name.
///
/// Name and email match case-insensitively through `lower(…)` on both sides (SQLite's `lower`
/// folds ASCII only, exactly as its `LIKE` and `NOCASE` did; PostgreSQL's folds all of
/// Unicode), and the order is `lower(name)`, then id.
pub fn search<'a>(
    db: impl Into<Db<'a>>,
    q: &str,
    limit: usize,
) -> Result<Vec<Contact>, StoreError> {
    let db = db.into();
    let q = q.trim();
    let like = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let phone = digits(Some(q)).filter(|d| d.len() >= 3);
    let list = db.query(
        &format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts
             WHERE CAST(?1 AS TEXT) = ''
                OR lower(name) LIKE lower(?2) ESCAPE '\\' OR lower(email) LIKE lower(?2) ESCAPE '\\'
                OR (CAST(?3 AS TEXT) IS NOT NULL AND phone_digits LIKE '%' || CAST(?3 AS TEXT) || '%')
             ORDER BY lower(name), id LIMIT ?4"
        ),
        args![q, like, phone, limit],
        contact_row,
    )?;
    with_links(db, list)
}

/// The contacts a profile is linked to.
pub fn linked<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    user: &str,
) -> Result<Vec<Contact>, StoreError> {
    let db = db.into();
    let list = db.query(
        &format!(
            "SELECT {} FROM contacts c JOIN contact_links l ON l.contact_id = c.id
             WHERE l.channel_id = ?1 AND l.user_id = ?2 ORDER BY l.linked_at",
            CONTACT_COLUMNS
                .split(", ")
                .map(|c| format!("c.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        args![channel, user],
        contact_row,
    )?;
    with_links(db, list)
}

/// What a conversation shows of its profile's contact: the one linked contact, or the flag
/// when there are several.
pub fn brief<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    user: &str,
) -> Result<(Option<ContactBrief>, Option<String>), StoreError> {
    let mut briefs: Vec<ContactBrief> = db.into().query(
        "SELECT c.id, c.name, c.company FROM contacts c JOIN contact_links l ON l.contact_id = c.id
         WHERE l.channel_id = ?1 AND l.user_id = ?2 ORDER BY l.linked_at LIMIT 2",
        args![channel, user],
        |r| {
            Ok(ContactBrief {
                id: r.get(0)?,
                name: r.get(1)?,
                company: r.get(2)?,
            })
        },
    )?;
    Ok(match briefs.len() {
        0 => (None, None),
        1 => (briefs.pop(), None),
        _ => (None, Some("ambiguous_contact".into())),
    })
}

/// Links a profile to a contact (audited). Answers false when it already was.
pub fn link<'a>(
    db: impl Into<Db<'a>>,
    contact: i64,
    channel: &str,
    user: &str,
    actor: &str,
    reason: Option<&str>,
    now: i64,
) -> Result<bool, StoreError> {
    let db = db.into();
    let n = db.execute(
        "INSERT INTO contact_links (contact_id, channel_id, user_id, linked_by, linked_at)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        args![contact, channel, user, actor, now],
    )?;
    if n > 0 {
        audit(
            db,
            now,
            actor,
            "link",
            Some(contact),
            Some(channel),
            Some(user),
            reason,
        )?;
    }
    Ok(n > 0)
}

/// Unlinks (audited). Answers false when it was not linked.
pub fn unlink<'a>(
    db: impl Into<Db<'a>>,
    contact: i64,
    channel: &str,
    user: &str,
    actor: &str,
    reason: Option<&str>,
    now: i64,
) -> Result<bool, StoreError> {
    let db = db.into();
    let n = db.execute(
        "DELETE FROM contact_links WHERE contact_id = ?1 AND channel_id = ?2 AND user_id = ?3",
        args![contact, channel, user],
    )?;
    if n > 0 {
        audit(
            db,
            now,
            actor,
            "unlink",
            Some(contact),
            Some(channel),
            Some(user),
            reason,
        )?;
    }
    Ok(n > 0)
}

/// Folds `other` into `keep`: links move, empty fields are filled, notes appended, custom
/// fields merged (the kept contact wins on conflicts). Answers the profiles whose links moved.
pub fn merge<'a>(
    db: impl Into<Db<'a>>,
    keep: i64,
    other: i64,
    actor: &str,
    now: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    let db = db.into();
    let (Some(a), Some(b)) = (get(db, keep)?, get(db, other)?) else {
        return Ok(Vec::new());
    };
    let mut f = a.fields.clone();
    f.phone = f.phone.or(b.fields.phone.clone());
    f.email = f.email.or(b.fields.email.clone());
    f.company = f.company.or(b.fields.company.clone());
    f.notes = match (f.notes, b.fields.notes.clone()) {
        (Some(x), Some(y)) if x != y => Some(format!("{x}\n\n{y}")),
        (x, y) => x.or(y),
    };
    for (k, v) in &b.fields.custom {
        f.custom.entry(k.clone()).or_insert_with(|| v.clone());
    }
    db.execute(
        "UPDATE contacts SET phone = ?2, phone_digits = ?3, email = ?4, company = ?5, notes = ?6, fields = ?7,
             updated_at = ?8 WHERE id = ?1",
        args![
            keep,
            f.phone,
            digits(f.phone.as_deref()),
            f.email,
            f.company,
            f.notes,
            fields_json(&f),
            now
        ],
    )?;
    let moved: Vec<(String, String)> = b
        .links
        .iter()
        .map(|l| (l.channel_id.clone(), l.user_id.clone()))
        .collect();
    // The WHERE clause also keeps SQLite from reading `ON CONFLICT` as a join constraint.
    db.execute(
        "INSERT INTO contact_links (contact_id, channel_id, user_id, linked_by, linked_at)
         SELECT CAST(?1 AS BIGINT), channel_id, user_id, linked_by, linked_at FROM contact_links
         WHERE contact_id = ?2
         ON CONFLICT DO NOTHING",
        args![keep, other],
    )?;
    db.execute(
        "UPDATE audit SET contact_id = ?1 WHERE contact_id = ?2",
        args![keep, other],
    )?;
    db.execute("DELETE FROM contacts WHERE id = ?1", args![other])?;
    audit(
        db,
        now,
        actor,
        "merge",
        Some(keep),
        None,
        None,
        Some(&format!("contact #{other} merged into this one")),
    )?;
    Ok(moved)
}

/// The audit of a contact, newest first.
pub fn audit_of<'a>(db: impl Into<Db<'a>>, id: i64) -> Result<Vec<AuditEntry>, StoreError> {
    db.into().query(
        "SELECT at, actor, action, contact_id, channel_id, user_id, detail FROM audit
         WHERE contact_id = ?1 ORDER BY at DESC, id DESC LIMIT 200",
        args![id],
        |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                action: r.get(2)?,
                contact_id: r.get(3)?,
                channel_id: r.get(4)?,
                user_id: r.get(5)?,
                detail: r.get(6)?,
            })
        },
    )
}

/// Unlinked contacts named like a display name (suggestions for linking).
pub fn suggestions<'a>(
    db: impl Into<Db<'a>>,
    display_name: &str,
    exclude: &[i64],
) -> Result<Vec<Contact>, StoreError> {
    let db = db.into();
    let name = display_name.trim();
    if name.chars().count() < 2 {
        return Ok(Vec::new());
    }
    let list = search(db, name, 10)?;
    // The display name's first word also matches ("Mei" for "Mei Lin").
    let first = name.split_whitespace().next().unwrap_or(name);
    let more = if first != name && first.chars().count() >= 2 {
        search(db, first, 10)?
    } else {
        Vec::new()
    };
    let mut out: Vec<Contact> = Vec::new();
    for c in list.into_iter().chain(more) {
        if !exclude.contains(&c.id) && !out.iter().any(|o| o.id == c.id) {
            out.push(c);
        }
    }
    out.truncate(5);
    Ok(out)
}

/// What routing rules see of a profile's contact: its fields by name (custom fields too),
/// when the profile is linked to exactly one contact.
pub fn rule_facts<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    user: &str,
) -> Result<Option<BTreeMap<String, String>>, StoreError> {
    let mut contacts: Vec<BTreeMap<String, String>> = db.into().query(
        "SELECT c.name, c.company, c.email, c.phone, c.fields FROM contacts c
         JOIN contact_links l ON l.contact_id = c.id
         WHERE l.channel_id = ?1 AND l.user_id = ?2 LIMIT 2",
        args![channel, user],
        |r| {
            let mut out: BTreeMap<String, String> =
                serde_json::from_str(&r.get::<String>(4)?).unwrap_or_default();
            out.insert("name".into(), r.get(0)?);
            for (i, k) in [(1, "company"), (2, "email"), (3, "phone")] {
                if let Some(v) = r.get::<Option<String>>(i)? {
                    out.insert(k.into(), v);
                }
            }
            Ok(out)
        },
    )?;
    // None, or several (ambiguous): no single contact to go by.
    Ok(if contacts.len() == 1 {
        contacts.pop()
    } else {
        None
    })
}

/// A profile's consent.
pub fn consent<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    user: &str,
) -> Result<Option<ConsentState>, StoreError> {
    Ok(db
        .into()
        .query_opt(
            "SELECT state FROM consents WHERE channel_id = ?1 AND user_id = ?2",
            args![channel, user],
            |r| r.get::<String>(0),
        )?
        .and_then(|s| match s.as_str() {
            "asked" => Some(ConsentState::Asked),
            "granted" => Some(ConsentState::Granted),
            "declined" => Some(ConsentState::Declined),
            _ => None,
        }))
}

/// The ids of a chat's latest 50 conversations, newest first.
pub fn latest_conversations<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    chat: &str,
) -> Result<Vec<String>, StoreError> {
    db.into().query(
        "SELECT id FROM conversations WHERE channel_id = ?1 AND chat_id = ?2 ORDER BY opened_at DESC LIMIT 50",
        args![channel, chat],
        |r| r.get::<String>(0),
    )
}

/// Whether a LINE profile is known: fetched, or a customer with it has written in.
pub fn profile_known<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    user: &str,
) -> Result<bool, StoreError> {
    Ok(db
        .into()
        .query_opt(
            "SELECT EXISTS (SELECT 1 FROM profiles WHERE channel_id = ?1 AND user_id = ?2)
                 OR EXISTS (SELECT 1 FROM conversations WHERE channel_id = ?1 AND chat_id = ?2)",
            args![channel, user],
            |r| r.get::<bool>(0),
        )?
        .unwrap_or(false))
}

/// A LINE profile's display name, when it was fetched and LINE gave one.
pub fn display_name<'a>(
    db: impl Into<Db<'a>>,
    channel: &str,
    user: &str,
) -> Result<Option<String>, StoreError> {
    Ok(db
        .into()
        .query_opt(
            "SELECT display_name FROM profiles WHERE channel_id = ?1 AND user_id = ?2",
            args![channel, user],
            |r| r.get::<Option<String>>(0),
        )?
        .flatten())
}
