//! Sign-in throttling: what keeps password guessing slow and the relay responsive.
//!
//! - Per account: [`ACCOUNT_BURST`] attempts, then one every [`ACCOUNT_REFILL`]; per peer
//!   address: [`PEER_BURST`], then one every [`PEER_REFILL`] (generous, since a team behind one
//!   proxy or office NAT shares an address). Past either, `POST /api/login` answers 429 with
//!   `Retry-After`, before any hashing.
//! - At most [`HASHING`] argon2 checks run at once; the others wait their turn instead of filling
//!   the blocking pool.
//! - An unknown name is checked against a dummy hash, so its refusal takes as long as a wrong
//!   password: timing does not tell which names exist.
//!
//! Keyed limiters from `governor` (the rate limiter the Rust ecosystem uses); keys that have
//! refilled are dropped now and then, so a flood of made-up names does not grow memory.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

/// Attempts an account gets at once.
pub const ACCOUNT_BURST: u32 = 10;
/// Then one more every …
pub const ACCOUNT_REFILL: Duration = Duration::from_secs(6);
/// Attempts a peer address gets at once.
pub const PEER_BURST: u32 = 60;
/// Then one more every …
pub const PEER_REFILL: Duration = Duration::from_secs(1);
/// Concurrent argon2 checks.
pub const HASHING: usize = 2;

/// The sign-in throttle; part of [`crate::Relay`].
pub struct Throttle {
    accounts: DefaultKeyedRateLimiter<String>,
    peers: DefaultKeyedRateLimiter<IpAddr>,
    hashing: Semaphore,
}

fn quota(burst: u32, every: Duration) -> Quota {
    Quota::with_period(every)
        .expect("a non-zero period")
        .allow_burst(NonZeroU32::new(burst).expect("a non-zero burst"))
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            accounts: RateLimiter::keyed(quota(ACCOUNT_BURST, ACCOUNT_REFILL)),
            peers: RateLimiter::keyed(quota(PEER_BURST, PEER_REFILL)),
            hashing: Semaphore::new(HASHING),
        }
    }
}

impl Throttle {
    /// Takes one attempt for `account` from `peer`; `Err(wait)` when either is over its rate.
    pub fn admit(&self, account: &str, peer: Option<IpAddr>) -> Result<(), Duration> {
        let now = governor::clock::Clock::now(&governor::clock::DefaultClock::default());
        if let Some(ip) = peer {
            self.peers
                .check_key(&ip)
                .map_err(|not_until| not_until.wait_time_from(now))?;
        }
        // Names are compared as typed: case variants are separate accounts to the store too.
        let key: String = account.chars().take(64).collect();
        self.accounts
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(now))?;
        if self.accounts.len() > 10_000 {
            self.accounts.retain_recent();
        }
        if self.peers.len() > 10_000 {
            self.peers.retain_recent();
        }
        Ok(())
    }

    /// Waits for a turn to hash.
    pub async fn hashing(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.hashing
            .acquire()
            .await
            .expect("the hashing semaphore is never closed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_gets_its_burst_then_waits() {
        let t = Throttle::default();
        for _ in 0..ACCOUNT_BURST {
            assert!(t.admit("rita", None).is_ok());
        }
        let wait = t.admit("rita", None).expect_err("over the burst");
        assert!(wait <= ACCOUNT_REFILL, "{wait:?}");
        assert!(
            t.admit("nora", None).is_ok(),
            "other accounts are not held up"
        );
    }

    #[test]
    fn a_peer_address_is_limited_across_names() {
        let t = Throttle::default();
        let ip: IpAddr = "192.0.2.7".parse().expect("ip");
        for i in 0..PEER_BURST {
            assert!(t.admit(&format!("user{i}"), Some(ip)).is_ok());
        }
        assert!(t.admit("someone-else", Some(ip)).is_err());
        assert!(t
            .admit("someone-else", Some("192.0.2.8".parse().expect("ip")))
            .is_ok());
    }
}
