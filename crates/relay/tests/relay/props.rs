//! Property tests of the relay: the group-commit writer under random mixes of jobs
//! ([`group_commit`]), and routing under random traffic on a hand-moved clock ([`routing`]).

mod group_commit;
mod routing;
