#!/usr/bin/env bash
# Sets everything up and opens the linedesk console in demo mode: the relay and the LINE
# simulator run on loopback inside the app, with customers writing in Traditional Chinese,
# Japanese, Thai and English. Safe to run twice.
#
# `scripts/demo.sh --headless` runs relay and simulator as separate processes instead and
# prints events as a console receives them (for machines without a display).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
linedesk_setup

if [ "${1:-}" != "--headless" ]; then
  if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    echo "demo: no display found (DISPLAY/WAYLAND_DISPLAY unset). Run it from a desktop session," >&2
    echo "      under xvfb-run, or use: scripts/demo.sh --headless" >&2
    exit 1
  fi
  echo "demo: building the console…"
  cargo build --locked -p linedesk
  exec "${CARGO_TARGET_DIR:-target}/debug/linedesk" --demo
fi

RELAY_ADDR=${LINEDESK_DEMO_RELAY:-127.0.0.1:18080}
SIM_ADDR=${LINEDESK_DEMO_SIM:-127.0.0.1:18090}
CHANNEL=1650000000
DATA=.demo/relay
mkdir -p "$DATA" .demo

echo "demo: building…"
cargo build --locked -p linedesk-relay -p linedesk-sim
BIN=${CARGO_TARGET_DIR:-target}/debug

# Throwaway credentials for the simulated channel, new each run (the relay seals them at rest).
SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
PASSWORD=demo-password

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

LINEDESK_CHANNEL_SECRET=$SECRET LINEDESK_CHANNEL_TOKEN=$TOKEN \
  "$BIN/linedesk-relay" channel add --data "$DATA" --id "$CHANNEL" --name "Support (demo)" \
  --api-base "http://$SIM_ADDR" >/dev/null
if ! "$BIN/linedesk-relay" user list --data "$DATA" | grep -q '"name":"demo"'; then
  printf '%s' "$PASSWORD" | "$BIN/linedesk-relay" user add --data "$DATA" --name demo --role admin --password-stdin
fi

LINEDESK_LOG=warn "$BIN/linedesk-relay" serve --listen "$RELAY_ADDR" --data "$DATA" > .demo/relay.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/${RELAY_ADDR%:*}/${RELAY_ADDR#*:}") 2>/dev/null && break
  sleep 0.1
done

LINEDESK_SIM_CHANNEL_SECRET=$SECRET LINEDESK_SIM_ACCESS_TOKEN=$TOKEN LINEDESK_LOG=warn \
  "$BIN/linedesk-sim" serve --listen "$SIM_ADDR" --channel-id "$CHANNEL" \
  --webhook "http://$RELAY_ADDR/line/$CHANNEL/webhook" --demo --demo-every 3 > .demo/sim.log 2>&1 &
pids+=($!)

cat <<EOT
demo: relay on http://$RELAY_ADDR (data in $DATA), LINE simulator on http://$SIM_ADDR
demo: sign in as user "demo", password "$PASSWORD". Simulated customers write in every few seconds.
demo: events as a console receives them (Ctrl+C to stop):
EOT
printf '%s' "$PASSWORD" | "$BIN/linedesk-relay" watch --url "http://$RELAY_ADDR" --user demo --password-stdin
