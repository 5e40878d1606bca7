//! Routing under random traffic, on a hand-moved clock.
//!
//! Customers write; representatives choose a presence, lose and regain their console, accept,
//! decline, end, close and transfer; a supervisor closes and transfers; the clock jumps, so
//! offers lapse, short disconnects outlast their grace minute, wrap-ups stop blocking and idle
//! conversations auto-close. After each step the test waits for the relay to settle (routing
//! has read the whole log; a console's coming or going is recorded), reads its state over the
//! API as an admin, and checks:
//!
//! - one owner: a chat has at most one live conversation; a queued (open) one has no owner,
//!   an active or wrap-up one has one, and only queued ones carry an offer;
//! - one pending offer per representative;
//! - load: a representative's `used` is her active conversations, offers and wrap-ups still
//!   blocking, and it never exceeds her capacity, except after a transfer to her that the
//!   relay answered with a warning (until her load is back within capacity);
//! - a new offer goes only to someone who chose available or busy, is not away, offline or
//!   gone, and whose console is connected (a console that dropped keeps its presence and work
//!   through the grace minute, but gets nothing new);
//! - nobody idles while work waits: a queued conversation without an offer has no
//!   representative who takes offers, is connected, has room, holds no offer and has declined
//!   it fewer than the workstream's limit (rejects and lapsed offers count);
//! - each command is done or refused as the engine's rules say, never with a 5xx.
//!
//! The stricter "nobody offline or disconnected holds a pending offer" is a separate,
//! ignored property: the relay keeps an offer made before its representative chose offline,
//! or before her console dropped, until the offer lapses.
//!
//! Consoles are the relay's own session code (`hub::run_session`) driven over channels, as
//! the hub's doc allows; closing the channel is the socket going away.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ws::Message;
use http::{Method, Request, StatusCode};
use linedesk_protocol::routing::{
    AgentSnapshot, CommandAnswer, ConversationSnapshot, ConversationState, Presence,
};
use linedesk_protocol::{ClientFrame, Role, PROTOCOL_VERSION};
use linedesk_relay::clock::{Clock as _, ManualClock};
use linedesk_relay::routing::Routing;
use linedesk_relay::store::{self, users};
use linedesk_relay::{app, hub, Relay, ServeConfig};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use tower::ServiceExt as _;

use crate::common::{self, CHANNEL};

const REPS: [&str; 3] = ["rita", "bob", "cyd"];
const SUPERVISOR: &str = "sam";
const ADMIN: &str = "ada";
const CUSTOMERS: usize = 4;
/// Monday 2026-11-30 10:00 in Taipei.
const START_MS: i64 = 1_796_004_000_000;
/// The default workstream's figures the checks rely on (`routing/config.rs`).
const DECLINE_LIMIT: u32 = 3;
const WRAP_UP_BLOCKS_MS: i64 = 60_000;
/// Longest wait for routing or a console to settle.
const SETTLE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
enum Step {
    /// A customer writes: a new conversation, or more on the live one.
    Writes { customer: usize },
    /// A representative chooses a presence.
    Chooses { rep: usize, presence: Presence },
    /// A representative's console drops, or comes back.
    Console { rep: usize },
    /// Accept: an offer to her when `mine` and she has one, else any conversation.
    Accept { rep: usize, pick: Index, mine: bool },
    /// Decline, chosen like `Accept`.
    Reject { rep: usize, pick: Index, mine: bool },
    /// End into wrap-up: one of hers when `mine`, else any conversation.
    End { rep: usize, pick: Index, mine: bool },
    /// Close, by a representative or (`by: None`) the supervisor.
    Close {
        by: Option<usize>,
        pick: Index,
        mine: bool,
    },
    /// Transfer to a representative, or (`to: None`) back to the queue.
    Transfer {
        by: Option<usize>,
        pick: Index,
        mine: bool,
        to: Option<usize>,
    },
    /// The clock moves on, and routing looks at it.
    Clock { ms: i64 },
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let rep = || 0..REPS.len();
    let by = || prop::option::weighted(0.7, 0..REPS.len());
    let mine = || prop::bool::weighted(0.8);
    let presence = prop::sample::select(vec![
        Presence::Available,
        Presence::Available,
        Presence::Busy,
        Presence::Away,
        Presence::Offline,
    ]);
    let ms = prop_oneof![
        3 => 1_000i64..60_000,
        3 => 60_000i64..130_000,
        1 => Just(24 * 3_600_000i64),
    ];
    let step = prop_oneof![
        4 => (0..CUSTOMERS).prop_map(|customer| Step::Writes { customer }),
        3 => (rep(), presence).prop_map(|(rep, presence)| Step::Chooses { rep, presence }),
        1 => rep().prop_map(|rep| Step::Console { rep }),
        4 => (rep(), any::<Index>(), mine())
            .prop_map(|(rep, pick, mine)| Step::Accept { rep, pick, mine }),
        1 => (rep(), any::<Index>(), mine())
            .prop_map(|(rep, pick, mine)| Step::Reject { rep, pick, mine }),
        1 => (rep(), any::<Index>(), mine()).prop_map(|(rep, pick, mine)| Step::End { rep, pick, mine }),
        1 => (by(), any::<Index>(), mine()).prop_map(|(by, pick, mine)| Step::Close { by, pick, mine }),
        1 => (by(), any::<Index>(), mine(), prop::option::weighted(0.6, rep()))
            .prop_map(|(by, pick, mine, to)| Step::Transfer { by, pick, mine, to }),
        2 => ms.prop_map(|ms| Step::Clock { ms }),
    ];
    prop::collection::vec(step, 1..=25)
}

