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
//   - "Connected" means a node socket that proved its token. Unpaired node
//     sockets can ask to pair but count for neither node.list nor
//     node.presence; presence changes are sent when a node's first paired
//     socket opens and its last one closes.
//   - A node's request is completed from its connect params: metadata it
//     leaves out (name, platform, version, family, model, caps, commands)
//     is taken from there, so commands declared at connect count for the
//     approval scopes. remoteIp is always the socket's address.
//   - Rate limits apply per remote IP: node.pair.request from nodes (not
//     from operators, who hold the token) and failed token checks; once
//     the failure budget is spent, connects that present a token from that
//     address are refused until it refills.
//   - Pairing switched off (Config.PairingDisabled, SetPairingEnabled)
//     refuses nodes' own requests; operators may still file requests.
//   - node.pair.approve waits up to Config.DeliveryWait for the waiting
//     node's socket to write its token; delivered reports whether one did.
//     A node that was unpaired when it connected stays so on that socket:
//     it reconnects with its token, as protocol.md's flow describes.
//   - node.pair.removed also covers a pending request removed with the node.
//   - hello-ok snapshot: presence (connected nodes), health (ok, pending
//     and paired counts, pairingEnabled), stateVersion, uptimeMs,
//     authMode "token" — only keys OpenClaw's strict Snapshot schema knows;
//     presence entries use its shape (deviceId, ip, mode, roles, reason,
//     ts). hello-ok has no auth block: that schema requires a deviceToken
//     there, which pairdeck does not issue. Nodes and operators without
//     operator.read get an empty presence list and no counts.
//   - Browser origins other than the gateway's own host are refused unless
//     listed in Config.OriginPatterns.
//   - details.code where protocol.md's list has no exact reason: malformed
//     frames, a wrong first frame, a refused device identity and a protocol
//     mismatch use INVALID_PARAMS; connect after connect uses
//     UNKNOWN_METHOD; calls refused because the gateway is shutting down
//     use UNAVAILABLE/STORE_FAILED with retryable:true. RATE_LIMITED,
//     QUEUE_FULL and PAIRING_DISABLED travel with code UNAVAILABLE.
//   - A LocalOperator's Updates start with a Connected state and end, at
//     Shutdown, with the shutdown event and a Disconnected state (Err
//     ErrShutdown) before the channel closes.
//   - The gateway does not close the store; its owner does, after Shutdown.
//     New starts the tick and expiry timers, so every Gateway must be shut
//     down.
package gateway
