#!/usr/bin/env bash
# The whole HTTP API of proxy-server with curl and jq, every answer checked.
#
#   PROXY_URL=http://localhost:8080 bash examples/curl-walkthrough.sh
#
# Expects a proxy in front of slow-target (`slow-target --port 8000` and
# `proxy-server --target-host 127.0.0.1`). When the proxy was started with --api-key, export
# PROXY_API_KEY too. It stops at the first surprise, naming the step, and exits 1; a PROXY_URL
# or PROXY_API_KEY it cannot use is named, with what to set it to, before any request (exit 2).
# The last step fills the queue on purpose (ten-minute jobs, cancelled once the 503 is seen, or
# when the walkthrough stops early), so point it at a proxy of your own (a test or staging one).
set -euo pipefail

PROXY_URL="${PROXY_URL:-http://localhost:8080}"
PROXY_URL="${PROXY_URL%/}"

# A setting the walkthrough cannot use: which, why, and what to set it to.
refuse() {
  printf 'curl-walkthrough: %s: %s\n  set it to %s\n' "$1" "$2" "$3" >&2
  exit 2
}
# A scheme in any case, as curl takes it.
case "$PROXY_URL" in
  [Hh][Tt][Tt][Pp]://?* | [Hh][Tt][Tt][Pp][Ss]://?*) ;;
  *) refuse "PROXY_URL \"$PROXY_URL\"" 'not an http:// or https:// URL' \
    "the proxy's base URL, e.g. http://localhost:8080" ;;
esac
# A read there would be sent to the target as a task, and the first check would say "got 202".
case "$PROXY_URL" in
  *://*/api) refuse "PROXY_URL \"$PROXY_URL\"" 'it ends in /api, where the proxy takes tasks for the target' \
    "the proxy's base URL: ${PROXY_URL%/api}" ;;
esac
case "${PROXY_API_KEY:-}" in
  # Not shown: a key is a secret, even one that cannot be sent.
  *[[:cntrl:]]*) refuse PROXY_API_KEY 'it has a control character (a line break?), which no header can carry' \
    "the proxy's --api-key, as it was given" ;;
esac

work="$(mktemp -d)"
fill_ids=()
# Best effort on the way out: a walkthrough that stopped mid-fill must not leave the proxy's
# queue full of ten-minute jobs.
leave() {
  local id
  for id in "${fill_ids[@]}"; do
    curl -sS -o /dev/null -X DELETE "${auth[@]}" "$PROXY_URL/task/$id" || true
  done
  rm -rf "$work"
}
trap leave EXIT

current_step='start'
step() {
  current_step="$*"
  printf '\n== %s\n' "$*"
}
# fail MESSAGE [HINT]: what went wrong at this step and, for what a first run meets, what to do.
fail() {
  printf 'curl-walkthrough: FAILED at step "%s": %s\n' "$current_step" "$1" >&2
  if [ -n "${2:-}" ]; then printf '  %s\n' "$2" >&2; fi
  if [ -s "$work/body" ]; then printf 'last answer: %s\n' "$(head -c 2000 "$work/body")" >&2; fi
  exit 1
}
trap 'fail "command failed: $BASH_COMMAND"' ERR

auth=()
if [ -n "${PROXY_API_KEY:-}" ]; then auth=(-H "Authorization: Bearer $PROXY_API_KEY"); fi

# call METHOD PATH [curl args...]: one request; the answer's status, headers and body are kept
# in $status, $work/headers and $work/body for the checks that follow.
call() {
  local method="$1" path="$2"
  shift 2
  status="$(curl -sS -X "$method" "${auth[@]}" -o "$work/body" -D "$work/headers" \
    -w '%{http_code}' "$@" "$PROXY_URL$path")" || {
    # 6 and 7: no such host, nothing listening.
    case $? in
      6 | 7) fail "curl could not reach $PROXY_URL$path" \
        'start a proxy first (docs/getting-started.md, steps 1 to 3), or set PROXY_URL to yours' ;;
      *) fail "curl could not reach $PROXY_URL$path" ;;
    esac
  }
  printf '%s %s -> %s\n' "$method" "$path" "$status"
}
expect_status() {
  [ "$status" = "$1" ] && return
  if [ "$status" = 401 ]; then fail "expected HTTP $1, got 401" "set PROXY_API_KEY to the proxy's --api-key"; fi
  fail "expected HTTP $1, got $status"
}
# expect JQ_FILTER [jq args...]: the filter must yield true on the last body.
expect() {
  jq -e "${@:2}" "$1" "$work/body" >/dev/null || fail "expected $1"
}
header() {
  tr -d '\r' <"$work/headers" | awk -v name="$1" 'tolower($1) == tolower(name) ":" { print $2 }'
}
field() {
  jq -r "$1" "$work/body"
}
# wait_done TASK_ID: the waiting read answers as soon as the task finishes (or after 30 s).
wait_done() {
  call GET "/task/$1?wait=30"
  expect_status 200
  expect '.data.status == "completed" or .data.status == "failed"'
}