/// A data directory with the channel, the users and a session for each, made once per test
/// and copied for each case (hashing passwords would otherwise dominate a case).
struct Template {
    dir: tempfile::TempDir,
    tokens: HashMap<String, String>,
}

fn template() -> Template {
    let dir = tempfile::tempdir().expect("tempdir");
    // rita (rep), sam (supervisor), ada (admin) and the channel, with LINE unreachable.
    common::seed(dir.path(), "http://127.0.0.1:9");
    let conn = linedesk_relay::ServeConfig::local_for_tests(dir.path().to_owned())
        .and_then(|c| Ok(c.open_database()?))
        .expect("the relay database");
    for rep in &REPS[1..] {
        users::add(&conn, rep, Role::Rep, "correct horse", 0).expect("a representative");
    }
    // Sam supervises the one queue: supervisors move and close only their queues' work.
    store::setup::save_queue(
        conn.db(),
        "general",
        r#"{"name": "General", "supervisors": ["sam"]}"#,
        0,
    )
    .expect("the queue");
    let tokens = users::list(&conn)
        .expect("users")
        .into_iter()
        .map(|u| {
            let (token, _) =
                users::create_session(&conn, u.id, None, store::now_ms(), 24 * 3_600_000)
                    .expect("a session");
            (u.name, token)
        })
        .collect();
    Template { dir, tokens }
}

fn copy_of(template: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(template).expect("the template") {
        let path = entry.expect("an entry").path();
        if path.is_file() {
            let name = path.file_name().expect("a file name");
            std::fs::copy(&path, dir.path().join(name)).expect("a copy");
        }
    }
    if std::env::var("LINEDESK_TEST_DATABASE").as_deref() == Ok("postgres") {
        let cluster = std::env::var("LINEDESK_TEST_POSTGRES").expect("the test cluster");
        linedesk_relay::store::pg::copy_database_for(&cluster, template, dir.path())
            .expect("a copy of the template's database");
    }
    dir
}

fn customer_id(customer: usize) -> String {
    format!("U{:032x}", 0xC0FFEE + customer)
}

/// The relay's state as the admin reads it.
#[derive(Debug)]
struct Seen {
    now: i64,
    conversations: Vec<ConversationSnapshot>,
    agents: HashMap<String, AgentSnapshot>,
}

