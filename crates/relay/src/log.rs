//! The writer thread: every database write, with group commit.
//!
//! Webhook handlers hand their events to this thread and wait. The thread takes everything
//! queued, writes it in one transaction and commits once (`synchronous = FULL`: one fsync for
//! the whole batch), then answers every waiter. While a commit is in flight the next batch
//! queues up, so concurrent requests share fsyncs instead of each paying one.
//! After each commit the new log head is published on a `watch` channel, which wakes the
//! console subscribers and the media pipeline. The webhook events a commit appended are
//! handed to the consoles' tail as they were written ([`Fresh`]), so nobody reads them back.

use std::sync::mpsc;
use std::sync::Arc;

use tokio::sync::{oneshot, watch};

use crate::store::sql::{Conn, Db};
use crate::store::{
    self,
    events::{Inserted, NewEvent, StoredEvent},
};

/// Most jobs in one transaction.
const MAX_BATCH: usize = 4096;
/// Most jobs queued or being written at once; callers past it wait for a place, so a flood
/// holds tasks waiting (bounded by the connection cap), never an ever-growing queue.
pub const MAX_QUEUED: usize = 4 * MAX_BATCH;

/// Why a write failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// SQLite refused or the commit failed; nothing of the batch is durable.
    #[error("database write failed: {0}")]
    Database(String),
    /// The writer thread has stopped (shutdown or a fatal error).
    #[error("the relay's writer has stopped")]
    Stopped,
}

/// Runs inside the transaction and returns what to do once the commit's outcome is known
/// (`Some(error)` when it failed), so a task answers only after its write is durable.
type Finish = Box<dyn FnOnce(Option<&str>) + Send>;
type Task = Box<dyn FnOnce(Db<'_>) -> Finish + Send>;

enum Job {
    Append {
        channel_id: Arc<str>,
        events: Vec<NewEvent>,
        done: oneshot::Sender<Result<usize, WriteError>>,
    },
    Run(Task),
}

/// What the writer thread is sent: jobs for its next batch, or WAL work for after it.
enum Message {
    Job(Job),
    /// Copies the WAL into the database and truncates it, outside any transaction; answers
    /// whether it was done (false: a reader stayed, try again).
    TruncateWal(oneshot::Sender<Result<bool, WriteError>>),
}

/// Handle to the writer thread; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Message>,
    places: Arc<tokio::sync::Semaphore>,
    head: watch::Receiver<u64>,
    alive: Arc<std::sync::atomic::AtomicBool>,
    wal_restart: Arc<std::sync::atomic::AtomicBool>,
    fresh: Arc<Fresh>,
}

/// Most events waiting in [`Fresh`]; past it the oldest runs are dropped (the tail then reads
/// them from the log).
const FRESH_CAP: usize = 8192;

/// The webhook events of the last commits, as they were written: runs of consecutive
/// sequences. The consoles' tail takes a run when it starts right after its cursor, and
/// reads the log otherwise (events that tasks appended, another relay's, a run dropped).
/// Reading back what was just written cost a blocking-pool hop and a fifth of ingest's
/// reading CPU per event.
#[derive(Default)]
pub struct Fresh {
    runs: std::sync::Mutex<FreshRuns>,
}

#[derive(Default)]
struct FreshRuns {
    runs: std::collections::VecDeque<Vec<StoredEvent>>,
    held: usize,
}

