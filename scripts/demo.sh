#!/usr/bin/env bash
# demo.sh: what `make demo` runs (after make build). Fuses the example app
# (examples/hello, an HTTP service that logs JSON requests) into a VM image,
# boots it under QEMU with keel's local CloudWatch Logs server, sends it a few
# requests, follows its logs live, finds one request by its id, presses the
# power button and shows that the last lines arrived.
set -euo pipefail
cd "$(dirname "$0")/.."
KEEL="$PWD/bin/keel"
export KEEL_HOME="${KEEL_HOME:-$HOME/.keel}"
PORT="${KEEL_DEMO_PORT:-18080}"
IMAGE=demo/hello:1.0

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run_pid=""
cleanup() { # a failed demo leaves no VM behind
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
    kill -INT "$run_pid" 2>/dev/null; sleep 1; kill -INT "$run_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "port $PORT is in use: set KEEL_DEMO_PORT to a free port" >&2
  exit 1
fi

say "keel fuse bin/hello -name $IMAGE -- -addr :8080   (kernel fetched with apt-get download on first use)"
"$KEEL" fuse bin/hello -name "$IMAGE" -force -- -addr :8080

say "keel run $IMAGE -port $PORT:8080 -logs.tail   (boot progress, then the app's events live from the log server)"
"$KEEL" run "$IMAGE" -port "$PORT:8080" -logs.tail &
run_pid=$!

up=""
for _ in $(seq 1 180); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null; then up=1; break; fi
  kill -0 "$run_pid" 2>/dev/null || break
  sleep 0.5
done
[ -n "$up" ] || { echo "the app did not answer on 127.0.0.1:$PORT" >&2; exit 1; }

say "curl: five requests with ids demo-1..demo-5, and one that fails"
for i in 1 2 3 4 5; do
  curl -fsS -H "X-Request-Id: demo-$i" "http://127.0.0.1:$PORT/?name=visitor-$i"
done
curl -sS -H "X-Request-Id: demo-fail" "http://127.0.0.1:$PORT/fail" || true
sleep 3 # the live tail above shows them within about a second

say "keel logs demo/hello -filter '{ \$.requestId = \"demo-3\" }'   (one request's lines)"
"$KEEL" logs demo/hello -since 10m -filter '{ $.requestId = "demo-3" }'

say "the same log group read by the AWS CLI"
DATA="$KEEL_HOME/logserver"
ENDPOINT=$("$KEEL" logserver status -data "$DATA" 2>/dev/null | grep -o 'http://[0-9.:]*' | head -1)
AWS_SHARED_CREDENTIALS_FILE="$DATA/credentials" AWS_CONFIG_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" \
  /usr/bin/aws --endpoint-url "$ENDPOINT" --region us-east-1 logs filter-log-events \
  --log-group-name keel/dev --log-stream-names demo/hello --filter-pattern '{ $.status = 500 }' \
  --query 'events[].message' --output text

say "Ctrl-C to keel run: the power button; the app gets SIGTERM, init flushes its logs, the VM powers off"
kill -INT "$run_pid"
status=0
wait "$run_pid" || status=$?
run_pid=""
[ "$status" = 0 ] || { echo "keel run exited with $status" >&2; exit 1; }

say "the last lines arrived: keel logs demo/hello -since 1m | tail -4"
"$KEEL" logs demo/hello -since 1m | tail -4
"$KEEL" logs demo/hello -since 1m | grep -q '"bye"\|bye' || { echo "the app's last line is missing" >&2; exit 1; }

say "done"
echo "The log server keeps running at $ENDPOINT (stop it with: $KEEL logserver stop)."
echo "Try: $KEEL logs demo/hello -since 1h    $KEEL logs demo/hello -boot    $KEEL run $IMAGE -port $PORT:8080"
