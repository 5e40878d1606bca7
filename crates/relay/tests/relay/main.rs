//! Integration tests of the relay: the HTTP surface, the websocket, and crash safety of the
//! real binary.

mod common;
mod crash;
mod edge;
mod roles;
mod tls;
mod webhook_and_ws;