impl Seen {
    fn agent(&self, user: &str) -> &AgentSnapshot {
        self.agents
            .get(user)
            .unwrap_or_else(|| panic!("{user} is a routing agent"))
    }
}

/// What the test knows that the API does not say.
#[derive(Debug, Default)]
struct Model {
    /// Representatives whose console is open.
    connected: HashSet<&'static str>,
    /// Declines per (conversation, representative): rejects and lapsed offers; a transfer
    /// back to the queue forgets them.
    declines: HashMap<(String, String), u32>,
    /// Taken over capacity by a transfer the relay warned about, until back within it.
    overloaded: HashSet<String>,
    /// Whom this step's transfer went to, and whether the relay warned.
    transferred: Option<(String, bool)>,
}

struct Console {
    /// The console's side of the socket; dropping it closes the stream.
    frames: tokio::sync::mpsc::UnboundedSender<Message>,
    session: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// A relay on a copy of the template, its clock, and the representatives' consoles.
struct Floor {
    _dir: tempfile::TempDir,
    relay: Relay,
    router: axum::Router,
    clock: ManualClock,
    tokens: HashMap<String, String>,
    consoles: HashMap<&'static str, Console>,
    webhooks: u64,
}

impl Floor {
    async fn open(template: &Template, capacities: [u32; 3]) -> (Self, Model) {
        let dir = copy_of(template.dir.path());
        let mut config = ServeConfig::local_for_tests(dir.path().to_owned()).expect("config");
        // These consoles never ping: they leave only when a step says so.
        config.console_idle_seconds = 3_600;
        let clock = ManualClock::new(START_MS);
        let relay = Relay::start_with_clock(&config, Arc::new(clock.clone()))
            .await
            .expect("the relay starts");
        let mut floor = Floor {
            _dir: dir,
            router: app(relay.clone()),
            relay,
            clock,
            tokens: template.tokens.clone(),
            consoles: HashMap::new(),
            webhooks: 0,
        };
        // Every customer follows the account first. Settling on that also waits out routing's
        // start-up, which marks the consoles of a restarted relay as disconnected.
        for customer in 0..CUSTOMERS {
            let follow = json!({"type": "follow", "follow": {"isUnblocked": false}});
            floor.customer(customer, follow).await;
        }
        floor.settle().await;
        let mut model = Model::default();
        for rep in REPS {
            floor.connect(rep).await;
            model.connected.insert(rep);
        }
        for (rep, capacity) in REPS.iter().zip(capacities) {
            let body = json!({ "capacity": capacity });
            let path = format!("/api/agents/{rep}");
            let (status, text) = floor.call(Method::PUT, &path, ADMIN, Some(body)).await;
            assert_eq!(status, StatusCode::OK, "capacity of {rep}: {text}");
        }
        floor.settle().await;
        (floor, model)
    }

    /// Waits until routing has read every event logged so far.
    async fn settle(&self) {
        tokio::time::timeout(SETTLE, Routing::settled(&self.relay))
            .await
            .expect("routing reads the whole log within 10 s");
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        user: &str,
        body: Option<Value>,
    ) -> (StatusCode, String) {
        let token = &self.tokens[user];
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .expect("a request");
        let response = self.router.clone().oneshot(request).await.expect("served");
        let status = response.status();
        (status, common::body_text(response).await)
    }

    /// A signed webhook with one event of `customer`; `event` gives its type and body.
    async fn customer(&mut self, customer: usize, mut event: Value) {
        self.webhooks += 1;
        let n = self.webhooks;
        event["mode"] = json!("active");
        event["timestamp"] = json!(self.clock.now_ms());
        event["source"] = json!({"type": "user", "userId": customer_id(customer)});
        event["webhookEventId"] = json!(format!("01PROPS{n:019}"));
        event["deliveryContext"] = json!({"isRedelivery": false});
        let body = common::webhook_body(&[event]);
        let request = Request::post(format!("/line/{CHANNEL}/webhook"))
            .header("content-type", "application/json")
            .header("x-line-signature", common::sign(&body))
            .body(Body::from(body))
            .expect("a request");
        let response = self.router.clone().oneshot(request).await.expect("served");
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "a signed webhook is stored"
        );
    }