impl Fresh {
    /// Adds a commit's runs (only once it is durable).
    fn extend(&self, runs: Vec<Vec<StoredEvent>>) {
        let mut fresh = self.runs.lock().expect("fresh lock");
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            fresh.held += run.len();
            fresh.runs.push_back(run);
        }
        while fresh.held > FRESH_CAP {
            match fresh.runs.pop_front() {
                Some(old) => fresh.held -= old.len(),
                None => break,
            }
        }
    }

    /// The run of events that starts right after `cursor`, if one is held; runs at or before
    /// the cursor are let go.
    pub fn take_after(&self, cursor: u64) -> Option<Vec<StoredEvent>> {
        let mut fresh = self.runs.lock().expect("fresh lock");
        while fresh
            .runs
            .front()
            .is_some_and(|run| run.last().is_some_and(|e| e.seq <= cursor))
        {
            if let Some(old) = fresh.runs.pop_front() {
                fresh.held -= old.len();
            }
        }
        if fresh.runs.front()?.first()?.seq != cursor + 1 {
            return None;
        }
        let run = fresh.runs.pop_front()?;
        fresh.held -= run.len();
        Some(run)
    }

    /// Drops an erased customer's events, as [`crate::tail::Tail::forget_chat`] does.
    pub fn forget_chat(&self, channel: &str, chat: &str) {
        let mut fresh = self.runs.lock().expect("fresh lock");
        // A run with a hole is no longer a run: split it where the erased events were.
        let runs = std::mem::take(&mut fresh.runs);
        let mut held = 0;
        for run in runs {
            let mut kept: Vec<StoredEvent> = Vec::with_capacity(run.len());
            for e in run {
                if e.channel_id == channel && e.chat_id.as_deref() == Some(chat) {
                    if !kept.is_empty() {
                        held += kept.len();
                        fresh.runs.push_back(std::mem::take(&mut kept));
                    }
                } else {
                    kept.push(e);
                }
            }
            if !kept.is_empty() {
                held += kept.len();
                fresh.runs.push_back(kept);
            }
        }
        fresh.held = held;
    }
}

/// See [`Writer::wal_restarts`].
pub struct WalRestarts(Arc<std::sync::atomic::AtomicBool>);

impl WalRestarts {
    /// Asks for a restart after the writer's next batch.
    pub fn ask(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Marks the writer stopped when its thread ends, by return or by panic.
struct AliveGuard(Arc<std::sync::atomic::AtomicBool>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::SeqCst);
        if std::thread::panicking() {
            tracing::error!("the relay's writer thread panicked: nothing more can be stored");
        }
    }
}

impl Writer {
    /// Starts the writer thread on an open writer connection.
    pub fn start(conn: Conn) -> Result<Self, store::StoreError> {
        Self::start_into(conn, None)
    }

    /// Starts the writer thread, which also moves `known` (the highest head any relay has
    /// committed, kept by [`crate::cluster::Cluster`]) with each commit, before it answers:
    /// whoever hears "durable" finds their write under the head that consoles and routing
    /// follow.
    pub fn start_into(
        conn: Conn,
        known: Option<Arc<watch::Sender<u64>>>,
    ) -> Result<Self, store::StoreError> {
        let head = store::events::head(conn.db())?;
        let (head_tx, head_rx) = watch::channel(head);
        let heads = Heads {
            own: head_tx,
            known,
        };
        heads.publish(head);
        let (jobs_tx, jobs_rx) = mpsc::channel::<Message>();
        let alive = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let guard = AliveGuard(alive.clone());
        let wal_restart = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let restart = wal_restart.clone();
        let fresh = Arc::new(Fresh::default());
        let handed = fresh.clone();
        std::thread::Builder::new()
            .name("relay-writer".into())
            .spawn(move || {
                let _guard = guard;
                run(conn, jobs_rx, heads, &handed, &restart)
            })
            .map_err(|source| store::StoreError::Io {
                path: "writer thread".into(),
                source,
            })?;
        Ok(Self {
            jobs: jobs_tx,
            places: Arc::new(tokio::sync::Semaphore::new(MAX_QUEUED)),
            head: head_rx,
            alive,
            wal_restart,
            fresh,
        })
    }

    /// The webhook events of the last commits, for the consoles' tail.
    pub fn fresh(&self) -> &Fresh {
        &self.fresh
    }

    /// A handle that asks the writer to start the WAL again from its beginning after its next
    /// batch ([`store::restart_wal`]; SQLite only). It does not keep the writer running.
    pub fn wal_restarts(&self) -> WalRestarts {
        WalRestarts(self.wal_restart.clone())
    }

