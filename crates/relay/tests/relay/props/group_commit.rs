//! The group-commit writer (`log::Writer`) under random mixes of appends and `run` jobs, some
//! of them failing, sent in one batch or by concurrent clients.
//!
//! What `log.rs` promises, and what is checked here:
//! - Every job is answered exactly once: none is dropped or left waiting (each case has a
//!   deadline), and while the writer lives no answer is `Stopped`.
//! - `Ok` means durable and an error means nothing: with the writer dropped and the database
//!   opened again, the log holds exactly the events of the jobs answered `Ok`, each job's
//!   events together and in its order, a client that waits for each answer finds its jobs in
//!   the order it sent them, and no event of a job answered with an error is there.
//! - A `run` job whose closure fails is rolled back to its own savepoint: what it wrote before
//!   failing is gone, and the other jobs of the same group commit are answered `Ok` and stored.
//!   The first property forces one group commit (the writer is held inside a job while the
//!   others queue) and checks each answer against a sequential model, duplicates by
//!   `webhookEventId` included.
//! - An *append* SQLite refuses is not isolated: it fails its whole group commit (the
//!   transaction is rolled back), so every job of that batch is answered `Database` and none
//!   of them is stored. Here the refused append carries a body that is not JSON, which the
//!   `events.chat_id` generated column (indexed) cannot read.
//! - Whoever hears `Ok` and then reads `head` sees their own write; `head` ends at the last
//!   durable sequence.
//! - A job that panics kills the writer thread: every job still gets one answer (`Stopped`
//!   for all that were not durable, the panicking one included) and `is_alive` turns false.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures_util::future::{join_all, maybe_done};
use linedesk_relay::log::{WriteError, Writer};
use linedesk_relay::store::{self, events::NewEvent, events::StoredEvent};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::common;

/// Channels the jobs write to.
const CHANNELS: [&str; 2] = ["1650000000", "1650000001"];
/// Bounds each case: a job left unanswered fails the property instead of hanging the test.
const DEADLINE: Duration = Duration::from_secs(20);

/// One event a job writes; `tag` (in its body) finds it in the log again.
#[derive(Debug, Clone)]
struct Ev {
    webhook_id: Option<String>,
    tag: String,
}

/// How a `run` job's closure ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Commits,
    /// Returns an error before writing anything.
    FailsAtOnce,
    /// Appends its events, then a statement fails (a real SQLite error).
    FailsAfterWriting,
    /// Appends its events, then panics on the writer thread.
    Panics,
}

#[derive(Debug, Clone)]
enum Job {
    /// `Writer::append` of `events` on `channel`.
    Append { channel: usize, events: Vec<Ev> },
    /// `Writer::run` with a closure that appends `events` on `channel` and ends as told.
    Run {
        channel: usize,
        events: Vec<Ev>,
        ending: Ending,
    },
    /// `Writer::append` of one event SQLite refuses (its body is not JSON).
    Poison { tag: String },
}

impl Job {
    fn tags(&self) -> Vec<&str> {
        match self {
            Job::Append { events, .. } | Job::Run { events, .. } => {
                events.iter().map(|e| e.tag.as_str()).collect()
            }
            Job::Poison { tag } => vec![tag.as_str()],
        }
    }

    /// Whether the job fails by itself.
    fn fails(&self) -> bool {
        match self {
            Job::Append { .. } => false,
            Job::Run { ending, .. } => *ending != Ending::Commits,
            Job::Poison { .. } => true,
        }
    }
}

/// What a successful job was answered.
#[derive(Debug)]
enum Written {
    /// How many of an append's events were new.
    Appended(usize),
    /// The sequences a run's events got.
    Ran(Vec<u64>),
}

type Answer = Result<Written, WriteError>;

/// A job on its way: it reaches the writer's queue on its first poll.
type Pending = Pin<Box<dyn Future<Output = Answer> + Send>>;

/// A job before its events are named.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Append,
    Run(Ending),
}

type Shape = (Kind, usize, Vec<Option<u8>>);

fn shape() -> impl Strategy<Value = Shape> {
    let kind = prop_oneof![
        3 => Just(Kind::Append),
        3 => Just(Kind::Run(Ending::Commits)),
        1 => Just(Kind::Run(Ending::FailsAtOnce)),
        1 => Just(Kind::Run(Ending::FailsAfterWriting)),
    ];
    // `None`: an event without a webhookEventId, which is never taken for a duplicate.
    let ids = prop::collection::vec(prop::option::weighted(0.9, 0u8..5), 0..=3);
    (kind, 0..CHANNELS.len(), ids)
}

