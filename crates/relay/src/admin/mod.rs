//! What admins set up from the console besides routing: [`channels`] (add, credentials,
//! webhook, health, delete) and [`users`] (roles, capacity, queues, skills, passwords).

pub mod channels;
pub mod users;
