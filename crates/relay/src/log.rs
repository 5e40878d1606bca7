//! The writer thread: every database write, with group commit.
//!
//! Webhook handlers hand their events to this thread and wait. The thread takes everything
//! queued, writes it in one transaction and commits once (`synchronous = FULL`: one fsync for
//! the whole batch), then answers every waiter. While a commit is in flight the next batch
//! queues up, so concurrent requests share fsyncs instead of each paying one.
//! After each commit the new log head is published on a `watch` channel, which wakes the
//! console subscribers and the media pipeline.

use std::sync::mpsc;
use std::sync::Arc;

use tokio::sync::{oneshot, watch};

use crate::store::sql::{Conn, Db};
use crate::store::{self, events::NewEvent};

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
        std::thread::Builder::new()
            .name("relay-writer".into())
            .spawn(move || {
                let _guard = guard;
                run(conn, jobs_rx, heads, &restart)
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
        })
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
            commit_batch(conn.db(), &mut batch, &head);
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
fn commit_batch(db: Db<'_>, batch: &mut Vec<Job>, head: &Heads) {
    let now = store::now_ms();
    let mut answers: Vec<(oneshot::Sender<Result<usize, WriteError>>, usize)> = Vec::new();
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
        Ok(seqs) => {
            for ((_, _, done), seqs) in group.into_iter().zip(seqs) {
                if let Some(last) = seqs.last() {
                    *max_seq = Some(max_seq.map_or(*last, |m| m.max(*last)));
                }
                answers.push((done, seqs.len()));
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