    async fn writes(&mut self, customer: usize) {
        let n = self.webhooks + 1;
        let message = json!({
            "type": "message",
            "message": {"id": format!("{n}"), "type": "text", "quoteToken": "q", "text": format!("question {n}")},
        });
        self.customer(customer, message).await;
    }

    /// Opens `rep`'s console and waits until routing counts her connected.
    async fn connect(&mut self, rep: &'static str) {
        let (frames, incoming) = tokio::sync::mpsc::unbounded_channel::<Message>();
        let hello = ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            token: self.tokens[rep].clone(),
            since: None,
        };
        frames
            .send(Message::text(serde_json::to_string(&hello).expect("json")))
            .expect("the console's channel is open");
        let stream = Box::pin(futures_util::stream::unfold(
            incoming,
            |mut incoming| async move {
                let frame = incoming.recv().await?;
                Some((Ok::<_, std::io::Error>(frame), incoming))
            },
        ));
        let sink = futures_util::sink::drain::<Message>();
        let session = tokio::spawn(hub::run_session(self.relay.clone(), sink, stream));
        self.consoles.insert(rep, Console { frames, session });
        self.wait_for_console(rep, true).await;
    }

    /// Closes `rep`'s console and waits until routing counts her disconnected.
    async fn disconnect(&mut self, rep: &'static str) {
        let console = self.consoles.remove(rep).expect("an open console");
        drop(console.frames);
        let ended = tokio::time::timeout(SETTLE, console.session)
            .await
            .expect("the session ends with its console's stream");
        let _ = ended.expect("the session's task");
        self.wait_for_console(rep, false).await;
    }

    /// Polls the agents table until routing has recorded `rep`'s console as `connected`.
    /// (No public read says whether a console is connected; see the report.)
    async fn wait_for_console(&self, rep: &str, connected: bool) {
        common::wait_for(|| {
            let (relay, rep) = (self.relay.clone(), rep.to_owned());
            async move {
                let now_connected = relay
                    .read(move |c| {
                        c.query_opt(
                            "SELECT disconnected_at IS NULL FROM agents WHERE \"user\" = ?1",
                            linedesk_relay::args![rep],
                            |r| r.get::<bool>(0),
                        )
                    })
                    .await
                    .expect("the agents table reads");
                (now_connected == Some(connected)).then_some(())
            }
        })
        .await;
    }

    async fn observe(&self) -> Seen {
        let (status, conversations) = self
            .call(Method::GET, "/api/conversations", ADMIN, None)
            .await;
        assert_eq!(status, StatusCode::OK, "conversations: {conversations}");
        let (status, agents) = self.call(Method::GET, "/api/agents", ADMIN, None).await;
        assert_eq!(status, StatusCode::OK, "agents: {agents}");
        let agents: Vec<AgentSnapshot> = serde_json::from_str(&agents).expect("agent snapshots");
        Seen {
            now: self.clock.now_ms(),
            conversations: serde_json::from_str(&conversations).expect("conversation snapshots"),
            agents: agents.into_iter().map(|a| (a.user.clone(), a)).collect(),
        }
    }

    /// Runs a command as `user`: done (200) exactly when `may`, refused (4xx) otherwise.
    /// Answers the relay's answer when done.
    async fn command(
        &self,
        user: &str,
        c: &ConversationSnapshot,
        action: &str,
        body: Value,
        may: bool,
    ) -> Option<CommandAnswer> {
        let path = format!("/api/conversations/{}/{action}", c.id);
        let (status, text) = self.call(Method::POST, &path, user, Some(body)).await;
        assert!(
            !status.is_server_error(),
            "{user} {action}: the relay failed with {status}: {text}"
        );
        assert_eq!(
            status == StatusCode::OK,
            may,
            "{user} {action} on {c:?}: answered {status} {text}"
        );
        may.then(|| serde_json::from_str(&text).expect("a command answer"))
    }

    /// Plays one step from the state `seen`.
    async fn play(&mut self, step: &Step, seen: &Seen, model: &mut Model) {
        use ConversationState as S;
        model.transferred = None;
        match step {
            Step::Writes { customer } => self.writes(*customer).await,
            Step::Chooses { rep, presence } => {
                let body = json!({ "presence": presence });
                let (status, text) = self
                    .call(Method::POST, "/api/presence", REPS[*rep], Some(body))
                    .await;
                assert_eq!(status, StatusCode::OK, "{step:?}: {text}");
            }
            Step::Console { rep } => {
                let rep = REPS[*rep];
                if model.connected.remove(rep) {
                    self.disconnect(rep).await;
                } else {
                    self.connect(rep).await;
                    model.connected.insert(rep);
                }
            }
            Step::Accept { rep, pick, mine } | Step::Reject { rep, pick, mine } => {
                let rep = REPS[*rep];
                let Some(c) = target(seen, pick, *mine, |c| offered_to(c, rep)) else {
                    return;
                };
                // Nothing is ever Waiting here (no step sets a conversation aside), so both
                // take exactly an offer to her.
                let may = c.state == S::Open && offered_to(c, rep);
                let action = if matches!(step, Step::Accept { .. }) {
                    "accept"
                } else {
                    "reject"
                };
                let done = self.command(rep, c, action, json!({}), may).await;
                if done.is_some() && action == "reject" {
                    *model
                        .declines
                        .entry((c.id.clone(), rep.to_owned()))
                        .or_default() += 1;
                }
            }
            Step::End { rep, pick, mine } => {
                let rep = REPS[*rep];
                let Some(c) = target(seen, pick, *mine, |c| {
                    owned_by(c, rep) && c.state == S::Active
                }) else {
                    return;
                };
                let may = owned_by(c, rep) && matches!(c.state, S::Active | S::Waiting);
                self.command(rep, c, "end", json!({}), may).await;
            }
            Step::Close { by, pick, mine } => {
                let who = by.map_or(SUPERVISOR, |r| REPS[r]);
                let Some(c) = target(seen, pick, *mine, |c| {
                    c.state != S::Closed && (by.is_none() || owned_by(c, who))
                }) else {
                    return;
                };
                let may = match by {
                    None => c.state != S::Closed,
                    Some(_) => {
                        owned_by(c, who) && matches!(c.state, S::Active | S::Waiting | S::WrapUp)
                    }
                };
                // A supervisor closing someone else's conversation says why.
                let body = match by {
                    None => json!({"reason": "tidying the queue"}),
                    Some(_) => json!({}),
                };
                self.command(who, c, "close", body, may).await;
            }
            Step::Transfer { by, pick, mine, to } => {
                let who = by.map_or(SUPERVISOR, |r| REPS[r]);
                let Some(c) = target(seen, pick, *mine, |c| {
                    matches!(c.state, S::Open | S::Active) && (by.is_none() || owned_by(c, who))
                }) else {
                    return;
                };
                let allowed = match by {
                    None => matches!(c.state, S::Open | S::Active | S::Waiting),
                    Some(_) => owned_by(c, who) && matches!(c.state, S::Active | S::Waiting),
                };
                let (body, reachable) = match to {
                    Some(r) => {
                        let presence = seen.agent(REPS[*r]).presence;
                        let reachable = !matches!(presence, Presence::Offline | Presence::Inactive);
                        (json!({ "toUser": REPS[*r] }), reachable)
                    }
                    None => (json!({ "toQueue": "general" }), true),
                };
                let done = self
                    .command(who, c, "transfer", body, allowed && reachable)
                    .await;
                if let Some(answer) = done {
                    match to {
                        None => model.declines.retain(|(id, _), _| *id != c.id),
                        Some(r) => {
                            model.transferred =
                                Some((REPS[*r].to_owned(), answer.warning.is_some()))
                        }
                    }
                }
            }
            Step::Clock { ms } => {
                self.clock.advance(*ms);
                let now = self.clock.now_ms();
                // Every offer whose countdown ran out lapses at the tick: a decline by its
                // representative.
                for c in &seen.conversations {
                    if let Some(offer) = c.offer.as_ref().filter(|o| o.expires_at <= now) {
                        *model
                            .declines
                            .entry((c.id.clone(), offer.to.clone()))
                            .or_default() += 1;
                    }
                }
                Routing::tick(&self.relay).await.expect("the clock ticks");
            }
        }
    }
}