/// Names the events of `client`'s jobs (`{client}.{job}.{event}`). Webhook event ids come from
/// a pool of five, so duplicates happen, unless `unique`.
fn build(client: usize, shapes: Vec<Shape>, unique: bool) -> Vec<Job> {
    shapes
        .into_iter()
        .enumerate()
        .map(|(j, (kind, channel, ids))| {
            let events = ids
                .into_iter()
                .enumerate()
                .map(|(e, id)| {
                    let tag = format!("{client}.{j}.{e}");
                    let webhook_id = id.map(|n| if unique { tag.clone() } else { format!("W{n}") });
                    Ev { webhook_id, tag }
                })
                .collect();
            match kind {
                Kind::Append => Job::Append { channel, events },
                Kind::Run(ending) => Job::Run {
                    channel,
                    events,
                    ending,
                },
            }
        })
        .collect()
}

/// Inserts `job` among `jobs` at `at`, when given.
fn insert(mut jobs: Vec<Job>, at: Option<Index>, job: Job) -> Vec<Job> {
    if let Some(at) = at {
        jobs.insert(at.index(jobs.len() + 1), job);
    }
    jobs
}

/// One client's jobs, for one group commit; a quarter of the cases carry a refused append.
fn one_batch() -> impl Strategy<Value = Vec<Job>> {
    (
        prop::collection::vec(shape(), 1..=12),
        prop::option::weighted(0.25, any::<Index>()),
    )
        .prop_map(|(shapes, poison)| {
            let tag = "0.poison".to_owned();
            insert(build(0, shapes, false), poison, Job::Poison { tag })
        })
}

/// Up to four clients with up to six jobs each; some carry a refused append.
fn clients() -> impl Strategy<Value = Vec<Vec<Job>>> {
    prop::collection::vec(
        (
            prop::collection::vec(shape(), 1..=6),
            prop::option::weighted(0.1, any::<Index>()),
        ),
        1..=4,
    )
    .prop_map(|clients| {
        clients
            .into_iter()
            .enumerate()
            .map(|(c, (shapes, poison))| {
                let tag = format!("{c}.poison");
                insert(build(c, shapes, true), poison, Job::Poison { tag })
            })
            .collect()
    })
}

/// Clients as in [`clients`] without refused appends, one of whose jobs panics.
fn clients_and_a_panic() -> impl Strategy<Value = Vec<Vec<Job>>> {
    (
        prop::collection::vec(prop::collection::vec(shape(), 1..=6), 1..=4),
        any::<Index>(),
        any::<Index>(),
    )
        .prop_map(|(shapes, who, at)| {
            let mut clients: Vec<Vec<Job>> = shapes
                .into_iter()
                .enumerate()
                .map(|(c, s)| build(c, s, true))
                .collect();
            let c = who.index(clients.len());
            let tag = format!("{c}.panic");
            let panics = Job::Run {
                channel: 0,
                events: vec![Ev {
                    webhook_id: Some(tag.clone()),
                    tag,
                }],
                ending: Ending::Panics,
            };
            let jobs = std::mem::take(&mut clients[c]);
            clients[c] = insert(jobs, Some(at), panics);
            clients
        })
}

fn new_event(ev: &Ev) -> NewEvent {
    NewEvent {
        webhook_event_id: ev.webhook_id.clone(),
        event_type: "message".into(),
        event_ts: 1,
        body: serde_json::json!({
            "type": "message", "tag": ev.tag,
            "source": {"type": "user", "userId": "U4af4980629a1b2c3d4e5f60718293a4b"},
        })
        .to_string(),
    }
}