    /// Whether the writer thread still runs (`/healthz` answers 503 once it does not, so a
    /// supervisor restarts the relay instead of LINE's webhooks meeting 503s forever).
    pub fn is_alive(&self) -> bool {
        self.alive.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Appends a webhook's events; resolves once they are durable. Returns how many were new
    /// (the others were duplicates by `webhookEventId`).
    pub async fn append(
        &self,
        channel_id: Arc<str>,
        events: Vec<NewEvent>,
    ) -> Result<usize, WriteError> {
        let _place = self.place().await?;
        let (done, rx) = oneshot::channel();
        self.jobs
            .send(Message::Job(Job::Append {
                channel_id,
                events,
                done,
            }))
            .map_err(|_| WriteError::Stopped)?;
        rx.await.map_err(|_| WriteError::Stopped)?
    }

    /// Runs `f` inside the next group commit; resolves with its result once durable.
    pub async fn run<T, F>(&self, f: F) -> Result<T, WriteError>
    where
        T: Send + 'static,
        F: FnOnce(Db<'_>) -> Result<T, store::StoreError> + Send + 'static,
    {
        let _place = self.place().await?;
        let (done, rx) = oneshot::channel();
        let task: Task = Box::new(move |db: Db<'_>| {
            // A savepoint keeps a failing task from spoiling the rest of the batch.
            let result = store::meta::savepoint(db)
                .and_then(|()| f(db))
                .map_err(|e| WriteError::Database(e.to_string()));
            let _ = store::meta::end_savepoint(db, result.is_ok());
            Box::new(move |commit_error: Option<&str>| {
                let result = match commit_error {
                    Some(msg) => result.and(Err(WriteError::Database(msg.to_owned()))),
                    None => result,
                };
                let _ = done.send(result);
            })
        });
        self.jobs
            .send(Message::Job(Job::Run(task)))
            .map_err(|_| WriteError::Stopped)?;
        rx.await.map_err(|_| WriteError::Stopped)?
    }

    /// Copies the WAL into the database and truncates it to nothing, from the writer's own
    /// connection between two batches (so no webhook's commit waits on another connection's
    /// lock); false when a reader stayed inside the WAL past a short wait (try again).
    /// After an erasure, so erased rows leave no old frames. SQLite only.
    pub async fn truncate_wal(&self) -> Result<bool, WriteError> {
        let _place = self.place().await?;
        let (done, rx) = oneshot::channel();
        self.jobs
            .send(Message::TruncateWal(done))
            .map_err(|_| WriteError::Stopped)?;
        rx.await.map_err(|_| WriteError::Stopped)?
    }

    /// A place in the queue, held until the job is answered.
    async fn place(&self) -> Result<tokio::sync::SemaphorePermit<'_>, WriteError> {
        self.places.acquire().await.map_err(|_| WriteError::Stopped)
    }

    /// The log head as of the last commit; `changed()` wakes on every commit that appended.
    pub fn head(&self) -> watch::Receiver<u64> {
        self.head.clone()
    }
}

/// Where a commit's new head is published: the writer's own channel, and the head every
/// relay's commits move.
struct Heads {
    own: watch::Sender<u64>,
    known: Option<Arc<watch::Sender<u64>>>,
}

impl Heads {
    fn publish(&self, seq: u64) {
        let raise = |h: &mut u64| {
            let moved = seq > *h;
            *h = (*h).max(seq);
            moved
        };
        self.own.send_if_modified(raise);
        if let Some(known) = &self.known {
            known.send_if_modified(raise);
        }
    }
}

