//! One SQL dialect for both engines: the store writes each statement once, in the common
//! part of SQLite's and PostgreSQL's SQL, and [`Db`] runs it on either.
//!
//! The store's statements keep SQLite's `?N` placeholders; on PostgreSQL they become `$N`,
//! and SQLite's `INDEXED BY` hints (which PostgreSQL's planner does not need) are dropped.
//! What the two engines do not share is written the shared way in the statements themselves:
//! `ON CONFLICT … DO NOTHING` instead of `INSERT OR IGNORE`, `"user"` quoted (a reserved word
//! in PostgreSQL), `CASE` instead of SQLite's two-argument `MAX`, `CAST(… AS BIGINT)` around
//! sums (PostgreSQL sums integers as numeric). Integers are 64-bit on both (the PostgreSQL
//! schema uses `BIGINT` throughout) and flags are integers 0/1 on both, so values travel as
//! [`Value`] and come back through [`FromValue`] the same way from either engine.
//!
//! The PostgreSQL side uses the `postgres` crate: the blocking client of `tokio-postgres`,
//! because the store is synchronous by design (one writer thread that group-commits, readers
//! on blocking threads), exactly as with SQLite.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

use postgres::types::{IsNull, ToSql, Type};

use super::StoreError;

/// Runs `f`, which uses the blocking PostgreSQL client, where that client may block. The
/// client drives its own small runtime, which cannot start on a thread that is running async
/// tasks; there (a test's seeding, a command run from `main`) `f` runs on a short-lived scoped
/// thread. The writer's thread and the readers' blocking threads run it directly.
pub fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| s.spawn(f).join()).unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// A PostgreSQL connection with its prepared statements.
pub struct PgConn {
    /// `None` only while being dropped.
    client: Option<postgres::Client>,
    statements: HashMap<String, postgres::Statement>,
}

impl Drop for PgConn {
    fn drop(&mut self) {
        // Closing talks to the server through the client's own runtime.
        self.statements.clear();
        if let Some(client) = self.client.take() {
            off_runtime(move || drop(client));
        }
    }
}

impl PgConn {
    /// Connects to `url` (`postgres://user@host:port/db`): in plain text on this machine,
    /// over verified TLS otherwise ([`super::pg_tls`]).
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let client = off_runtime(|| super::pg_tls::connect(url))?;
        Ok(Self {
            client: Some(client),
            statements: HashMap::new(),
        })
    }

    /// The underlying client (migrations, administration).
    pub fn client(&mut self) -> Result<&mut postgres::Client, StoreError> {
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::Other("the PostgreSQL connection is closed".into()))
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let client = self.client()?;
        let s = off_runtime(|| client.prepare(&to_postgres(sql)))?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

/// A connection of either engine, as the store's functions take it.
#[derive(Clone, Copy)]
pub enum Db<'a> {
    /// SQLite.
    Sqlite(&'a rusqlite::Connection),
    /// PostgreSQL (inside a transaction the caller began, or in autocommit).
    Postgres(&'a RefCell<PgConn>),
}

impl<'a> From<&Db<'a>> for Db<'a> {
    fn from(db: &Db<'a>) -> Self {
        *db
    }
}

impl<'a> From<&'a Conn> for Db<'a> {
    fn from(c: &'a Conn) -> Self {
        c.db()
    }
}

impl<'a> From<&'a rusqlite::Connection> for Db<'a> {
    fn from(c: &'a rusqlite::Connection) -> Self {
        Db::Sqlite(c)
    }
}

impl<'a> From<&'a rusqlite::Transaction<'_>> for Db<'a> {
    fn from(tx: &'a rusqlite::Transaction<'_>) -> Self {
        Db::Sqlite(tx)
    }
}

impl<'a> From<&'a RefCell<PgConn>> for Db<'a> {
    fn from(c: &'a RefCell<PgConn>) -> Self {
        Db::Postgres(c)
    }
}

/// An owned connection of either engine (the writer's, a reader's).
pub enum Conn {
    /// SQLite.
    Sqlite(rusqlite::Connection),
    /// PostgreSQL.
    Postgres(Box<RefCell<PgConn>>),
}

impl Conn {
    /// The connection as the store's functions take it.
    pub fn db(&self) -> Db<'_> {
        match self {
            Conn::Sqlite(c) => Db::Sqlite(c),
            Conn::Postgres(c) => Db::Postgres(c),
        }
    }
}

