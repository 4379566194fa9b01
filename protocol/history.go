package protocol

import "encoding/json"

// History is what the gateway's audit log (nodes/audit.jsonl and its
// rotations) says happened: decisions with their actor, requests, expiries,
// renames, removals, policy changes and refusal counts. The store reads it
// (store.History, store.ReadHistory); the CLI and an operator method show
// it.

// MethodHistoryList is pairdeck.history.list: one page of history, as
// store.History reads it (params HistoryQuery, result HistoryPage). It needs
// operator.read: the log holds no secret (never a token), and what it shows
// of nodes (names, addresses) node.list shows a reader already; who decided
// is what a read-only dashboard is for.
const MethodHistoryList = "pairdeck.history.list"

// Limits on one page of history.
const (
	HistoryDefaultLimit = 100
	HistoryMaxLimit     = 1000
	// HistoryMaxActions bounds HistoryQuery.Actions over the wire.
	HistoryMaxActions = 32
)

// HistoryQuery selects events, newest first. Zero values select everything.
type HistoryQuery struct {
	// NodeID keeps the events about this node only.
	NodeID string `json:"nodeId,omitempty"`
	// Actions keeps these actions only ("approved", "rejected", …).
	Actions []string `json:"actions,omitempty"`
	// SinceMs keeps the events at or after this time (Unix ms).
	SinceMs int64 `json:"sinceMs,omitempty"`
	// Before is a page's Next: the events older than that page's last.
	Before string `json:"before,omitempty"`
	// Limit is the most events to return (HistoryDefaultLimit when 0, at
	// most HistoryMaxLimit).
	Limit int `json:"limit,omitempty"`
}

// HistoryEvent is one line of the audit log.
type HistoryEvent struct {
	TS          int64  `json:"ts"` // Unix ms
	Action      string `json:"action"`
	RequestID   string `json:"requestId,omitempty"`
	NodeID      string `json:"nodeId,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	IsRepair    bool   `json:"isRepair,omitempty"`
	Decision    string `json:"decision,omitempty"`
	Reason      string `json:"reason,omitempty"`
	// Actor is who made the change (for expiries, the TTL rule).
	Actor Actor `json:"actor"`
	// Attempts, FirstTS and LastTS are set on a count of refusals (the
	// gateway's "token-refused": Attempts wrong tokens from one client and
	// network between FirstTS and LastTS, Unix ms).
	Attempts int64 `json:"attempts,omitempty"`
	FirstTS  int64 `json:"firstTs,omitempty"`
	LastTS   int64 `json:"lastTs,omitempty"`
	// Fields are the line's other members (what a policy change changed).
	Fields map[string]json.RawMessage `json:"fields,omitempty"`
	// Cursor is where this event is in the log.
	Cursor string `json:"cursor"`
}

// HistoryPage is one page of history, newest first.
type HistoryPage struct {
	Events []HistoryEvent `json:"events"`
	// Next, passed as HistoryQuery.Before, continues with older events;
	// empty when the log has none that could match. A page may be short,
	// or the next one empty, when few events match.
	Next string `json:"next,omitempty"`
}
