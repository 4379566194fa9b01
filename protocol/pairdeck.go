package protocol

// pairdeck's own methods and events. They live under "pairdeck." so that no
// method OpenClaw adds can ever mean something else; a client that finds
// them missing from hello-ok features is talking to another gateway.
const (
	// MethodPairingGet reports the pairing switch (operator.read).
	MethodPairingGet = "pairdeck.pairing.get"
	// MethodPairingSet switches pairing on or off (operator.admin).
	MethodPairingSet = "pairdeck.pairing.set"
	// MethodBlockAdd blocks a node id; its pending request is rejected
	// (operator.pairing).
	MethodBlockAdd = "pairdeck.block.add"
	// MethodBlockRemove unblocks a node id (operator.pairing).
	MethodBlockRemove = "pairdeck.block.remove"
	// MethodBlockList lists the blocked node ids (operator.pairing).
	MethodBlockList = "pairdeck.block.list"
	// MethodPairAutoApprove approves a silent request on the strength of a
	// check the operator's client made (the console's SSH check), recording
	// the check as the rule behind the decision (operator.pairing plus the
	// request's approval scopes).
	MethodPairAutoApprove = "pairdeck.pair.autoApprove"
)

// pairdeck's own events.
const (
	// EventPairingChanged: the pairing switch changed (to every operator).
	EventPairingChanged = "pairdeck.pairing.changed"
	// EventBlockAdded: a node id was blocked (operators with
	// operator.pairing).
	EventBlockAdded = "pairdeck.block.added"
	// EventBlockRemoved: a node id was unblocked.
	EventBlockRemoved = "pairdeck.block.removed"
	// EventBlockRefused: a blocked node asked again and was refused; its
	// counters changed. At most one per node per second.
	EventBlockRefused = "pairdeck.block.refused"
)

// PairingState is the pairing switch: pairdeck.pairing.get's and .set's
// result.
type PairingState struct {
	Enabled bool `json:"enabled"`
	// ChangedAtMs and ChangedBy say when and by whom it was last switched
	// (absent for a switch never touched).
	ChangedAtMs int64  `json:"changedAtMs,omitempty"`
	ChangedBy   string `json:"changedBy,omitempty"`
}

// PairingSetParams are pairdeck.pairing.set's params; enabled is required.
type PairingSetParams struct {
	Enabled *bool `json:"enabled"`
}

// PairingChangedEvent announces a switch (pairdeck).
type PairingChangedEvent struct {
	Enabled bool   `json:"enabled"`
	TS      int64  `json:"ts"`
	Actor   string `json:"actor,omitempty"`
}

// BlockedNode is one entry of the block list.
type BlockedNode struct {
	NodeID      string `json:"nodeId"`
	DisplayName string `json:"displayName,omitempty"`
	BlockedAtMs int64  `json:"blockedAtMs"`
	BlockedBy   string `json:"blockedBy,omitempty"`
	// Reason is what the operator said when blocking (optional).
	Reason string `json:"reason,omitempty"`
	// Attempts counts the requests refused since the node was blocked.
	Attempts      int64  `json:"attempts"`
	LastAttemptMs int64  `json:"lastAttemptMs,omitempty"`
	LastRemoteIP  string `json:"lastRemoteIp,omitempty"`
}

// BlockParams are pairdeck.block.add's params. displayName is a label for
// lists; the gateway fills it from the node's request or record when
// omitted.
type BlockParams struct {
	NodeID      string `json:"nodeId"`
	DisplayName string `json:"displayName,omitempty"`
	// Reason is the operator's optional word on the block (CheckReason).
	Reason string `json:"reason,omitempty"`
}

// BlockResult is pairdeck.block.add's result. Created is false when the
// node was already blocked; RejectedRequestID names the pending request the
// block rejected, if there was one.
type BlockResult struct {
	Node              BlockedNode `json:"node"`
	Created           bool        `json:"created"`
	RejectedRequestID string      `json:"rejectedRequestId,omitempty"`
}

// UnblockResult is pairdeck.block.remove's result: the entry as it was.
type UnblockResult struct {
	Node BlockedNode `json:"node"`
}

// BlockListResult is pairdeck.block.list's result, most recently blocked
// first.
type BlockListResult struct {
	Blocked []BlockedNode `json:"blocked"`
}

// BlockEvent is the payload of pairdeck.block.added and
// pairdeck.block.refused: the entry as it is now (treat as upsert).
type BlockEvent struct {
	Node  BlockedNode `json:"node"`
	TS    int64       `json:"ts"`
	Actor string      `json:"actor,omitempty"`
}

// UnblockEvent is the payload of pairdeck.block.removed.
type UnblockEvent struct {
	NodeID string `json:"nodeId"`
	TS     int64  `json:"ts"`
	Actor  string `json:"actor,omitempty"`
}

// AutoApproveParams are pairdeck.pair.autoApprove's params: the request and
// the name of the check that vouched for it (e.g. "ssh-check").
type AutoApproveParams struct {
	RequestID string `json:"requestId"`
	Rule      string `json:"rule"`
}
