#!/usr/bin/env bash
# A representative's shift, compressed into SHIFT_MINUTES (30): the release console driven
# through WebDriver against a relay and the LINE simulator on loopback, the PSS of every one of
# its processes sampled each minute. Prints the curve and the growth after warm-up and draws it
# to SHIFT_PNG (target/shift-memory.png). See tests/benches/shift.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v tauri-driver >/dev/null || { echo "bench-shift.sh: run scripts/setup.sh first (tauri-driver)" >&2; exit 1; }
(cd ui && npx vite build >/dev/null)
cargo build --release -p linedesk --bin linedesk
xvfb-run -a -s "-screen 0 1280x800x24 -noreset" dbus-run-session -- \
  ./scripts/with-keyring.sh cargo bench -p linedesk-tests --bench shift
