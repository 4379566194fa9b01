// Package gateway is pairdeck's WebSocket server for the pairing protocol
// (protocol.md §1–§5): the connect handshake, operator and node
// authentication, the node.pair.* and node.* methods over the store, and the
// events that announce every change. LocalOperator gives the console and the
// CLI the same methods and events in-process.
//
// Choices the protocol leaves open:
//
//   - Scopes: an operator is granted the known scopes it asks for; asking
//     for none grants all four (the shared token allows every scope).
//     Unknown scope names are ignored, not refused, so newer clients still
//     connect.
//   - Slow consumers: each connection has a bounded send queue
//     (Config.SendQueue) drained by its own writer goroutine. A broadcast
//     event that finds the queue full is dropped for that connection only;
//     its seq is still consumed, so the client sees the gap (at the latest
//     with the next tick) and re-lists. Responses are never dropped: a
//     client that does not read only stalls its own requests, and a write
//     that stalls past Config.WriteTimeout closes the socket.
//   - Events go out in the order the store applied the changes they
//     announce: each is sent from the store's commit hook once the change
//     is durable (store/commit.go). No gateway lock is held across a
//     write, so concurrent changes share commits. What must hold together
//     with a change is checked as the store applies it: the block list for
//     a request, the approver's scopes (and a checked approval's
//     conditions) for an approval. A socket joins the fan-out in one step
//     with its hello-ok: it gets every change announced after, and finds
//     every earlier one in the list it asks for.
//   - A node that proves its token has lastConnectedAtMs recorded at once
//     in memory, and on disk with the next write of paired.json or within
//     10 s (store.MarkConnected): a connect never rewrites paired.json of
//     its own.
//   - Connection caps (admission.go, sockets accepted by Serve): at most
//     Config.MaxConns (10,000, lowered to the file limit less 64) in
//     total; of those at most three quarters unauthenticated (handshaking
//     or unpaired nodes) and Config.MaxConnsPerPrefix (64) per network.
//     A newcomer over a cap closes the oldest unauthenticated socket (its
//     network's, or any), handshaking ones before unpaired nodes; an
//     operator's or paired node's socket is never closed to make room, and
//     paired nodes may hold all but 16 sockets, so an operator can always
//     connect. An accept failing with EMFILE/ENFILE makes room the same
//     way and is logged at warn, at most once every 10 s.
//   - Frame limits by role: 64 KiB before the handshake, then 1 MiB for
//     operators (Config.MaxPayload) and 16 KiB for nodes
//     (Config.NodeMaxPayload), whose only call is a small request;
//     hello-ok's policy.maxPayload states the socket's own limit. Upgrade
//     requests carry at most 16 KiB of headers, and a socket that never
//     upgrades is dropped after the handshake timeout.
//   - An unpaired node stays connected Config.UnpairedGrace (15 s) to ask
//     to pair, then as long as its own request waits, then the grace again
//     once it is decided or expires; then it is closed with 1008 "no
//     pairing request" (unpaired.go).
//   - "Connected" means a node socket that proved its token. Unpaired node
//     sockets can ask to pair but count for neither node.list nor
//     pairdeck.node.presence; presence changes are sent when a node's first paired
//     socket opens and its last one closes.
//   - A node's request is completed from its connect params: metadata it
//     leaves out (name, platform, version, family, model, caps, commands)
//     is taken from there, so commands declared at connect count for the
//     approval scopes. remoteIp is always the socket's address.
//   - Limits are kept per network prefix (netkey.go: each IPv4 address by
//     default, Config.IPv4Prefix to widen it; each IPv6 /64): the rate of
//     nodes' node.pair.request (not operators', who hold the token), a
//     network's share of the pending queue (shares.go:
//     Config.MaxPendingPerPrefix, refused with QUEUE_FULL and the time
//     until the first of its requests expires), and wrong tokens.
//   - Tokens are compared first, in constant time, before any limit: a
//     correct credential is never refused or delayed because someone else
//     guessed wrong from the same machine or network. Only wrong tokens
//     are counted (Config.FailedAuthRate); once a network's budget is
//     spent, its wrong tokens are still answered TOKEN_INVALID (a retry
//     with the same token cannot help) but only after
//     Config.FailedAuthDelay. They are audited aggregated (tokenaudit.go):
//     one token-refused line per client and network every 10 s with the
//     count, never one durable write per guess. An operator token shorter
//     than 16 characters is warned about at start: its length, not a
//     lockout, is what makes guessing hopeless.
//   - RATE_LIMITED (and QUEUE_FULL for a network's share) travel with
//     retryable:true and retryAfterMs, where OpenClaw gateways put it;
//     the message says the same wait in words.
//   - Pairing switched off (Config.Pairing, SetPairingEnabled,
//     pairdeck.pairing.set with operator.admin) refuses nodes' own requests
//     with PAIRING_DISABLED; operators may still file requests, requests
//     already pending stay, paired nodes keep connecting. The switch is
//     remembered in <state>/pairdeck/access.json, so a restart keeps a
//     door that was shut shut; Config.Pairing (serve --pairing=on|off)
//     sets it at start, and that is remembered too. Every change goes to
//     every operator as pairdeck.pairing.changed and into the audit log
//     (pairing-on, pairing-off).
//   - The block list (pairdeck.block.*, operator.pairing) refuses every
//     request for a blocked node id — its own or an operator's on its
//     behalf — at once with INVALID_REQUEST/BLOCKED (a reason of its own,
//     so a client stops retrying rather than treating it as a role error),
//     before the pairing switch and the rate limit: a blocked node is told
//     so, and its attempts neither use its address's budget nor cost a
//     write. Refusals are counted in memory (attempts, last attempt, last
//     address), written to access.json every 10 s and at shutdown, and
//     announced as pairdeck.block.refused at most once a second per node.
//     Blocking rejects the node's pending request (actor: who blocked);
//     a paired node stays paired (remove it to cut it off). Block and
//     unblock are audited (blocked, unblocked).
//   - Automatic approval (package policy, <state>/pairdeck/policy.json,
//     re-read when it changes): only a node's own request, only silent,
//     only when a rule matches, decided after the answer to the request is
//     queued, so the node learns its request id first. The rule is the
//     actor ({"rule": name}, shown as "auto (rule name)"). Requests an
//     operator files are never approved by a rule: the address in them is
//     the operator's to make up. A policy.json that is corrupt at start
//     stops New; one broken later turns auto-approval off until fixed.
//   - pairdeck.pair.autoApprove is an operator's approval vouched for by a
//     check its client made (the console's SSH check): silent requests
//     without exec-class commands only, with the operator's scopes, the
//     actor being the operator plus the check as its rule.
//   - Config.OnRequest runs a shell command for every new request that
//     waits for an operator (not refreshes, not ones a rule approved at
//     once), with the request as one line of JSON on stdin and
//     PAIRDECK_REQUEST_ID, PAIRDECK_NODE_ID, PAIRDECK_NODE_NAME and
//     PAIRDECK_REMOTE_IP set, in the gateway's environment less its
//     secrets: OPENCLAW_GATEWAY_TOKEN, OPENCLAW_GATEWAY_PASSWORD, the
//     variables in Config.SecretEnv and any whose value holds the operator
//     token (a notifier needs the request, not the keys to the gateway;
//     its own variables, such as a notification service's, stay). One run
//     at a time from a queue of 32; a full queue drops the notification
//     with a log line; a run that outlives Config.OnRequestTimeout (10 s)
//     has its process group killed.
//   - node.pair.approve waits up to Config.DeliveryWait for the waiting
//     node's socket to write its token; delivered reports whether one did.
//     A node that was unpaired when it connected stays so on that socket:
//     it reconnects with its token, as protocol.md's flow describes.
//   - pairdeck.node.removed also covers a pending request removed with the node.
//   - hello-ok snapshot: presence (connected nodes), health (ok, pending,
//     paired and blocked counts, pairingEnabled), stateVersion, uptimeMs,
//     authMode "token" — only keys OpenClaw's strict Snapshot schema knows;
//     presence entries use its shape (deviceId, ip, mode, roles, reason,
//     ts). hello-ok has no auth block: that schema requires a deviceToken
//     there, which pairdeck does not issue. Nodes and operators without
//     operator.read get an empty presence list and no counts.
//   - Text is checked where it enters (ingest.go): every string of connect's
//     params and of every method's params must pass protocol.CheckText,
//     every string list protocol.CheckList, every displayName
//     protocol.CleanName (no bidi controls, zero-width characters or line
//     separators), and connect's client block the field length limit; a
//     refusal is INVALID_PARAMS naming the field in the message and in
//     details.field. A frame whose id or method is unsafe is answered with
//     id "invalid". Log lines go through protocol.PrintableHandler: slog's
//     text handler writes DEL raw and its JSON handler C1 controls and bidi
//     characters, so neither is trusted with what a client sent.
//   - Browser origins other than the gateway's own host are refused unless
//     listed in Config.OriginPatterns. A connection that arrived on a
//     loopback address must name loopback in its Host header (localhost,
//     127.0.0.0/8, [::1], any port) or a name in Config.AllowedHosts
//     (serve --allow-host); others get 403 saying how to allow a name,
//     and a warning in the log (at most one every 10 s), against DNS
//     rebinding (hostcheck.go).
//   - Nodes are told nothing of the gateway's own failures: a STORE_FAILED
//     answer to a node says only that the gateway could not record the
//     request, retry later (retryable); the cause (paths, errno) goes to the
//     log at warn. Operators, who hold the token, get the cause.
//   - details.code where protocol.md's list has no exact reason: malformed
//     frames, a wrong first frame, a refused device identity and a protocol
//     mismatch use INVALID_PARAMS; connect after connect uses
//     UNKNOWN_METHOD; calls refused because the gateway is shutting down
//     use UNAVAILABLE/STORE_FAILED with retryable:true, as does a failed
//     write of access.json. RATE_LIMITED, QUEUE_FULL and PAIRING_DISABLED
//     travel with code UNAVAILABLE. Unblocking a node that is not blocked
//     is UNKNOWN_NODE.
//   - A LocalOperator's Updates start with a Connected state and end, at
//     Shutdown, with the shutdown event and a Disconnected state (Err
//     ErrShutdown) before the channel closes.
//   - The gateway does not close the store; its owner does, after Shutdown.
//     New starts the tick, expiry and access-file timers (and the
//     on-request runner), so every Gateway must be shut down.
package gateway