/// A value bound to a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'v> {
    /// NULL.
    Null,
    /// A 64-bit integer (flags are 0 or 1).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(&'v str),
    /// Bytes.
    Blob(&'v [u8]),
}

/// Something that binds as a [`Value`].
pub trait ToValue {
    /// The value.
    fn value(&self) -> Value<'_>;
}

macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn value(&self) -> Value<'_> {
                Value::Int(*self as i64)
            }
        }
    )*};
}
int_values!(i64, i32, u32, u64, usize, u8);

impl ToValue for bool {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for f64 {
    fn value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}

impl ToValue for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl ToValue for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl ToValue for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl ToValue for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, ToValue::value)
    }
}

/// A value as read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Owned {
    /// NULL.
    Null,
    /// An integer (booleans read as 0 or 1).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

/// A Rust type a column reads into.
pub trait FromValue: Sized {
    /// Converts, or says why not.
    fn from_value(v: Owned) -> Result<Self, String>;
}

macro_rules! int_from {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: Owned) -> Result<Self, String> {
                match v {
                    Owned::Int(i) => <$t>::try_from(i).map_err(|e| e.to_string()),
                    other => Err(format!("expected an integer, found {other:?}")),
                }
            }
        }
    )*};
}
int_from!(i64, i32, u32, u64, u8, usize);

impl FromValue for bool {
    fn from_value(v: Owned) -> Result<Self, String> {
        match v {
            Owned::Int(i) => Ok(i != 0),
            other => Err(format!("expected a flag, found {other:?}")),
        }
    }
}

impl FromValue for f64 {
    fn from_value(v: Owned) -> Result<Self, String> {
        match v {
            Owned::Real(f) => Ok(f),
            Owned::Int(i) => Ok(i as f64),
            other => Err(format!("expected a number, found {other:?}")),
        }
    }
}

