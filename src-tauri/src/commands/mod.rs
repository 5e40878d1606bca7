//! The commands the UI calls: thin (parse, call core, map errors).

pub mod admin;
pub mod conversations;
pub mod routing;
pub mod session;