fn submit(writer: &Writer, job: &Job) -> Pending {
    let writer = writer.clone();
    match job.clone() {
        Job::Append { channel, events } => Box::pin(async move {
            let events = events.iter().map(new_event).collect();
            writer
                .append(Arc::from(CHANNELS[channel]), events)
                .await
                .map(Written::Appended)
        }),
        Job::Poison { tag } => Box::pin(async move {
            let event = NewEvent {
                webhook_event_id: Some(tag.clone()),
                event_type: "message".into(),
                event_ts: 1,
                body: format!("not json: {tag}"),
            };
            writer
                .append(Arc::from(CHANNELS[0]), vec![event])
                .await
                .map(Written::Appended)
        }),
        Job::Run {
            channel,
            events,
            ending,
        } => Box::pin(async move {
            writer
                .run(move |conn| {
                    if ending == Ending::FailsAtOnce {
                        return Err(store::StoreError::Other("a job that fails at once".into()));
                    }
                    let events: Vec<NewEvent> = events.iter().map(new_event).collect();
                    let seqs =
                        store::events::append(conn, CHANNELS[channel], &events, store::now_ms())?;
                    match ending {
                        Ending::FailsAfterWriting => {
                            conn.batch("INSERT INTO no_such_table VALUES (1)")?
                        }
                        Ending::Panics => panic!("a job that panics on the writer thread"),
                        Ending::Commits | Ending::FailsAtOnce => {}
                    }
                    Ok(seqs)
                })
                .await
                .map(Written::Ran)
        }),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn start(dir: &Path) -> Writer {
    Writer::start(store::sql::Conn::Sqlite(
        store::open_writer(dir).expect("the database opens"),
    ))
    .expect("the writer starts")
}

/// Drops the writer, waits for its thread to end, and reads the log from a new connection.
async fn reopen(writer: Writer, dir: &Path) -> Vec<StoredEvent> {
    let mut head = writer.head();
    drop(writer);
    // The thread drops its `head` sender when it ends: after its last batch, once the last
    // handle is gone.
    tokio::time::timeout(DEADLINE, async { while head.changed().await.is_ok() {} })
        .await
        .expect("the writer thread ends once its last handle is dropped");
    let conn = store::open_reader(dir).expect("the database opens again");
    store::events::read_after(&conn, 0, 100_000).expect("the log reads")
}

fn tag(ev: &StoredEvent) -> String {
    let body: serde_json::Value = serde_json::from_str(&ev.body).expect("stored bodies are JSON");
    body["tag"]
        .as_str()
        .expect("every event is tagged")
        .to_owned()
}

/// The events of a job the log takes: those whose `(channel, webhookEventId)` it lacks.
fn fresh(logged: &mut HashSet<(usize, String)>, channel: usize, events: &[Ev]) -> Vec<String> {
    events
        .iter()
        .filter(|e| match &e.webhook_id {
            None => true,
            Some(id) => logged.insert((channel, id.clone())),
        })
        .map(|e| e.tag.clone())
        .collect()
}

/// Sends `jobs` while the writer is held inside a job of its own, so that it takes them all
/// as one batch, in this order; answers them in the same order.
async fn in_one_batch(writer: &Writer, jobs: &[Job]) -> Vec<Answer> {
    let (entered_tx, entered) = tokio::sync::oneshot::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let gate = {
        let writer = writer.clone();
        tokio::spawn(async move {
            writer
                .run(move |_| {
                    let _ = entered_tx.send(());
                    let _ = released.recv();
                    Ok(())
                })
                .await
        })
    };
    entered.await.expect("the writer runs the gate");
    let mut queued: Vec<_> = jobs
        .iter()
        .map(|job| Box::pin(maybe_done(submit(writer, job))))
        .collect();
    // Each job reaches the queue on its first poll: poll each once, in order (unconstrained,
    // so tokio's cooperative budget cannot postpone one).
    tokio::task::unconstrained(async {
        for answer in &mut queued {
            std::future::poll_fn(|cx| {
                let _ = answer.as_mut().poll(cx);
                Poll::Ready(())
            })
            .await;
        }
    })
    .await;
    release.send(()).expect("the gate waits for its release");
    tokio::time::timeout(DEADLINE, async {
        gate.await
            .expect("the gate's task")
            .expect("the gate commits");
        let mut answers = Vec::new();
        for mut answer in queued {
            answer.as_mut().await;
            answers.push(answer.as_mut().take_output().expect("answered once"));
        }
        answers
    })
    .await
    .expect("every job of the batch is answered")
}

/// Runs each client's jobs one after the other (each answer awaited before the next job),
/// the clients at once; answers each job with the head read right after its answer.
async fn concurrently(writer: &Writer, clients: &[Vec<Job>]) -> Vec<Vec<(Answer, u64)>> {
    let tasks: Vec<_> = clients
        .iter()
        .cloned()
        .map(|jobs| {
            let writer = writer.clone();
            tokio::spawn(async move {
                let mut out = Vec::new();
                for job in &jobs {
                    let answer = submit(&writer, job).await;
                    let head = *writer.head().borrow();
                    out.push((answer, head));
                }
                out
            })
        })
        .collect();
    tokio::time::timeout(DEADLINE, join_all(tasks))
        .await
        .expect("every job is answered")
        .into_iter()
        .map(|r| r.expect("the client's task"))
        .collect()
}

/// The log's events by tag: their position in the log.
fn positions(tags: &[String]) -> HashMap<&str, usize> {
    let at: HashMap<&str, usize> = tags
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i))
        .collect();
    assert_eq!(at.len(), tags.len(), "no event is stored twice: {tags:?}");
    at
}

