//! An app's X window seen from outside, without WebDriver: found by its process, captured as
//! pixels with ImageMagick's `import`. The paint test and the console bench read the shipped
//! painting this way (WebDriver's screenshots need GPU compositing).

use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// The visible X window of process `pid`, once it is mapped, polling every `every`.
pub fn window_of(pid: u32, deadline: Instant, every: Duration) -> Option<String> {
    poll_window(pid, deadline, every, || None).ok()
}

/// [`window_of`] for a process this one started: `Err(Some(status))` as soon as it exits
/// without a window (no display, a panic), `Err(None)` at the deadline.
pub fn window_of_child(
    child: &mut Child,
    deadline: Instant,
    every: Duration,
) -> Result<String, Option<ExitStatus>> {
    let pid = child.id();
    poll_window(pid, deadline, every, || child.try_wait().ok().flatten())
}

fn poll_window(
    pid: u32,
    deadline: Instant,
    every: Duration,
    mut exited: impl FnMut() -> Option<ExitStatus>,
) -> Result<String, Option<ExitStatus>> {
    while Instant::now() < deadline {
        let out = Command::new("xdotool")
            .args(["search", "--onlyvisible", "--pid", &pid.to_string()])
            .output()
            .expect("xdotool (scripts/setup.sh installs it)");
        let ids = String::from_utf8_lossy(&out.stdout);
        if let Some(id) = ids.lines().last() {
            return Ok(id.to_owned());
        }
        if let Some(status) = exited() {
            return Err(Some(status));
        }
        std::thread::sleep(every);
    }
    Err(None)
}

/// The window's pixels as RGB, with its width.
pub fn capture(window: &str) -> (Vec<u8>, usize) {
    let geometry = Command::new("xdotool")
        .args(["getwindowgeometry", "--shell", window])
        .output()
        .expect("xdotool");
    let width = String::from_utf8_lossy(&geometry.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("WIDTH=").and_then(|w| w.parse().ok()))
        .unwrap_or(0);
    let out = Command::new("import")
        .args(["-window", window, "-depth", "8", "rgb:-"])
        .output()
        .expect("import (ImageMagick; scripts/setup.sh installs it)");
    (out.stdout, width)
}

/// Saves the window as a PNG at `path` (best effort: a screenshot is evidence, not a check).
pub fn save(window: &str, path: &std::path::Path) {
    let _ = Command::new("import")
        .args(["-window", window])
        .arg(path)
        .status();
}

/// Pixels of the console's accent green (LINE green, `--accent`: the sign-in button, the
/// primary buttons), within a small tolerance.
pub fn accent_pixels(rgb: &[u8]) -> usize {
    rgb.chunks_exact(3)
        .filter(|p| p[0] < 30 && (180..=215).contains(&p[1]) && (70..=105).contains(&p[2]))
        .count()
}