fn run(
    conn: Conn,
    jobs: mpsc::Receiver<Message>,
    head: Heads,
    fresh: &Fresh,
    wal_restart: &std::sync::atomic::AtomicBool,
) {
    let mut batch = Vec::with_capacity(64);
    // WAL work runs outside the batch's transaction, after it.
    let mut truncates = Vec::new();
    let take = |message, batch: &mut Vec<Job>, truncates: &mut Vec<_>| match message {
        Message::Job(job) => batch.push(job),
        Message::TruncateWal(done) => truncates.push(done),
    };
    while let Ok(first) = jobs.recv() {
        take(first, &mut batch, &mut truncates);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(message) => take(message, &mut batch, &mut truncates),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            commit_batch(conn.db(), &mut batch, &head, fresh);
        }
        for done in truncates.drain(..) {
            let truncated =
                store::truncate_wal(conn.db()).map_err(|e| WriteError::Database(e.to_string()));
            let _ = done.send(truncated);
        }
        if wal_restart.swap(false, std::sync::atomic::Ordering::Relaxed) {
            match store::restart_wal(conn.db()) {
                Ok(true) => tracing::debug!("wal restarted"),
                Ok(false) => tracing::debug!("wal restart put off: busy"),
                Err(e) => tracing::warn!(error = %e, "wal restart failed"),
            }
        }
    }
    tracing::debug!("writer thread stopped");
}

/// Writes one batch in one transaction, publishes the new head, then answers its waiters
/// (in that order: whoever hears "durable" and then reads the head sees their own write).
fn commit_batch(db: Db<'_>, batch: &mut Vec<Job>, head: &Heads, fresh: &Fresh) {
    let now = store::now_ms();
    let mut answers: Vec<(oneshot::Sender<Result<usize, WriteError>>, usize)> = Vec::new();
    let mut staged: Vec<Vec<StoredEvent>> = Vec::new();
    let mut finishers: Vec<Finish> = Vec::new();
    let mut max_seq = None;
    // On PostgreSQL, appends alone that fit one statement commit in it (autocommit: the
    // server answers after the commit is durable): one round trip instead of three.
    let rows = batch.iter().try_fold(0, |rows, job| match job {
        Job::Append { events, .. } => Some(rows + events.len()),
        Job::Run(_) => None,
    });
    let one_statement =
        db.is_postgres() && matches!(rows, Some(rows) if rows <= store::events::ROWS_PER_INSERT);
    if !one_statement {
        // On PostgreSQL every batch takes the log's lock first: appends, routing and the
        // heartbeat of several relays otherwise lock rows in different orders (log_head,
        // leases, channel_stats), which deadlocked under load and cost a second of
        // PostgreSQL's deadlock_timeout each time. One lock first makes the order one.
        if let Err(e) = db.begin().and_then(|()| store::events::lock_log(db)) {
            let _ = db.rollback();
            fail_all(batch, &e.to_string());
            return;
        }
    }
    let mut failure: Option<String> = None;
    // Consecutive appends are written together (one round trip for many on PostgreSQL);
    // tasks run in their place between them.
    let mut appends: Vec<Appended> = Vec::new();
    for job in batch.drain(..) {
        match job {
            Job::Append {
                channel_id,
                events,
                done,
            } => appends.push((channel_id, events, done)),
            Job::Run(task) => {
                write_appends(
                    db,
                    now,
                    &mut appends,
                    &mut failure,
                    &mut answers,
                    &mut max_seq,
                    &mut staged,
                );
                finishers.push(task(db));
            }
        }
    }
    write_appends(
        db,
        now,
        &mut appends,
        &mut failure,
        &mut answers,
        &mut max_seq,
        &mut staged,
    );
    let outcome = match failure {
        Some(msg) if one_statement => Err(msg),
        Some(msg) => {
            let _ = db.rollback();
            Err(msg)
        }
        None if one_statement => Ok(()),
        None => db.commit().map_err(|e| {
            // A failed COMMIT may leave the transaction open (SQLite when busy).
            let _ = db.rollback();
            e.to_string()
        }),
    };
    match outcome {
        Ok(()) => {
            if !finishers.is_empty() {
                // Tasks (routing, transcripts) may append events of their own.
                if let Ok(head) = store::events::head(db) {
                    max_seq = Some(max_seq.map_or(head, |m: u64| m.max(head)));
                }
            }
            // Durable: the tail may have them, before anyone hears of the new head.
            fresh.extend(staged);
            if let Some(seq) = max_seq {
                head.publish(seq);
            }
            for (done, n) in answers {
                let _ = done.send(Ok(n));
            }
            for finish in finishers {
                finish(None);
            }
        }
        Err(msg) => {
            tracing::error!(error = %msg, "event log commit failed");
            for (done, _) in answers {
                let _ = done.send(Err(WriteError::Database(msg.clone())));
            }
            for finish in finishers {
                finish(Some(&msg));
            }
        }
    }
}