fn offered_to(c: &ConversationSnapshot, user: &str) -> bool {
    c.offer.as_ref().is_some_and(|o| o.to == user)
}

fn owned_by(c: &ConversationSnapshot, user: &str) -> bool {
    c.owner.as_deref() == Some(user)
}

/// The conversation a step acts on: one `preferred` when `mine` and there is one, else any;
/// `None` when there is no conversation yet.
fn target<'a>(
    seen: &'a Seen,
    pick: &Index,
    mine: bool,
    preferred: impl Fn(&ConversationSnapshot) -> bool,
) -> Option<&'a ConversationSnapshot> {
    let preferred: Vec<&ConversationSnapshot> =
        seen.conversations.iter().filter(|c| preferred(c)).collect();
    if mine && !preferred.is_empty() {
        return Some(*pick.get(&preferred));
    }
    (!seen.conversations.is_empty()).then(|| pick.get(&seen.conversations))
}

/// Checks the state `after` a step against the rules; `before` is the state it started from.
fn check(before: &Seen, after: &Seen, model: &mut Model, strict: bool, when: &str) {
    use ConversationState as S;

    // One owner.
    let mut live: HashMap<&str, &str> = HashMap::new();
    for c in &after.conversations {
        if c.state != S::Closed {
            if let Some(other) = live.insert(&c.chat_id, &c.id) {
                panic!(
                    "{when}: chat {} has two live conversations, {other} and {}",
                    c.chat_id, c.id
                );
            }
        }
        match c.state {
            S::Open => assert!(
                c.owner.is_none(),
                "{when}: a queued conversation has an owner: {c:?}"
            ),
            S::Active | S::Waiting | S::WrapUp => {
                assert!(
                    c.owner.is_some(),
                    "{when}: a taken conversation has no owner: {c:?}"
                )
            }
            S::Closed => {}
        }
        if c.offer.is_some() {
            assert_eq!(
                c.state,
                S::Open,
                "{when}: only a queued conversation is offered: {c:?}"
            );
        }
    }

    // One offer per representative.
    let mut offers: HashMap<&str, &str> = HashMap::new();
    for c in &after.conversations {
        if let Some(o) = &c.offer {
            if let Some(other) = offers.insert(&o.to, &c.id) {
                panic!("{when}: {} holds two offers, {other} and {}", o.to, c.id);
            }
        }
    }

    // Load.
    if let Some((user, warned)) = &model.transferred {
        let a = after.agent(user);
        if a.used > a.capacity {
            assert!(
                *warned,
                "{when}: a transfer that takes {user} over capacity ({}/{}) says so",
                a.used, a.capacity
            );
            model.overloaded.insert(user.clone());
        }
    }
    for (user, a) in &after.agents {
        let holds = after
            .conversations
            .iter()
            .filter(|c| match c.state {
                S::Active => owned_by(c, user),
                S::WrapUp => {
                    owned_by(c, user)
                        && c.ended_at
                            .is_some_and(|t| after.now < t + WRAP_UP_BLOCKS_MS)
                }
                S::Open => offered_to(c, user),
                S::Waiting | S::Closed => false,
            })
            .count() as u32;
        assert_eq!(
            a.used,
            holds,
            "{when}: {user}'s load is her active conversations, offers and blocking wrap-ups \
             (at {}: {:?})",
            after.now,
            after
                .conversations
                .iter()
                .filter(|c| owned_by(c, user) || offered_to(c, user))
                .map(|c| (c.state, c.offer.clone(), c.ended_at))
                .collect::<Vec<_>>()
        );
        if a.used <= a.capacity {
            model.overloaded.remove(user);
        } else {
            assert!(
                model.overloaded.contains(user),
                "{when}: {user} holds {} units of her {}",
                a.used,
                a.capacity
            );
        }
    }

    // New offers go where they may; strictly, nobody absent holds one.
    let earlier: HashSet<(&str, &str, i64)> = before
        .conversations
        .iter()
        .filter_map(|c| {
            c.offer
                .as_ref()
                .map(|o| (c.id.as_str(), o.to.as_str(), o.offered_at))
        })
        .collect();
    for c in &after.conversations {
        let Some(o) = &c.offer else { continue };
        let a = after.agent(&o.to);
        if !earlier.contains(&(c.id.as_str(), o.to.as_str(), o.offered_at)) {
            assert!(
                a.chosen.takes_offers()
                    && !matches!(
                        a.presence,
                        Presence::Away | Presence::Offline | Presence::Inactive
                    )
                    && model.connected.contains(o.to.as_str()),
                "{when}: {} was offered to {}, who is {:?} (chose {:?}), console {}",
                c.id,
                o.to,
                a.presence,
                a.chosen,
                if model.connected.contains(o.to.as_str()) {
                    "open"
                } else {
                    "closed"
                }
            );
        }
        if strict {
            let absent = matches!(a.presence, Presence::Offline | Presence::Inactive)
                || !model.connected.contains(o.to.as_str());
            assert!(
                !absent,
                "{when}: {} holds the offer of {} while {:?}, console {}",
                o.to,
                c.id,
                a.presence,
                if model.connected.contains(o.to.as_str()) {
                    "open"
                } else {
                    "closed"
                }
            );
        }
    }

    // Nobody idles while work waits.
    for c in after
        .conversations
        .iter()
        .filter(|c| c.state == S::Open && c.offer.is_none())
    {
        for (user, a) in &after.agents {
            let free = a.presence.takes_offers()
                && model.connected.contains(user.as_str())
                && a.used < a.capacity
                && !offers.contains_key(user.as_str());
            let declined = model
                .declines
                .get(&(c.id.clone(), user.clone()))
                .copied()
                .unwrap_or(0);
            assert!(
                !free || declined >= DECLINE_LIMIT,
                "{when}: {} waits unoffered while {user} is free ({a:?}, declined it {declined} times)",
                c.id
            );
        }
    }
}

