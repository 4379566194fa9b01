package protocol

// Event names.
const (
	EventChallenge     = "connect.challenge"
	EventPairRequested = "node.pair.requested"
	EventPairResolved  = "node.pair.resolved"
	EventNodeRenamed   = "pairdeck.node.renamed"
	EventPairRemoved   = "pairdeck.node.removed"
	EventNodePresence  = "pairdeck.node.presence"
	EventTick          = "tick"
	EventShutdown      = "shutdown"
)

// Events lists every event pairdeck's gateway may send (hello-ok features).
var Events = []string{
	EventChallenge, EventPairRequested, EventPairResolved, EventNodeRenamed,
	EventPairRemoved, EventNodePresence, EventTick, EventShutdown,
	EventPairingChanged, EventBlockAdded, EventBlockRemoved, EventBlockRefused,
	EventCodeCreated, EventCodeRevoked, EventCodeUsed,
}

// Decisions in node.pair.resolved.
const (
	DecisionApproved = "approved"
	DecisionRejected = "rejected"
	DecisionExpired  = "expired"
)

// ChallengeEvent opens every connection; its nonce must be signed.
type ChallengeEvent struct {
	Nonce string `json:"nonce"`
	TS    int64  `json:"ts"`
}

// ResolvedEvent ends a pending request. Token is present only in the copy
// sent to the requesting node on approval.
type ResolvedEvent struct {
	RequestID string `json:"requestId"`
	NodeID    string `json:"nodeId"`
	Decision  string `json:"decision"`
	TS        int64  `json:"ts"`
	Token     string `json:"token,omitempty"`
	// Actor names who decided, for activity views (pairdeck; optional).
	Actor string `json:"actor,omitempty"`
	// Reason is the operator's word on the decision (pairdeck; optional).
	Reason string `json:"reason,omitempty"`
	// Kind is set by the client for OpenClaw gateways' requests (KindNode,
	// KindDevice; for a device, NodeID is the device id).
	Kind string `json:"kind,omitempty"`
}

// RenamedEvent reports an operator's rename (pairdeck).
type RenamedEvent struct {
	NodeID      string `json:"nodeId"`
	DisplayName string `json:"displayName"`
	TS          int64  `json:"ts"`
	Actor       string `json:"actor,omitempty"`
}

// RemovedEvent reports a paired node's removal (pairdeck).
type RemovedEvent struct {
	NodeID string `json:"nodeId"`
	TS     int64  `json:"ts"`
	Actor  string `json:"actor,omitempty"`
}

// PresenceEvent reports a paired node connecting or leaving (pairdeck).
type PresenceEvent struct {
	NodeID    string `json:"nodeId"`
	Connected bool   `json:"connected"`
	TS        int64  `json:"ts"`
}

// TickEvent is the gateway's heartbeat.
type TickEvent struct {
	TS int64 `json:"ts"`
}

// ShutdownEvent precedes close 1012.
type ShutdownEvent struct {
	Reason string `json:"reason"`
}
