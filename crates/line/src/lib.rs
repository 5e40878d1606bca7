//! `linedesk-line`: the LINE platform as Rust types.
//!
//! - [`secret`]: `Secret<T>`, a wrapper that never prints or serializes its contents.
//! - [`signature`]: `x-line-signature` check over the raw webhook bytes, and signing (for the simulator).
//! - [`webhook`]: the webhook body, every event and message type; unknown ones kept as raw JSON.
//! - [`send`]: message objects a bot can send, and the send responses.
//! - [`api`]: the Messaging API client (reply, push with retry key, content, profile, tokens, …).
//!
//! This crate knows nothing of consoles, routing or storage. Reference:
//! `shared/line-api/REFERENCE.md` and LINE's OpenAPI files.
#![deny(missing_docs)]

pub mod api;
pub mod secret;
pub mod send;
pub mod signature;
pub mod webhook;

pub use secret::Secret;
