//! Integration tests of the relay: the HTTP surface, the websocket, and crash safety of the
//! real binary.

mod api_paths;
mod cluster;
mod common;
mod crash;
mod disk_full;
mod edge;
mod memory;
mod migrate;
mod props;
mod roles;
mod tls;
mod uploads;
mod webhook_and_ws;
