//! glibc malloc's settings for the console and the WebKit processes it starts.
//!
//! A console stays open for a whole shift, and with glibc's defaults its app process climbs
//! through it. Two defaults cost the most:
//! - each thread that allocates may get an arena of its own, up to eight per core. Memory
//!   freed into one is rarely given back, so the tokio workers and the blocking threads that
//!   come and go each keep their own.
//! - the threshold above which an allocation gets its own mapping rises after each large
//!   free. After that, the big JSON answers of a shift (the conversation list, a chat's
//!   messages) come from the arenas and fragment them.
//!
//! Two arenas and a fixed 128 KiB threshold hold the app process lower and flatter. In the
//! 15-minute shift (`scripts/bench-shift.sh`, `SHIFT_MINUTES=15`) it went from minute 2 to
//! the end 107.6 → 110.3 MiB, against 114.1 → 120.3 MiB with the defaults.
//!
//! glibc reads these tunables once, when a process starts, from `GLIBC_TUNABLES`. Setting
//! them at run time needs `mallopt`, which is `unsafe`, and the workspace allows none. So the
//! console sets the variable and executes itself again, once, before anything else runs:
//! same process id, arguments and open descriptors. The WebKit processes inherit the
//! variable. `LINEDESK_MALLOC=default` keeps glibc's defaults.

use std::ffi::{OsStr, OsString};

/// The console's malloc tunables (glibc 2.26 and later; older ones ignore them).
pub const TUNABLES: &str = "glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072";

/// Set in the restarted process, so it never restarts twice, even where glibc drops
/// `GLIBC_TUNABLES` (secure execution).
const RESTARTED: &str = "LINEDESK_MALLOC_TUNED";

/// The `GLIBC_TUNABLES` to restart with, given the current one. The user's own settings
/// come last, so they win over the console's.
fn tunables(current: Option<&OsStr>) -> OsString {
    let mut value = OsString::from(TUNABLES);
    if let Some(current) = current.filter(|c| !c.is_empty()) {
        value.push(":");
        value.push(current);
    }
    value
}

/// Whether this process should restart with the tunables: not when it already did, and not
/// when the user asked for glibc's defaults.
fn should_restart(restarted: Option<&OsStr>, choice: Option<&OsStr>) -> bool {
    restarted.is_none() && choice.is_none_or(|c| c != "default")
}

/// Restarts this process with the console's malloc tunables, unless it already runs with
/// them. Returns only when it does not restart (already tuned, opted out, or `exec` failed;
/// then glibc's defaults stay). Call it first in `main`, before any thread exists.
pub fn tune() {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt as _;
        if !should_restart(
            std::env::var_os(RESTARTED).as_deref(),
            std::env::var_os("LINEDESK_MALLOC").as_deref(),
        ) {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let mut command = std::process::Command::new(exe);
        if let Some(arg0) = args.next() {
            command.arg0(arg0);
        }
        let error = command
            .args(args)
            .env(
                "GLIBC_TUNABLES",
                tunables(std::env::var_os("GLIBC_TUNABLES").as_deref()),
            )
            .env(RESTARTED, "1")
            .exec();
        // Still here: the executable could not be run again (say, replaced by an upgrade).
        eprintln!("linedesk: glibc's malloc defaults kept, restart failed: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_own_tunables_come_after_the_consoles() {
        assert_eq!(tunables(None), OsString::from(TUNABLES));
        assert_eq!(tunables(Some(OsStr::new(""))), OsString::from(TUNABLES));
        assert_eq!(
            tunables(Some(OsStr::new("glibc.malloc.arena_max=8"))),
            OsString::from(format!("{TUNABLES}:glibc.malloc.arena_max=8")),
            "glibc takes the last setting of a tunable: the user's"
        );
    }

    #[test]
    fn restarts_once_and_not_when_the_user_keeps_the_defaults() {
        assert!(should_restart(None, None), "a plain start restarts tuned");
        assert!(!should_restart(Some(OsStr::new("1")), None), "never twice");
        assert!(
            !should_restart(None, Some(OsStr::new("default"))),
            "opted out"
        );
        assert!(should_restart(None, Some(OsStr::new("tuned"))));
    }
}