step 'GET / describes the service'
call GET /
expect_status 200
expect '.success == true'
expect '.data.name | type == "string"'
expect '.data.version | type == "string"'
expect '.data.target | type == "string"'
expect '[.data.endpoints[].path] | index("/task/:id") != null'
echo "$(field .data.name) $(field .data.version) in front of $(field .data.target)"

step 'GET /health: the proxy serves and the target answers'
call GET /health
expect_status 200
expect '.success == true and .status == "ok" and .target.reachable == true'

step 'POST /api/function1: a JSON job is accepted at once with 202 and a task id'
call POST /api/function1 -H 'content-type: application/json' \
  -d '{"param1": "value1", "param2": "value2", "param3": 100, "delay_ms": 300}'
expect_status 202
expect '.success == true and .status == "pending" and .message == "Task created"'
expect '.task_id | test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")'
task_id="$(field .task_id)"
expect '.data.task_id == $id and .data.status_url == "/task/" + $id' --arg id "$task_id"
[ "$(header location)" = "/task/$task_id" ] || fail "Location header is '$(header location)'"

step 'GET /task/:id: poll until the task is finished'
deadline=$((SECONDS + 30))
while :; do
  call GET "/task/$task_id"
  expect_status 200
  task_status="$(field .data.status)"
  case "$task_status" in
    pending | processing) ;;
    completed) break ;;
    *) fail "task ended as $task_status" ;;
  esac
  [ "$SECONDS" -lt "$deadline" ] || fail "task still $task_status after 30 s"
  sleep 0.2
done
expect '.data.task_id == $id and .data.method == "POST" and .data.path == "/api/function1"' \
  --arg id "$task_id"
expect '.data.result.status_code == 200 and .data.result.body_encoding == "json"'
expect '.data.result.body.params.param1 == "value1" and .data.result.body.params.param3 == 100'
expect '.data.error == null and .data.is_long_task == false'
expect '(.data.created_at | type == "string") and (.data.started_at | type == "string")'
expect '(.data.completed_at | type == "string") and (.data.duration_ms | type == "number")'

step 'GET /api/function1?x=1: method and query string reach the target unchanged'
call GET '/api/function1?x=1&y=two'
expect_status 202
wait_done "$(field .task_id)"
expect '.data.method == "GET" and .data.path == "/api/function1?x=1&y=two"'
expect '.data.result.body.params == {"x": "1", "y": "two"}'

step 'PUT /api/echo: body bytes and end-to-end headers reach the target unchanged'
printf 'raw \x00\x01 bytes' >"$work/payload"
call PUT /api/echo -H 'content-type: application/octet-stream' -H 'x-request-tag: walkthrough' \
  --data-binary @"$work/payload"
expect_status 202
wait_done "$(field .task_id)"
expect '.data.result.body.method == "PUT"'
expect '.data.result.body.headers["x-request-tag"] == "walkthrough"'
expect '.data.result.body.body_sha256 == $sha' --arg sha "$(sha256sum "$work/payload" | cut -d' ' -f1)"

step 'GET /api/text and /api/binary: results that are not JSON'
call GET /api/text
wait_done "$(field .task_id)"
expect '.data.result.body_encoding == "text" and (.data.result.body | type == "string")'
call GET '/api/binary?bytes=300'
wait_done "$(field .task_id)"
expect '.data.result.body_encoding == "base64"'
[ "$(field .data.result.body | base64 -d | wc -c)" -eq 300 ] || fail 'binary body is not 300 bytes'

step 'A non-2xx answer of the target: the task fails and keeps the answer'
call POST '/api/fail?status=500'
expect_status 202
wait_done "$(field .task_id)"
expect '.data.status == "failed" and .data.result.status_code == 500'
expect '.data.error.code == "upstream_status"'

step 'No answer from the target: the task fails with an error code'
call GET /api/reset
expect_status 202
wait_done "$(field .task_id)"
expect '.data.status == "failed" and .data.result == null and .data.error.code == "upstream_reset"'

