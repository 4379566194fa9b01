#!/usr/bin/env bash
# Smoke test of the console as a person uses it: the real binary in a tmux
# pane, a real node asking to pair over the network, keys typed with
# send-keys, and the screen read back with capture-pane.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
session="pairdeck-smoke-$$"
cleanup() {
  tmux kill-session -t "$session" 2>/dev/null || true
  [ -n "${pair_pid:-}" ] && kill "$pair_pid" 2>/dev/null || true
  [ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null || true
  tmux kill-session -t "$session-hup" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- screen ---" >&2
  tmux capture-pane -p -t "$session" >&2 || true
  exit 1
}

# wait_for PATTERN [SECONDS]: poll the screen until PATTERN (grep -E) shows.
wait_for() {
  local pattern=$1 deadline=$((SECONDS + ${2:-10}))
  while [ $SECONDS -lt $deadline ]; do
    if tmux capture-pane -p -t "$session" | grep -Eq -- "$pattern"; then
      return 0
    fi
    sleep 0.2
  done
  fail "screen never showed /$pattern/"
}

go build -o "$work/pairdeck" .
state="$work/state"

tmux new-session -d -s "$session" -x 80 -y 24 \
  "NO_COLOR=1 $work/pairdeck --state-dir '$state' --listen 127.0.0.1:0 2>'$work/console.err'; echo EXITED \$? >'$work/console.exit'"

for _ in $(seq 50); do
  [ -f "$state/pairdeck/gateway.json" ] && break
  sleep 0.1
done
[ -f "$state/pairdeck/gateway.json" ] || fail "the embedded gateway never wrote gateway.json"
url=$(sed -n 's/.*"url": *"\([^"]*\)".*/\1/p' "$state/pairdeck/gateway.json")
echo "console up, embedded gateway at $url"
wait_for "No pending requests|no pending|Pending 0"

# A real node asks to pair; its row appears with a live countdown.
"$work/pairdeck" node pair --node-dir "$work/node" --url "$url" --name "Smoke Test Node" \
  --platform linux >"$work/pair.out" 2>&1 &
pair_pid=$!
wait_for "Smoke Test Node"
wait_for "Smoke Test Node.*[0-4]:[0-5][0-9]"
echo "ok: request row with countdown"

# The detail pane shows the request's fields; esc closes it.
tmux send-keys -t "$session" Enter
wait_for "Request ID"
tmux send-keys -t "$session" Escape
# Wait for the queue to return before the next key: an escape followed
# within 50 ms by a letter is read as alt+letter, as terminals send it.
wait_for "NAME +PLATFORM"
echo "ok: detail pane"

# Approve with one key; the waiting node gets its token and exits 0. A key
# decides only a request that has been in view for half a second: make sure
# it has.
sleep 0.5
tmux send-keys -t "$session" a
wait_for "Approved Smoke Test Node"
if ! wait "$pair_pid"; then
  cat "$work/pair.out" >&2
  fail "node pair did not exit 0 after approval"
fi
pair_pid=""
grep -q "Approved" "$work/pair.out" || fail "node pair did not report approval"
echo "ok: approved with 'a', node received its token"

# The paired view lists it; help opens and closes.
tmux send-keys -t "$session" Tab
wait_for "Smoke Test Node"
tmux send-keys -t "$session" '?'
wait_for "close help"
# q closes the help (as in htop and k9s); a second q quits.
tmux send-keys -t "$session" q
wait_for "NAME +STATE"
echo "ok: paired view and help (q closes it)"

# q quits and the embedded gateway releases the state dir.
tmux send-keys -t "$session" q
for _ in $(seq 50); do
  [ -f "$work/console.exit" ] && break
  sleep 0.1
done
[ -f "$work/console.exit" ] || fail "console did not quit on q"
grep -q "EXITED 0" "$work/console.exit" || fail "console exited with $(cat "$work/console.exit")"
[ ! -f "$state/pairdeck/gateway.json" ] || fail "gateway.json left behind after quit"
echo "ok: quit cleanly"

# The console over SSH, with the system ssh client: a headless gateway
# serving SSH on loopback, a throwaway key in its own authorized_keys, and
# ssh in the tmux pane with a throwaway known_hosts.
command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || fail "ssh and ssh-keygen (openssh-client) are needed"
ssh-keygen -q -t ed25519 -N '' -C smoke@test -f "$work/id"
cp "$work/id.pub" "$work/authorized_keys"
sshstate="$work/sshstate"
"$work/pairdeck" serve --state-dir "$sshstate" --listen 127.0.0.1:0 --ssh 127.0.0.1:0 \
  --ssh-authorized-keys "$work/authorized_keys" 2>"$work/serve.err" &
serve_pid=$!
for _ in $(seq 100); do
  grep -q 'console served over SSH' "$work/serve.err" && [ -f "$sshstate/pairdeck/gateway.json" ] && break
  sleep 0.1
done
ssh_addr=$(sed -n 's/.*msg="console served over SSH" addr=\([^ ]*\).*/\1/p' "$work/serve.err")
[ -n "$ssh_addr" ] || { cat "$work/serve.err" >&2; fail "serve --ssh never said where it listens"; }
ssh_url=$(sed -n 's/.*"url": *"\([^"]*\)".*/\1/p' "$sshstate/pairdeck/gateway.json")
tmux new-session -d -s "$session" -x 100 -y 30 \
  "ssh -F /dev/null -t -i '$work/id' -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
     -o UserKnownHostsFile='$work/known_hosts' -p '${ssh_addr##*:}' 127.0.0.1 2>'$work/ssh.err'; \
   echo SSH-EXITED \$? >'$work/ssh.exit'; sleep 30"
wait_for "pairdeck · ssh · smoke@test"
wait_for "Pending 0"
# ssh recorded the host key the gateway made in its state dir.
host_fp=$(ssh-keygen -lf "$sshstate/pairdeck/ssh_host_ed25519_key" | awk '{print $2}')
ssh-keygen -lf "$work/known_hosts" | grep -q -- "$host_fp" || fail "known_hosts does not hold the host key $host_fp"
echo "ok: console over ssh (host key $host_fp)"

"$work/pairdeck" node pair --node-dir "$work/node2" --url "$ssh_url" --name "SSH Smoke Node" \
  --platform linux >"$work/pair2.out" 2>&1 &
pair_pid=$!
# A key decides a request only after half a second in view: wait until
# its countdown shows a second has passed.
wait_for "SSH Smoke Node.*4:5[0-8]"
tmux send-keys -t "$session" a
wait_for "Approved SSH Smoke Node"
wait "$pair_pid" || { cat "$work/pair2.out" >&2; fail "node pair did not exit 0 after approval over ssh"; }
pair_pid=""
key_fp=$(ssh-keygen -lf "$work/id.pub" | awk '{print $2}')
grep '"action":"approved"' "$sshstate/nodes/audit.jsonl" | grep -q "\"keyFingerprint\":\"$key_fp\"" ||
  fail "the audit log does not name $key_fp as the approver: $(cat "$sshstate/nodes/audit.jsonl")"
echo "ok: approved over ssh, audited as $key_fp"

# Stopping the gateway ends the session with a line saying why.
kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve did not exit 0 on SIGTERM: $(cat "$work/serve.err")"
serve_pid=""
wait_for "shut down, so this console has closed"
for _ in $(seq 50); do
  [ -f "$work/ssh.exit" ] && break
  sleep 0.1
done
grep -q "SSH-EXITED 0" "$work/ssh.exit" 2>/dev/null || fail "ssh did not exit 0 when the gateway stopped: $(cat "$work/ssh.exit" "$work/ssh.err" 2>&1)"
echo "ok: ssh session closed with the gateway"

# wait_file PATH [SECONDS]: wait until PATH exists.
wait_file() {
  local deadline=$((SECONDS + ${2:-10}))
  while [ ! -f "$1" ]; do
    [ $SECONDS -lt $deadline ] || fail "$1 never appeared"
    sleep 0.1
  done
}

# runtime_url STATE: the URL the gateway running for STATE announces.
runtime_url() { sed -n 's/.*"url": *"\([^"]*\)".*/\1/p' "$1/pairdeck/gateway.json" 2>/dev/null; }

# A console attached to the gateway running for a state dir survives the
# gateway's restart on another port: while it is down the console counts
# down to the next attempt and no longer claims to know the pairing switch;
# then it finds the gateway again through gateway.json.
tmux kill-session -t "$session" 2>/dev/null || true
rstate="$work/rstate"
"$work/pairdeck" serve --state-dir "$rstate" --listen 127.0.0.1:0 2>"$work/serve1.err" &
serve_pid=$!
wait_file "$rstate/pairdeck/gateway.json"
url1=$(runtime_url "$rstate")
tmux new-session -d -s "$session" -x 100 -y 24 \
  "NO_COLOR=1 $work/pairdeck --state-dir '$rstate' 2>'$work/remote.err'; echo EXITED \$? >'$work/remote.exit'"
wait_for "pairdeck · $url1"
wait_for "● pairing on · ● connected"
kill -TERM "$serve_pid"
wait "$serve_pid" || fail "serve did not exit 0 on SIGTERM: $(cat "$work/serve1.err")"
serve_pid=""
wait_for "\? pairing unknown · ✗ disconnected \(retry in [0-9]+s\)"
echo "ok: remote console counts down to its next attempt, pairing unknown"
"$work/pairdeck" serve --state-dir "$rstate" --listen 127.0.0.1:0 2>"$work/serve2.err" &
serve_pid=$!
wait_file "$rstate/pairdeck/gateway.json"
url2=$(runtime_url "$rstate")
[ "$url2" != "$url1" ] || fail "the gateway came back on the same address $url1"
wait_for "pairdeck · $url2" 40
wait_for "● pairing on · ● connected"
"$work/pairdeck" node pair --node-dir "$work/node3" --url "$url2" --name "Moved Gateway Node" \
  --platform linux >"$work/pair3.out" 2>&1 &
pair_pid=$!
wait_for "Moved Gateway Node"
echo "ok: remote console followed the gateway from $url1 to $url2"
tmux send-keys -t "$session" q
wait_file "$work/remote.exit"
grep -q "EXITED 0" "$work/remote.exit" || fail "remote console exited with $(cat "$work/remote.exit")"
kill "$pair_pid" 2>/dev/null || true
pair_pid=""
kill -TERM "$serve_pid"
wait "$serve_pid" || true
serve_pid=""

# A killed pane (SIGHUP) shuts the embedded console down cleanly: its
# gateway stops and gateway.json goes.
hstate="$work/hstate"
tmux new-session -d -s "$session-hup" -x 80 -y 24 "NO_COLOR=1 $work/pairdeck --state-dir '$hstate' --listen 127.0.0.1:0"
wait_file "$hstate/pairdeck/gateway.json"
tmux kill-session -t "$session-hup"
for _ in $(seq 100); do
  [ -f "$hstate/pairdeck/gateway.json" ] || break
  sleep 0.1
done
[ ! -f "$hstate/pairdeck/gateway.json" ] || fail "gateway.json left behind after the pane was killed"
grep -q "gateway listening" "$hstate/pairdeck/console.log" || fail "no console log"
echo "ok: a killed pane stops the embedded gateway cleanly"
echo "tmux smoke test passed"