/// A webhook's events waiting to be written, with its waiter.
type Appended = (
    Arc<str>,
    Vec<NewEvent>,
    oneshot::Sender<Result<usize, WriteError>>,
);

/// Writes the appends gathered so far in one go and notes their answers; after a failure the
/// batch's transaction is unusable, so every later append is refused.
fn write_appends(
    db: Db<'_>,
    now: i64,
    appends: &mut Vec<Appended>,
    failure: &mut Option<String>,
    answers: &mut Vec<(oneshot::Sender<Result<usize, WriteError>>, usize)>,
    max_seq: &mut Option<u64>,
    staged: &mut Vec<Vec<StoredEvent>>,
) {
    if appends.is_empty() {
        return;
    }
    let group: Vec<Appended> = std::mem::take(appends);
    if let Some(msg) = failure.as_ref() {
        for (_, _, done) in group {
            let _ = done.send(Err(WriteError::Database(msg.clone())));
        }
        return;
    }
    let jobs: Vec<(&str, &[NewEvent])> = group
        .iter()
        .map(|(channel, events, _)| (&**channel, events.as_slice()))
        .collect();
    match store::events::append_many(db, &jobs, now) {
        Ok(inserted) => {
            for ((channel, events, done), inserted) in group.into_iter().zip(inserted) {
                if let Some(last) = inserted.last() {
                    *max_seq = Some(max_seq.map_or(last.seq, |m| m.max(last.seq)));
                }
                answers.push((done, inserted.len()));
                stage(staged, &channel, events, inserted, now);
            }
        }
        Err(e) => {
            // A failed insert leaves the transaction unusable for this batch.
            *failure = Some(e.to_string());
            for (_, _, done) in group {
                let _ = done.send(Err(WriteError::Database(e.to_string())));
            }
        }
    }
}

/// Adds a webhook's inserted events to the commit's runs, as the log now holds them: a run
/// goes on while each sequence follows the last.
fn stage(
    staged: &mut Vec<Vec<StoredEvent>>,
    channel: &str,
    events: Vec<NewEvent>,
    inserted: Vec<Inserted>,
    now: i64,
) {
    let mut inserted = inserted.into_iter().peekable();
    for (index, ev) in events.into_iter().enumerate() {
        let Some(done) = inserted.next_if(|i| i.index == index) else {
            continue;
        };
        let event = StoredEvent {
            seq: done.seq,
            channel_id: channel.to_owned(),
            webhook_event_id: ev.webhook_event_id,
            event_type: ev.event_type,
            event_ts: ev.event_ts,
            received_at: now,
            body: ev.body,
            chat_id: done.chat_id,
        };
        match staged.last_mut() {
            Some(run) if run.last().is_some_and(|e| e.seq + 1 == event.seq) => run.push(event),
            _ => staged.push(vec![event]),
        }
    }
}

