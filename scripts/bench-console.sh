#!/usr/bin/env bash
# The console as it ships, without WebDriver: cold start to the sign-in form painted, the
# inbox of a signed-in console with 10,000 cached conversations, and its idle memory against a
# blank Tauri 2 window, all processes counted. Both binaries are built in the same profile:
# release (what ships) by default, `PROFILE=debug` for a quicker look.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${PROFILE:-release}"
(cd ui && npx vite build >/dev/null)
if [ "$profile" = release ]; then
  cargo build --release -p linedesk --bin linedesk --example blank
else
  cargo build -p linedesk --bin linedesk --example blank
fi
# `-noreset`: see scripts/test.sh; without it a launch now and then never got its display.
LINEDESK_BENCH_PROFILE="$profile" xvfb-run -a -s "-screen 0 1280x800x24 -noreset" dbus-run-session -- \
  ./scripts/with-keyring.sh cargo bench -p linedesk-tests --bench console
