//! `linedesk-tests`: end-to-end tests across the crates (see `tests/`). No library code.