fn fail_all(batch: &mut Vec<Job>, msg: &str) {
    for job in batch.drain(..) {
        match job {
            Job::Append { done, .. } => {
                let _ = done.send(Err(WriteError::Database(msg.to_owned())));
            }
            // Dropping the task drops its sender: the waiter sees `Stopped`.
            Job::Run(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tail::tests::ev;

    fn seqs(run: Option<Vec<StoredEvent>>) -> Option<Vec<u64>> {
        run.map(|r| r.iter().map(|e| e.seq).collect())
    }

    #[test]
    fn a_run_is_taken_only_where_the_cursor_stands() {
        let fresh = Fresh::default();
        fresh.extend(vec![vec![ev(11, "U1"), ev(12, "U1")], vec![ev(14, "U1")]]);
        assert_eq!(seqs(fresh.take_after(9)), None, "10 is not held");
        assert_eq!(seqs(fresh.take_after(10)), Some(vec![11, 12]));
        // 13 was appended by a task: the tail reads the log from 12, then lets 14 go.
        assert_eq!(seqs(fresh.take_after(12)), None);
        assert_eq!(seqs(fresh.take_after(14)), None);
        assert_eq!(fresh.runs.lock().expect("lock").held, 0);
    }

    #[test]
    fn the_oldest_runs_go_past_the_cap() {
        let fresh = Fresh::default();
        let run = |from: u64| (from..from + 4096).map(|s| ev(s, "U1")).collect();
        fresh.extend(vec![run(1), run(4097), run(8193)]);
        assert_eq!(fresh.runs.lock().expect("lock").held, FRESH_CAP);
        assert_eq!(
            seqs(fresh.take_after(0)),
            None,
            "dropped: read from the log"
        );
        assert_eq!(
            fresh.take_after(4096).map(|r| (r[0].seq, r.len())),
            Some((4097, 4096))
        );
    }

    #[test]
    fn an_erased_chat_leaves_runs_that_stop_at_its_events() {
        let fresh = Fresh::default();
        fresh.extend(vec![vec![
            ev(1, "U1"),
            ev(2, "U2"),
            ev(3, "U1"),
            ev(4, "U1"),
        ]]);
        fresh.forget_chat("c", "U2");
        assert_eq!(fresh.runs.lock().expect("lock").held, 3);
        assert_eq!(seqs(fresh.take_after(0)), Some(vec![1]));
        // 2 is gone: the tail reads the log for it (and finds it erased there too).
        assert_eq!(seqs(fresh.take_after(1)), None);
        assert_eq!(seqs(fresh.take_after(2)), Some(vec![3, 4]));
    }

    #[test]
    fn a_commit_stages_runs_that_break_at_holes() {
        let events = |n: usize| -> Vec<NewEvent> {
            (0..n)
                .map(|i| NewEvent {
                    webhook_event_id: Some(format!("W{i}")),
                    event_type: "message".into(),
                    event_ts: i as i64,
                    body: format!(r#"{{"n":{i}}}"#),
                })
                .collect()
        };
        let inserted = |index: usize, seq: u64| Inserted {
            index,
            seq,
            chat_id: Some("U1".into()),
        };
        let mut staged = Vec::new();
        // The second event was a duplicate; the third and fourth follow the first.
        stage(
            &mut staged,
            "c",
            events(4),
            vec![inserted(0, 5), inserted(2, 6), inserted(3, 7)],
            42,
        );
        // A task appended 8 between the two webhooks.
        stage(&mut staged, "c", events(1), vec![inserted(0, 9)], 42);
        let shape: Vec<Vec<(u64, String)>> = staged
            .iter()
            .map(|run| run.iter().map(|e| (e.seq, e.body.clone())).collect())
            .collect();
        assert_eq!(
            shape,
            vec![
                vec![
                    (5, r#"{"n":0}"#.to_owned()),
                    (6, r#"{"n":2}"#.to_owned()),
                    (7, r#"{"n":3}"#.to_owned())
                ],
                vec![(9, r#"{"n":0}"#.to_owned())],
            ]
        );
        assert!(staged.iter().flatten().all(|e| e.received_at == 42
            && e.channel_id == "c"
            && e.chat_id.as_deref() == Some("U1")));
    }
}
