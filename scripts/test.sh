#!/usr/bin/env bash
# Sets everything up and runs every test: unit, integration (real SQLite and a throwaway
# PostgreSQL cluster, HTTP and websocket servers on 127.0.0.1:0), the LINE simulator against
# LINE's OpenAPI files, and the crash test that SIGKILLs the real relay binary. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
linedesk_setup
# The commit stamped into --version, set once so that the packages reuse the test build.
LINEDESK_COMMIT=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
export LINEDESK_COMMIT
# Each stage says when it starts, counted from here (the cold CI run must stay under 40 min).
# Each stage also says how much disk is left: a full disk fails a build in the middle.
stage() {
  echo "== $1 (at $((SECONDS / 60))m$((SECONDS % 60))s, $(df -h --output=avail . | tail -1 | tr -d ' ') free)"
}
SECONDS=0
# A one-off build keeps no incremental caches: they would only cost disk (several GB cold).
if [ -n "${CI:-}" ]; then
  export CARGO_INCREMENTAL=0
fi

stage "format"
cargo fmt --all -- --check
stage "lint"
cargo clippy --locked --workspace --all-targets -- -D warnings
stage "ui: type check and unit tests"
(cd ui && npx svelte-check --tsconfig ./tsconfig.json --fail-on-warnings \
  && NODE_OPTIONS="--require ./scripts/node20.cjs" npx vitest run)
stage "build"
cargo build --locked --workspace --all-targets
stage "tests"
# A throwaway PostgreSQL cluster on a temporary directory and a loopback port, stopped on exit:
# the store's tests run on both engines.
pg_dir=$(mktemp -d -t linedesk-pg.XXXXXX)
trap './scripts/pg.sh stop "$pg_dir" || true; rm -rf "$pg_dir"' EXIT
LINEDESK_TEST_POSTGRES=$(./scripts/pg.sh start "$pg_dir")
export LINEDESK_TEST_POSTGRES
# Its TLS certificate's CA: the relay's TLS-to-PostgreSQL tests verify the server against it.
export LINEDESK_TEST_POSTGRES_CA="$pg_dir/ca.crt"
echo "postgresql: $LINEDESK_TEST_POSTGRES"
# A virtual display for the real app window, and a private session bus with an unlocked
# throwaway keyring: the tests use the real OS keyring (gnome-keyring) and WebKitGTK, never mocks.
# `timeout` guards against a WebDriver session that never ends (TAURI-LINUX.md pitfall 2).
# `-noreset`: Xvfb otherwise resets each time its last client leaves, and a window starting
# during the reset fails to open the display (xdotool polling beside it made 15 of 400
# connections fail so; none with `-noreset`).
timeout 1800 xvfb-run -a -s "-screen 0 1280x800x24 -noreset" dbus-run-session -- ./scripts/with-keyring.sh \
  cargo test --locked --workspace --all-targets -- --test-threads="${LINEDESK_TEST_THREADS:-4}"
stage "tests on PostgreSQL: the relay's suite and the end-to-end scenarios again"
# Each relay of these tests keeps its records in its own database of the throwaway cluster.
# `--workspace` picks the targets by name but keeps the features the build above unified, so
# the binaries built there run again (`-p` alone resolved other features and rebuilt crates).
LINEDESK_TEST_DATABASE=postgres timeout 1800 \
  cargo test --locked --workspace --test relay -- --test-threads="${LINEDESK_TEST_THREADS:-4}"
LINEDESK_TEST_DATABASE=postgres timeout 1800 \
  cargo test --locked --workspace --test e2e --test routing --test identity --test trust \
  -- --test-threads="${LINEDESK_TEST_THREADS:-4}"
stage "fuzz: each target briefly on its corpus"
if rustup run nightly rustc --version >/dev/null 2>&1; then
  LINEDESK_FUZZ_DEV=1 ./scripts/fuzz.sh "${LINEDESK_FUZZ_SECONDS:-10}"
else
  echo "fuzz: skipped (no nightly toolchain: rustup toolchain install nightly)"
fi
stage "packages: dpkg-deb, lintian, a throwaway install, the demo from it"
if [ "${LINEDESK_SKIP_PACKAGES:-0}" = 1 ]; then
  echo "packages: skipped (LINEDESK_SKIP_PACKAGES=1)"
else
  # The debug binaries built above, stripped; scripts/package.sh alone builds the release.
  LINEDESK_PACKAGE_PROFILE=dev ./scripts/package.sh
  ./scripts/check-packages.sh
fi
stage "done"

echo "screenshots of each screen: target/screenshots/"