async fn walk(template: &Template, capacities: [u32; 3], steps: &[Step], strict: bool) {
    let (mut floor, mut model) = Floor::open(template, capacities).await;
    let mut seen = floor.observe().await;
    check(&seen, &seen, &mut model, strict, "as the floor opens");
    for (i, step) in steps.iter().enumerate() {
        floor.play(step, &seen, &mut model).await;
        floor.settle().await;
        let after = floor.observe().await;
        check(
            &seen,
            &after,
            &mut model,
            strict,
            &format!("step {i} ({step:?})"),
        );
        seen = after;
    }
    floor.relay.shutdown();
}

/// Runs `cases` random walks, each on a fresh relay (capacities 1 to 3 units).
fn walk_the_floor(cases: u32, strict: bool) {
    let template = template();
    let mut runner = TestRunner::new(Config {
        cases,
        // Each case starts a relay: keep shrinking bounded.
        max_shrink_iters: 256,
        source_file: Some(file!()),
        ..Config::default()
    });
    let result = runner.run(
        &(prop::array::uniform3(1u32..=3), steps()),
        |(capacities, steps)| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime");
            runtime.block_on(walk(&template, capacities, &steps, strict));
            runtime.shutdown_timeout(Duration::from_secs(5));
            Ok(())
        },
    );
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[test]
fn routing_keeps_one_owner_capacity_and_offers_within_the_rules() {
    walk_the_floor(16, false);
}

#[test]
fn nobody_offline_or_disconnected_holds_an_offer() {
    walk_the_floor(16, true);
}