impl FromValue for String {
    fn from_value(v: Owned) -> Result<Self, String> {
        match v {
            Owned::Text(s) => Ok(s),
            other => Err(format!("expected text, found {other:?}")),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(v: Owned) -> Result<Self, String> {
        match v {
            Owned::Blob(b) => Ok(b),
            other => Err(format!("expected bytes, found {other:?}")),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: Owned) -> Result<Self, String> {
        match v {
            Owned::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// One result row of either engine.
pub enum Row<'r> {
    /// SQLite's.
    Sqlite(&'r rusqlite::Row<'r>),
    /// PostgreSQL's.
    Postgres(&'r postgres::Row),
}

impl Row<'_> {
    /// Column `i` as `T`.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T, StoreError> {
        let owned = match self {
            Row::Sqlite(r) => {
                use rusqlite::types::ValueRef;
                match r.get_ref(i)? {
                    ValueRef::Null => Owned::Null,
                    ValueRef::Integer(v) => Owned::Int(v),
                    ValueRef::Real(v) => Owned::Real(v),
                    ValueRef::Text(t) => Owned::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Owned::Blob(b.to_vec()),
                }
            }
            Row::Postgres(r) => pg_value(r, i)?,
        };
        T::from_value(owned).map_err(|why| StoreError::Type { column: i, why })
    }
}

fn pg_value(r: &postgres::Row, i: usize) -> Result<Owned, StoreError> {
    let ty = r
        .columns()
        .get(i)
        .map(|c| c.type_().clone())
        .ok_or_else(|| StoreError::Type {
            column: i,
            why: "no such column".into(),
        })?;
    let v = match ty {
        Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map(Owned::Int),
        Type::INT4 => r
            .try_get::<_, Option<i32>>(i)?
            .map(|v| Owned::Int(v.into())),
        Type::INT2 => r
            .try_get::<_, Option<i16>>(i)?
            .map(|v| Owned::Int(v.into())),
        Type::BOOL => r
            .try_get::<_, Option<bool>>(i)?
            .map(|v| Owned::Int(v.into())),
        Type::FLOAT8 => r.try_get::<_, Option<f64>>(i)?.map(Owned::Real),
        Type::FLOAT4 => r
            .try_get::<_, Option<f32>>(i)?
            .map(|v| Owned::Real(v.into())),
        Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => {
            r.try_get::<_, Option<String>>(i)?.map(Owned::Text)
        }
        Type::BYTEA => r.try_get::<_, Option<Vec<u8>>>(i)?.map(Owned::Blob),
        other => {
            return Err(StoreError::Type {
                column: i,
                why: format!("unsupported PostgreSQL type {other} (cast it in the statement)"),
            })
        }
    };
    Ok(v.unwrap_or(Owned::Null))
}

/// A [`Value`] bound on PostgreSQL, converted to whatever type the server inferred for the
/// parameter (an integer bound where the server expects a boolean becomes one).
#[derive(Debug)]
struct PgValue<'v>(Value<'v>);

impl ToSql for PgValue<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                Type::FLOAT8 => (*v as f64).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => v.to_string().as_str().to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Value::Real(v) => v.to_sql(ty, out),
            Value::Text(v) => v.to_sql(ty, out),
            Value::Blob(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

struct SqliteValue<'v>(Value<'v>);

impl rusqlite::ToSql for SqliteValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match &self.0 {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Real(v) => ValueRef::Real(*v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

/// A statement in the shared dialect, rewritten for PostgreSQL: `?N` → `$N` outside quotes,
/// `INDEXED BY name` dropped.
pub fn to_postgres(sql: &str) -> String {
    static INDEXED: OnceLock<regex::Regex> = OnceLock::new();
    let indexed = INDEXED.get_or_init(|| {
        regex::Regex::new(r"(?i)\s+INDEXED\s+BY\s+[A-Za-z_][A-Za-z0-9_]*").expect("pattern")
    });
    let sql = indexed.replace_all(sql, "");
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '?') => {
                out.push('$');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

impl Db<'_> {
    /// Which engine.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: &[&dyn ToValue]) -> Result<u64, StoreError> {
        match self {
            Db::Sqlite(c) => {
                let values: Vec<SqliteValue<'_>> =
                    params.iter().map(|p| SqliteValue(p.value())).collect();
                Ok(c.prepare_cached(sql)?
                    .execute(rusqlite::params_from_iter(values.iter()))? as u64)
            }
            Db::Postgres(pg) => {
                let mut pg = pg.borrow_mut();
                let statement = pg.statement(sql)?;
                let values: Vec<PgValue<'_>> = params.iter().map(|p| PgValue(p.value())).collect();
                let refs: Vec<&(dyn ToSql + Sync)> =
                    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                let client = pg.client()?;
                Ok(off_runtime(|| client.execute(&statement, &refs))?)
            }
        }
    }

    /// Runs a query; every row through `f`.
    pub fn query<T>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        mut f: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            Db::Sqlite(c) => {
                let values: Vec<SqliteValue<'_>> =
                    params.iter().map(|p| SqliteValue(p.value())).collect();
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(values.iter()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(f(&Row::Sqlite(r))?);
                }
                Ok(out)
            }
            Db::Postgres(pg) => {
                let mut pg = pg.borrow_mut();
                let statement = pg.statement(sql)?;
                let values: Vec<PgValue<'_>> = params.iter().map(|p| PgValue(p.value())).collect();
                let refs: Vec<&(dyn ToSql + Sync)> =
                    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                let client = pg.client()?;
                off_runtime(|| client.query(&statement, &refs))?
                    .iter()
                    .map(|r| f(&Row::Postgres(r)))
                    .collect()
            }
        }
    }

    /// The first row through `f`, if any.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        f: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        Ok(self.query(sql, params, f)?.into_iter().next())
    }

    /// Starts a transaction (the writer's group commit).
    pub fn begin(&self) -> Result<(), StoreError> {
        self.batch("BEGIN")
    }

    /// Commits it: durable when this returns (SQLite `synchronous = FULL`, PostgreSQL
    /// `synchronous_commit = on`).
    pub fn commit(&self) -> Result<(), StoreError> {
        self.batch("COMMIT")
    }

    /// Rolls it back.
    pub fn rollback(&self) -> Result<(), StoreError> {
        self.batch("ROLLBACK")
    }

    /// Runs statements without parameters (schema, transactions).
    pub fn batch(&self, sql: &str) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Postgres(pg) => {
                let mut pg = pg.borrow_mut();
                let client = pg.client()?;
                Ok(off_runtime(|| client.batch_execute(sql))?)
            }
        }
    }
}

/// `&[&dyn ToValue]` from a list of expressions: `args![channel, chat, now]`.
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => {
        &[$(&$v as &dyn $crate::store::sql::ToValue),*]
    };
}