/// Checks each client's answers against the reopened log. `stopped` says whether the writer
/// died (only then may an answer be `Stopped`).
fn check_clients(
    clients: &[Vec<Job>],
    answers: &[Vec<(Answer, u64)>],
    log: &[StoredEvent],
    stopped: bool,
) {
    let tags: Vec<String> = log.iter().map(tag).collect();
    let at = positions(&tags);
    let poisoned = clients
        .iter()
        .flatten()
        .any(|j| matches!(j, Job::Poison { .. }));
    let mut durable = 0;
    for (c, (jobs, answers)) in clients.iter().zip(answers).enumerate() {
        let mut previous: Option<usize> = None;
        for (job, (answer, head_seen)) in jobs.iter().zip(answers) {
            let wanted = job.tags();
            let found: Vec<usize> = wanted.iter().filter_map(|t| at.get(t).copied()).collect();
            match answer {
                Ok(written) => {
                    assert!(!job.fails(), "{job:?} fails, yet was answered {written:?}");
                    assert_eq!(
                        found.len(),
                        wanted.len(),
                        "every event of a job answered Ok is durable: {job:?}"
                    );
                    assert!(
                        found.windows(2).all(|w| w[1] == w[0] + 1),
                        "a job's events are stored together and in its order: {job:?} at {found:?}"
                    );
                    match written {
                        Written::Appended(n) => {
                            assert_eq!(*n, wanted.len(), "an append says how many were new")
                        }
                        Written::Ran(seqs) => assert_eq!(
                            seqs,
                            &found.iter().map(|&i| log[i].seq).collect::<Vec<_>>(),
                            "a run answers the sequences its events got"
                        ),
                    }
                    if let (Some(&first), Some(&last)) = (found.first(), found.last()) {
                        assert!(
                            *head_seen >= log[last].seq,
                            "whoever hears Ok and reads head sees their write: head {head_seen} after {job:?} at {}",
                            log[last].seq
                        );
                        assert!(
                            previous.is_none_or(|p| first > p),
                            "client {c}'s jobs are stored in the order it sent them: {job:?}"
                        );
                        previous = Some(last);
                    }
                    durable += found.len();
                }
                Err(e) => {
                    assert!(
                        found.is_empty(),
                        "nothing of a job answered with an error is stored: {job:?} ({e:?})"
                    );
                    match e {
                        WriteError::Database(_) => assert!(
                            job.fails() || poisoned,
                            "{job:?} fails only by itself or beside a refused append: {e:?}"
                        ),
                        WriteError::Stopped => assert!(
                            stopped,
                            "the writer lives, yet {job:?} was answered Stopped"
                        ),
                        other => panic!("{job:?}: unexpected {other:?}"),
                    }
                }
            }
        }
    }
    assert_eq!(
        durable,
        tags.len(),
        "the log holds only events of jobs answered Ok: {tags:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// One group commit of random jobs, checked job by job against a sequential model.
    #[test]
    fn one_group_commit_answers_each_job_and_a_failing_run_spoils_only_itself(jobs in one_batch()) {
        runtime().block_on(async {
            let dir = tempfile::tempdir().expect("tempdir");
            let writer = start(dir.path());
            let answers = in_one_batch(&writer, &jobs).await;
            assert!(writer.is_alive(), "failing jobs never stop the writer");
            let head = *writer.head().borrow();
            let log = reopen(writer, dir.path()).await;
            let tags: Vec<String> = log.iter().map(tag).collect();

            if jobs.iter().any(|j| matches!(j, Job::Poison { .. })) {
                for (job, answer) in jobs.iter().zip(&answers) {
                    assert!(
                        matches!(answer, Err(WriteError::Database(_))),
                        "a refused append fails its whole group commit, so {job:?} fails too: {answer:?}"
                    );
                }
                assert!(tags.is_empty(), "nothing of a failed group commit is stored: {tags:?}");
                assert_eq!(head, 0, "a failed group commit publishes no head");
                return;
            }

            // The sequential model: jobs in queue order; an event whose (channel,
            // webhookEventId) is already logged is skipped; a failing run leaves nothing.
            let mut logged = HashSet::new();
            let mut expected: Vec<String> = Vec::new();
            let mut appended: HashSet<String> = HashSet::new();
            let mut ran: Vec<(Vec<String>, Vec<u64>)> = Vec::new();
            for (job, answer) in jobs.iter().zip(answers) {
                match job {
                    Job::Append { channel, events } => {
                        let new = fresh(&mut logged, *channel, events);
                        match answer {
                            Ok(Written::Appended(n)) => assert_eq!(n, new.len(), "{job:?} says how many were new"),
                            other => panic!("{job:?} shares its group commit with failing runs only, so it is stored: {other:?}"),
                        }
                        appended.extend(new.iter().cloned());
                        expected.extend(new);
                    }
                    Job::Run { channel, events, ending: Ending::Commits } => {
                        let new = fresh(&mut logged, *channel, events);
                        match answer {
                            Ok(Written::Ran(seqs)) => ran.push((new.clone(), seqs)),
                            other => panic!("{job:?} shares its group commit with failing runs only, so it is stored: {other:?}"),
                        }
                        expected.extend(new);
                    }
                    Job::Run { .. } => assert!(
                        matches!(answer, Err(WriteError::Database(_))),
                        "a failing run is answered with its error: {job:?} got {answer:?}"
                    ),
                    Job::Poison { .. } => unreachable!("handled above"),
                }
            }
            assert_eq!(
                tags, expected,
                "the log holds the events of the jobs answered Ok, in queue order, and nothing a failing run wrote before it failed"
            );
            let seq_of: HashMap<&str, u64> = tags.iter().map(String::as_str).zip(log.iter().map(|e| e.seq)).collect();
            for (new, seqs) in &ran {
                let want: Vec<u64> = new.iter().map(|t| seq_of[t.as_str()]).collect();
                assert_eq!(seqs, &want, "a run answers the sequences its events got");
            }
            let commits: HashSet<i64> = log
                .iter()
                .zip(&tags)
                .filter(|(_, t)| appended.contains(*t))
                .map(|(e, _)| e.received_at)
                .collect();
            assert!(commits.len() <= 1, "the appends shared one group commit (one received_at): {commits:?}");
            assert_eq!(head, log.last().map_or(0, |e| e.seq), "head is the last durable sequence");
        });
    }

    /// Concurrent clients, each waiting for every answer before its next job.
    #[test]
    fn concurrent_jobs_are_answered_once_and_ok_means_durable(clients in clients()) {
        runtime().block_on(async {
            let dir = tempfile::tempdir().expect("tempdir");
            let writer = start(dir.path());
            let answers = concurrently(&writer, &clients).await;
            assert!(writer.is_alive(), "failing jobs never stop the writer");
            let head = *writer.head().borrow();
            let log = reopen(writer, dir.path()).await;
            check_clients(&clients, &answers, &log, false);
            assert_eq!(head, log.last().map_or(0, |e| e.seq), "head is the last durable sequence");
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// A panicking job ends the writer; every waiter still hears once.
    #[test]
    fn a_panicking_job_stops_the_writer_and_every_job_still_gets_one_answer(clients in clients_and_a_panic()) {
        runtime().block_on(async {
            let dir = tempfile::tempdir().expect("tempdir");
            let writer = start(dir.path());
            let answers = concurrently(&writer, &clients).await;
            // The thread ends by unwinding; `is_alive` turns false once it is gone.
            common::wait_for(|| {
                let alive = writer.is_alive();
                async move { (!alive).then_some(()) }
            })
            .await;
            let late = writer.append(Arc::from(CHANNELS[0]), Vec::new()).await;
            assert!(matches!(late, Err(WriteError::Stopped)), "a stopped writer answers Stopped at once: {late:?}");
            let head = *writer.head().borrow();
            let log = reopen(writer, dir.path()).await;
            check_clients(&clients, &answers, &log, true);
            for (jobs, answers) in clients.iter().zip(&answers) {
                let Some(p) = jobs.iter().position(|j| matches!(j, Job::Run { ending: Ending::Panics, .. })) else {
                    continue;
                };
                for (job, (answer, _)) in jobs[p..].iter().zip(&answers[p..]) {
                    assert!(
                        matches!(answer, Err(WriteError::Stopped)),
                        "the panicking job and all its client sent after it are answered Stopped: {job:?} got {answer:?}"
                    );
                }
            }
            assert_eq!(head, log.last().map_or(0, |e| e.seq), "head is the last durable sequence");
        });
    }
}
