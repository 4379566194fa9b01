package protocol

import "encoding/json"

// PendingRequest is a node's request to pair: a record of nodes/pending.json
// (keyed by RequestID) and the payload of node.pair.requested.
//
// RequiredApproveScopes and ExpiresAtMs are computed by the gateway for the
// wire; they are never stored on disk.
type PendingRequest struct {
	RequestID string `json:"requestId"`
	NodeID    string `json:"nodeId"`
	NodeMeta
	Silent   bool  `json:"silent"`
	IsRepair bool  `json:"isRepair,omitempty"`
	TS       int64 `json:"ts"`
	// RenamedAtMs marks a display name chosen by an operator; the node's own
	// refreshes no longer replace it (pairdeck).
	RenamedAtMs int64 `json:"renamedAtMs,omitempty"`

	RequiredApproveScopes []string `json:"requiredApproveScopes,omitempty"`
	ExpiresAtMs           int64    `json:"expiresAtMs,omitempty"`

	// What OpenClaw gateways add (filled by the client; pairdeck's gateway
	// and files leave them empty, so their bytes do not change). Kind is
	// KindNode or KindDevice; for a device request NodeID is the device id
	// (a node's id on those gateways) and Reason says why it waits
	// (PairingReason*). RefreshedAtMs is when a device request was last
	// kept alive by a retry. Role, Roles and Scopes are what a device
	// request asks for; ClientID and ClientMode name the connecting
	// program.
	Kind          string      `json:"kind,omitempty"`
	Reason        string      `json:"reason,omitempty"`
	RefreshedAtMs int64       `json:"refreshedAtMs,omitempty"`
	ClientID      string      `json:"clientId,omitempty"`
	ClientMode    string      `json:"clientMode,omitempty"`
	Permissions   Permissions `json:"permissions,omitempty"`
	Role          string      `json:"role,omitempty"`
	Roles         []string    `json:"roles,omitempty"`
	Scopes        []string    `json:"scopes,omitempty"`

	// Extra holds the keys the gateway sent that this type does not model,
	// so --json output and detail views can show them
	// (MarshalWithExtra). Never stored.
	Extra map[string]json.RawMessage `json:"-"`
}

// PairedNode is an approved node: a record of nodes/paired.json (keyed by
// NodeID).
//
// On disk pairdeck stores TokenSHA256 (hex) instead of Token, or Token
// itself in a dir shared with OpenClaw (the store's "openclaw" token
// storage); each record keeps its form until an explicit conversion. On
// the wire Token appears only in the approve result, and TokenSHA256 never.
type PairedNode struct {
	NodeID      string `json:"nodeId"`
	Token       string `json:"token,omitempty"`
	TokenSHA256 string `json:"tokenSha256,omitempty"`
	NodeMeta
	CreatedAtMs       int64 `json:"createdAtMs"`
	ApprovedAtMs      int64 `json:"approvedAtMs"`
	RenamedAtMs       int64 `json:"renamedAtMs,omitempty"`
	LastConnectedAtMs int64 `json:"lastConnectedAtMs,omitempty"`

	// What OpenClaw 2026.7+ gateways add to paired nodes (empty from
	// pairdeck's gateway and files).
	ClientID       string      `json:"clientId,omitempty"`
	ClientMode     string      `json:"clientMode,omitempty"`
	Permissions    Permissions `json:"permissions,omitempty"`
	LastSeenAtMs   int64       `json:"lastSeenAtMs,omitempty"`
	LastSeenReason string      `json:"lastSeenReason,omitempty"`

	// Extra holds keys the gateway sent that this type does not model
	// (see PendingRequest.Extra). Never stored.
	Extra map[string]json.RawMessage `json:"-"`
}

// WithoutSecrets returns a copy safe to list or log: no token, no hash.
func (n PairedNode) WithoutSecrets() PairedNode {
	n.Token = ""
	n.TokenSHA256 = ""
	return n
}

// NodeInfo is one entry of node.list: what the gateway knows of a node.
type NodeInfo struct {
	NodeID            string   `json:"nodeId"`
	DisplayName       string   `json:"displayName,omitempty"`
	Platform          string   `json:"platform,omitempty"`
	Version           string   `json:"version,omitempty"`
	DeviceFamily      string   `json:"deviceFamily,omitempty"`
	ModelIdentifier   string   `json:"modelIdentifier,omitempty"`
	RemoteIP          string   `json:"remoteIp,omitempty"`
	Caps              []string `json:"caps"`
	Commands          []string `json:"commands"`
	Paired            bool     `json:"paired"`
	Connected         bool     `json:"connected"`
	ConnectedAtMs     int64    `json:"connectedAtMs,omitempty"`
	ApprovedAtMs      int64    `json:"approvedAtMs,omitempty"`
	LastConnectedAtMs int64    `json:"lastConnectedAtMs,omitempty"`

	// What OpenClaw 2026.7+ gateways add (empty from pairdeck's gateway).
	// ApprovalState (Approval*) says whether the node's declared commands
	// were approved: there Paired only means its device is paired, and a
	// node waiting for approval lists no caps or commands; its declared
	// ones are in PendingDeclared*, and PendingRequestID names the request
	// to approve.
	ApprovalState              string      `json:"approvalState,omitempty"`
	PendingRequestID           string      `json:"pendingRequestId,omitempty"`
	PendingDeclaredCaps        []string    `json:"pendingDeclaredCaps,omitempty"`
	PendingDeclaredCommands    []string    `json:"pendingDeclaredCommands,omitempty"`
	PendingDeclaredPermissions Permissions `json:"pendingDeclaredPermissions,omitempty"`
	Permissions                Permissions `json:"permissions,omitempty"`
	CoreVersion                string      `json:"coreVersion,omitempty"`
	UIVersion                  string      `json:"uiVersion,omitempty"`
	ClientID                   string      `json:"clientId,omitempty"`
	ClientMode                 string      `json:"clientMode,omitempty"`
	LastSeenAtMs               int64       `json:"lastSeenAtMs,omitempty"`
	LastSeenReason             string      `json:"lastSeenReason,omitempty"`

	// Extra holds keys the gateway sent that this type does not model
	// (see PendingRequest.Extra).
	Extra map[string]json.RawMessage `json:"-"`
}

// NewNodeInfo is the node.list entry for a node with metadata m (not
// paired, not connected: the caller adds what it knows).
func NewNodeInfo(nodeID string, m NodeMeta) *NodeInfo {
	return &NodeInfo{
		NodeID: nodeID, DisplayName: m.DisplayName, Platform: m.Platform, Version: m.Version,
		DeviceFamily: m.DeviceFamily, ModelIdentifier: m.ModelIdentifier, RemoteIP: m.RemoteIP,
		Caps: m.Caps, Commands: m.Commands,
	}
}
