#!/usr/bin/env bash
# demo.sh: what `make demo` runs. Starts keel's local CloudWatch Logs server in
# the background (or reuses the one already running), writes events with the
# AWS CLI, reads them back and follows them live.
set -euo pipefail
cd "$(dirname "$0")/.."
KEEL=bin/keel
DATA="${KEEL_HOME:-$HOME/.keel}/logserver"

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "keel logserver -daemon (data in $DATA)"
ENDPOINT=$($KEEL logserver -daemon -addr 127.0.0.1:0 -data "$DATA")
export AWS_SHARED_CREDENTIALS_FILE="$DATA/credentials" AWS_CONFIG_FILE=/dev/null
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
AWS=(/usr/bin/aws --endpoint-url "$ENDPOINT")

GROUP=boxfuse/dev
STREAM="myuser/hello/$(date +%Y%m%d-%H%M%S)"
say "create log group $GROUP and stream $STREAM"
"${AWS[@]}" logs create-log-group --log-group-name "$GROUP" 2>/dev/null || echo "(group $GROUP already exists)"
"${AWS[@]}" logs create-log-stream --log-group-name "$GROUP" --log-stream-name "$STREAM"

now=$(($(date +%s%3N)))
events="[{\"timestamp\":$now,\"message\":\"hello from keel\"},{\"timestamp\":$((now+1)),\"message\":\"{\\\"level\\\":\\\"INFO\\\",\\\"message\\\":\\\"started\\\"}\"},{\"timestamp\":$((now+2)),\"message\":\"ERROR nothing is wrong, this is a demo\"}]"
say "put-log-events (3 events)"
"${AWS[@]}" logs put-log-events --log-group-name "$GROUP" --log-stream-name "$STREAM" --log-events "$events" --output json

say "get-log-events"
"${AWS[@]}" logs get-log-events --log-group-name "$GROUP" --log-stream-name "$STREAM" --start-from-head \
  --query 'events[].[timestamp,message]' --output text

say "describe-log-streams"
"${AWS[@]}" logs describe-log-streams --log-group-name "$GROUP" --log-stream-name-prefix "$STREAM" --output table

say "aws logs tail --follow (8 seconds; an app writes a line every second)"
( for i in 1 2 3 4 5 6; do
    sleep 1
    "${AWS[@]}" logs put-log-events --log-group-name "$GROUP" --log-stream-name "$STREAM" \
      --log-events "[{\"timestamp\":$(date +%s%3N),\"message\":\"tick $i\"}]" >/dev/null
  done ) &
writer=$!
timeout 8 "${AWS[@]}" logs tail "$GROUP" --log-stream-names "$STREAM" --follow --since 1m --format short || true
wait "$writer" || true

say "not yet: keel fuse, keel run (QEMU boot) and keel logs arrive with the next issues"
echo "The server keeps running at $ENDPOINT (stop it with: $KEEL logserver stop -data $DATA)"
echo "Try: AWS_SHARED_CREDENTIALS_FILE=$DATA/credentials aws --endpoint-url $ENDPOINT --region us-east-1 logs describe-log-groups"
