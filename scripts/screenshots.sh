#!/usr/bin/env bash
# Regenerates screenshots/*.png from the running console: `pairdeck demo`
# runs in a tmux pane, keys are sent as a person would type them, the pane is
# captured with its colours (capture-pane -e), turned into HTML by aha and
# photographed by headless Chromium. Needs tmux, aha and chromium (Debian
# packages; installed here when missing and running as root).
#
#   scripts/screenshots.sh            every picture
#   scripts/screenshots.sh ssh …      only the named groups (main, narrow, states, codes, ssh)
set -euo pipefail
cd "$(dirname "$0")/.."

need() {
  local missing=()
  for pkg in tmux aha chromium; do command -v "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" fonts-dejavu-core >/dev/null
  fi
}
need

work=$(mktemp -d)
out=screenshots
mkdir -p "$out"
sessions=()
cleanup() {
  for s in "${sessions[@]}"; do tmux kill-session -t "$s" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/pairdeck" .

groups=("$@")
want() { [ ${#groups[@]} -eq 0 ] || [[ " ${groups[*]} " == *" $1 "* ]]; }

# start NAME COLS ROWS ARGS…: run the demo console in a fresh pane.
start() {
  local name=$1 cols=$2 rows=$3; shift 3
  tmux new-session -d -s "$name" -x "$cols" -y "$rows" -e TERM=xterm-256color -e COLORTERM=truecolor \
    "$work/pairdeck demo --theme dark $*"
  sessions+=("$name")
}

# keys SESSION KEY…: type keys one at a time, as a person would (keys sent in
# one burst arrive as a single paste).
keys() {
  local session=$1; shift
  for k in "$@"; do tmux send-keys -t "$session" "$k"; sleep 0.15; done
  sleep 0.5
}

# shot SESSION FILE [light]: capture the pane with escapes and render it to
# PNG, on a light page for a console in the light theme.
shot() {
  local session=$1 file=$2 cols rows bg='#1a1b26' fg='#c0caf5' lh=1.25
  if [ "${3:-}" = light ]; then bg='#fafafa' fg='#24292f'; fi
  # A QR code's half blocks must touch: no gap between lines.
  if [ "${3:-}" = qr ]; then lh=1; fi
  cols=$(tmux display -p -t "$session" '#{pane_width}')
  rows=$(tmux display -p -t "$session" '#{pane_height}')
  tmux capture-pane -e -p -t "$session" >"$work/$file.ans"
  {
    echo '<!doctype html><meta charset="utf-8"><style>'
    echo "html,body{margin:0;background:$bg}"
    echo "pre{margin:0;padding:14px 16px;font:15px/$lh \"DejaVu Sans Mono\",monospace;color:$fg;white-space:pre}"
    echo '</style><pre>'
    # aha shows bright white (97) as gray: a QR code's light modules are
    # white on black, as the terminal shows them.
    aha --no-header <"$work/$file.ans" | sed 's/color:gray;background-color:black;/color:#fff;background-color:#000;/g'
    echo '</pre>'
  } >"$work/$file.html"
  # Size the window to the terminal: ~9.05 px per column, ~18.75 px per row.
  local w=$(( cols * 905 / 100 + 34 )) h=$(( rows * 1875 / 100 + 30 ))
  if [ "$lh" = 1 ]; then h=$(( rows * 1500 / 100 + 30 )); fi
  # Headless Chromium now and then crashes on a busy machine: try again.
  local try
  for try in 1 2 3; do
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync \
      --user-data-dir="$work/chrome-$file-$try" --hide-scrollbars \
      --window-size="$w,$h" --screenshot="$out/$file.png" "file://$work/$file.html" >/dev/null 2>&1 && break
    [ "$try" -lt 3 ] || { echo "chromium could not render $file" >&2; return 1; }
  done
  echo "wrote $out/$file.png (${cols}x${rows})"
}

# The queue, its detail pane, an inline rename and the paired view.
if want main; then
start main 100 28 --every 2s --nodes 6 --ttl 70s
sleep 15
keys main g j
shot main queue
keys main Enter
shot main detail
keys main Escape
keys main n
keys main C-u
tmux send-keys -t main -l "Den iPad (upstairs)"
sleep 0.6
shot main rename
keys main Escape
keys main g
keys main a
sleep 1
keys main j
keys main a
sleep 1.5
shot main approved
keys main Tab
sleep 1
shot main paired
keys main Tab
shot main activity
keys main q
fi

# A narrow tmux pane: columns give way, name and countdown stay.
if want narrow; then
start narrow 60 15 --every 1s --nodes 5 --ttl 70s
sleep 8
keys narrow g
shot narrow narrow
keys narrow q
fi

# States an operator meets: the help, a confirmation, the reason input, the
# Blocked view, pairing switched off, a second console attached to the
# running gateway (in the light theme), and the question the first one asks
# when it quits while that one still uses its gateway.
if want states; then
start st 100 28 --state-dir "$work/states" --every 2s --nodes 6 --ttl 70s
sleep 10
keys st '?'
shot st help
keys st '?'
keys st g b
shot st block-dialog
keys st y
tmux send-keys -t st -l 'lost in the move'
sleep 0.5
shot st block-reason
keys st Enter
keys st Tab Tab Tab
sleep 1
shot st blocked
keys st BTab BTab BTab
keys st P
sleep 1
shot st pairing-off
keys st P
tmux new-session -d -s remote -x 100 -y 28 -e TERM=xterm-256color -e COLORTERM=truecolor \
  "$work/pairdeck console --theme light --state-dir '$work/states'"
sessions+=(remote)
sleep 5
shot remote remote-light light
keys remote q
keys st q
# The console with its embedded gateway, and another attached to it.
tmux new-session -d -s emb -x 100 -y 28 -e TERM=xterm-256color -e COLORTERM=truecolor \
  "$work/pairdeck --theme dark --state-dir '$work/emb' --listen 127.0.0.1:0"
sessions+=(emb)
for _ in $(seq 100); do [ -f "$work/emb/pairdeck/gateway.json" ] && break; sleep 0.1; done
tmux new-session -d -s other -x 100 -y 28 -e TERM=xterm-256color \
  "$work/pairdeck console --theme dark --state-dir '$work/emb'"
sessions+=(other)
sleep 4
keys emb q
sleep 1
shot emb quit-dialog
keys emb n
keys other q
sleep 1
keys emb q
fi

# Setup codes and reasons: the Codes view, a new code shown once with its QR
# code, and the reason input of a rejection. Needs a gateway that serves
# setup codes and keeps reasons (the embedded one, once it does: skipped,
# saying so, before that).
if want codes; then
start codes 100 52 --every 3s --nodes 4 --ttl 120s
sleep 8
keys codes BTab
if ! tmux capture-pane -p -t codes | grep -q '\[Codes'; then
  echo "skipped codes: the demo's gateway serves no setup codes" >&2
else
  keys codes n
  keys codes Tab Tab
  tmux send-keys -t codes -l 'kitchen-*'
  sleep 0.3
  keys codes Tab
  tmux send-keys -t codes -l 'linux'
  sleep 0.3
  keys codes Tab Tab Tab
  tmux send-keys -t codes -l 'kitchen displays'
  sleep 0.6
  shot codes code-form
  keys codes Enter
  sleep 1
  shot codes codes qr
  keys codes Escape
  shot codes codes-list
  keys codes Tab
  sleep 4
  keys codes g r
  tmux send-keys -t codes -l 'not one of ours'
  sleep 0.6
  shot codes reason
  keys codes Escape
fi
keys codes q
fi

# The console over SSH: the demo's gateway serves it, and ssh opens it in a
# pane of its own with a throwaway key whose comment names the operator;
# then the demo's own console shows that key as the one who approved.
if want ssh; then
  ssh-keygen -q -t ed25519 -N '' -C alice@laptop -f "$work/id"
  cp "$work/id.pub" "$work/authorized_keys"
  start gw 100 28 --state-dir "$work/sshdemo" --ssh 127.0.0.1:0 --ssh-authorized-keys "$work/authorized_keys" \
    --every 2s --nodes 6 --ttl 70s
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/.*msg="console served over SSH" addr=[^ ]*:\([0-9]*\) .*/\1/p' "$work/sshdemo/pairdeck/demo.log" 2>/dev/null || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "the demo never served SSH" >&2; exit 1; }
  tmux new-session -d -s ssh -x 100 -y 28 -e TERM=xterm-256color \
    "ssh -F /dev/null -i '$work/id' -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o LogLevel=ERROR \
       -o UserKnownHostsFile='$work/known_hosts' -o SetEnv=COLORTERM=truecolor -p $port 127.0.0.1"
  sessions+=(ssh)
  sleep 15
  keys ssh g a
  sleep 1.5
  shot ssh ssh
  keys gw Tab Tab
  sleep 1
  shot gw ssh-activity
  keys ssh q
  keys gw q
fi