step 'GET /tasks: newest first, filtered by status, paged'
call GET '/tasks?status=completed&limit=2&offset=0'
expect_status 200
expect '.success == true and .data.limit == 2 and .data.offset == 0 and .data.total >= 4'
expect '(.data.tasks | length) == 2 and all(.data.tasks[]; .status == "completed")'
# Filtered by status, newest means the latest to enter it: for finished tasks, completed_at.
expect '.data.tasks[0].completed_at >= .data.tasks[1].completed_at'
call GET '/tasks?status=failed'
expect_status 200
expect '.data.total >= 2 and all(.data.tasks[]; .status == "failed")'

step 'GET /stats: counts, queue, concurrency and timings'
call GET /stats
expect_status 200
expect '.success == true'
expect '.data.tasks | (.completed >= 5) and (.failed >= 2) and (.total >= 7)'
expect '.data.tasks.total == .data.tasks.pending + .data.tasks.processing + .data.tasks.completed + .data.tasks.failed + .data.tasks.cancelled + .data.tasks.expired'
expect '.data.effective_concurrency == ([.data.num_workers, .data.max_concurrent] | min)'
expect '(.data.queue_size | type == "number") and (.data.max_queue_size | type == "number")'
expect '(.data.in_flight | type == "number") and (.data.long_tasks | type == "number")'
expect '(.data.avg_processing_ms | type == "number") and (.data.uptime_s | type == "number")'
expect '.data.target | type == "string"'

step 'DELETE /tasks/cleanup: removes finished tasks older than max_age_hours'
call DELETE '/tasks/cleanup?max_age_hours=24'
expect_status 200
expect '.success == true and (.data.removed | type == "number")'

step 'Errors: every one is {success: false, error, message}'
call GET /task/00000000-0000-4000-8000-000000000000
expect_status 404
expect '.success == false and .error == "task_not_found" and (.message | length > 0)'
call GET /task/not-a-task-id
expect_status 400
expect '.success == false and .error == "invalid_task_id"'
call GET '/tasks?status=bogus'
expect_status 400
expect '.success == false and .error == "invalid_query"'
call DELETE '/tasks/cleanup?max_age_hours=-1'
expect_status 400
expect '.error == "invalid_query"'
call GET /no/such/route
expect_status 404
expect '.success == false and .error == "not_found"'

step 'A body over --body-limit (default 10 MiB) is refused with 413'
head -c $((10 * 1024 * 1024 + 1)) /dev/zero >"$work/too-big"
call POST /api/echo -H 'content-type: application/octet-stream' --data-binary @"$work/too-big"
expect_status 413
expect '.success == false and .error == "payload_too_large"'

if [ "${#auth[@]}" -gt 0 ]; then
  step 'With --api-key: a request without the key gets 401, /health stays open'
  saved=("${auth[@]}")
  auth=()
  call GET /stats
  expect_status 401
  expect '.success == false and .error == "unauthorized"'
  call GET /health
  expect_status 200
  auth=("${saved[@]}")
fi

step 'A full queue answers 503 queue_full with Retry-After and creates no task'
call GET /stats
expect_status 200
room="$(field '.data.max_queue_size + .data.effective_concurrency')"
submitted_before="$(field .data.totals.submitted)"
accepted=0
# Jobs far longer than the fill takes, so none finishes meanwhile: with short ones a caller
# slower than the workers (a busy machine) never sees the queue fill.
while :; do
  call POST /api/function1 -H 'content-type: application/json' -d '{"job": "fill", "delay_ms": 600000}'
  [ "$status" = 503 ] && break
  expect_status 202
  fill_ids+=("$(field .task_id)")
  accepted=$((accepted + 1))
  [ "$accepted" -le $((room + 20)) ] || fail "no 503 after $accepted tasks (room for $room)"
done
expect '.success == false and .error == "queue_full"'
[ -n "$(header retry-after)" ] || fail 'no Retry-After header on the 503'
call GET /stats
expect '.data.totals.submitted == ($before | tonumber) + ($accepted | tonumber)' \
  --arg before "$submitted_before" --arg accepted "$accepted"
expect '.data.totals.rejected_queue_full >= 1'

step 'DELETE /task/:id cancels the tasks that filled the queue'
while [ "${#fill_ids[@]}" -gt 0 ]; do
  call DELETE "/task/${fill_ids[0]}"
  expect_status 200
  expect '.data.status == "cancelled"'
  fill_ids=("${fill_ids[@]:1}")
done

printf '\ncurl-walkthrough: every step passed\n'
