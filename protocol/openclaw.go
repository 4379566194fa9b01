package protocol

import (
	"encoding/json"
	"slices"
	"strings"
)

// OpenClaw's gateway protocol 4 and its pairing models, as far as pairdeck's
// clients speak them (see docs/interop.md, "Protocol 4"). pairdeck's own
// gateway speaks Version (3); clients offer MinClientProtocol..MaxClientProtocol
// and adapt to what hello-ok says was agreed.
const (
	MinClientProtocol = 3
	MaxClientProtocol = 4
)

// Device pairing (OpenClaw 2026.4.12+; the way nodes pair from 2026.8 on).
const (
	MethodDevicePairList    = "device.pair.list"
	MethodDevicePairApprove = "device.pair.approve"
	MethodDevicePairReject  = "device.pair.reject"
	MethodDevicePairRemove  = "device.pair.remove"
	MethodDevicePairRename  = "device.pair.rename"

	EventDevicePairRequested = "device.pair.requested"
	EventDevicePairResolved  = "device.pair.resolved"
	EventDevicePairChanged   = "device.pair.changed"
)

// Events of OpenClaw gateways whose names or shapes must not be mistaken for
// pairdeck's: EventPresence carries the gateway's presence list, and 2026.9's
// EventOpenClawNodePresence is {nodeId,lastActiveAtMs,presenceUpdatedAtMs}
// (node activity), not pairdeck's connected/disconnected
// (EventNodePresence).
const (
	EventPresence             = "presence"
	EventOpenClawNodePresence = "node.presence"
)

// DecisionRemoved is node.pair.resolved's decision after node.pair.remove on
// OpenClaw 2026.7+; the event then has requestId "".
const DecisionRemoved = "removed"

// Kinds of request in the one pending queue: a node's pairing (or, from
// OpenClaw 2026.8 on, capability) request of node.pair.*, or a device pairing
// request of device.pair.*. pairdeck's gateway has only node requests.
const (
	KindNode   = "node"
	KindDevice = "device"
)

// Why a device pairing request waits (OpenClaw's PAIRING_REQUIRED
// details.reason): a device never paired, or a paired device asking for more
// scopes, a further role, or with changed platform/device family.
const (
	PairingReasonNotPaired       = "not-paired"
	PairingReasonScopeUpgrade    = "scope-upgrade"
	PairingReasonRoleUpgrade     = "role-upgrade"
	PairingReasonMetadataUpgrade = "metadata-upgrade"
)

// Approval states of a node's declared capabilities in node.list (OpenClaw
// 2026.7+). There `paired` only says the device is paired; these say whether
// its commands were approved.
const (
	ApprovalApproved          = "approved"
	ApprovalPending           = "pending-approval"
	ApprovalPendingReapproval = "pending-reapproval"
	ApprovalUnapproved        = "unapproved"
)

// OpenClaw's details.code values pairdeck's clients act on. pairdeck's own
// reasons (ReasonRateLimited, ReasonMissingScope, ...) are in errors.go.
const (
	DetailPairingRequired         = "PAIRING_REQUIRED"
	DetailProtocolMismatch        = "PROTOCOL_MISMATCH"
	DetailDeviceIdentityRequired  = "DEVICE_IDENTITY_REQUIRED"
	DetailAuthTokenMissing        = "AUTH_TOKEN_MISSING"
	DetailAuthTokenMismatch       = "AUTH_TOKEN_MISMATCH"
	DetailAuthPasswordMissing     = "AUTH_PASSWORD_MISSING"
	DetailAuthPasswordMismatch    = "AUTH_PASSWORD_MISMATCH"
	DetailAuthDeviceTokenMismatch = "AUTH_DEVICE_TOKEN_MISMATCH"
	DetailAuthRateLimited         = "AUTH_RATE_LIMITED"
)

// OpenClawErrorDetails is the details object of an OpenClaw refusal:
// details.code and the keys pairdeck's clients read (RefusalDetails, all
// optional).
type OpenClawErrorDetails struct {
	Code string `json:"code"`
	RefusalDetails
}

// Permissions are the booleans a node declares (OpenClaw 2026.7+, e.g.
// {"camera":true}). Values that are not booleans are skipped rather than
// failing the record they came with.
type Permissions map[string]bool

// UnmarshalJSON keeps the boolean entries of an object and ignores anything
// else, so one odd value never hides a whole request.
func (p *Permissions) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		*p = nil
		return nil
	}
	out := make(Permissions, len(raw))
	for k, v := range raw {
		var b bool
		if json.Unmarshal(v, &b) == nil {
			out[k] = b
		}
	}
	*p = out
	return nil
}

// Granted lists the permissions set to true, sorted.
func (p Permissions) Granted() []string {
	var out []string
	for k, v := range p {
		if v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// DeviceTokenInfo describes one of a paired device's tokens. Gateways list
// them without the token itself.
type DeviceTokenInfo struct {
	Role         string   `json:"role"`
	Scopes       []string `json:"scopes,omitempty"`
	CreatedAtMs  int64    `json:"createdAtMs,omitempty"`
	RotatedAtMs  int64    `json:"rotatedAtMs,omitempty"`
	RevokedAtMs  int64    `json:"revokedAtMs,omitempty"`
	LastUsedAtMs int64    `json:"lastUsedAtMs,omitempty"`
}

// PendingDevice is an entry of device.pair.list's pending list and the
// payload of device.pair.requested.
type PendingDevice struct {
	RequestID       string   `json:"requestId"`
	DeviceID        string   `json:"deviceId"`
	PublicKey       string   `json:"publicKey,omitempty"`
	DisplayName     string   `json:"displayName,omitempty"`
	Platform        string   `json:"platform,omitempty"`
	DeviceFamily    string   `json:"deviceFamily,omitempty"`
	ModelIdentifier string   `json:"modelIdentifier,omitempty"`
	ClientID        string   `json:"clientId,omitempty"`
	ClientMode      string   `json:"clientMode,omitempty"`
	Role            string   `json:"role,omitempty"`
	Roles           []string `json:"roles,omitempty"`
	Scopes          []string `json:"scopes,omitempty"`
	RemoteIP        string   `json:"remoteIp,omitempty"`
	Silent          bool     `json:"silent,omitempty"`
	IsRepair        bool     `json:"isRepair,omitempty"`
	TS              int64    `json:"ts"`
	RefreshedAtMs   int64    `json:"refreshedAtMs,omitempty"`
}

// PairedDevice is an entry of device.pair.list's paired list (no token
// values, only their descriptions) and the device of device.pair.approve's
// result.
type PairedDevice struct {
	DeviceID        string            `json:"deviceId"`
	PublicKey       string            `json:"publicKey,omitempty"`
	DisplayName     string            `json:"displayName,omitempty"`
	Platform        string            `json:"platform,omitempty"`
	DeviceFamily    string            `json:"deviceFamily,omitempty"`
	ModelIdentifier string            `json:"modelIdentifier,omitempty"`
	ClientID        string            `json:"clientId,omitempty"`
	ClientMode      string            `json:"clientMode,omitempty"`
	Role            string            `json:"role,omitempty"`
	Roles           []string          `json:"roles,omitempty"`
	Scopes          []string          `json:"scopes,omitempty"`
	ApprovedVia     string            `json:"approvedVia,omitempty"`
	CreatedAtMs     int64             `json:"createdAtMs,omitempty"`
	ApprovedAtMs    int64             `json:"approvedAtMs,omitempty"`
	LastSeenAtMs    int64             `json:"lastSeenAtMs,omitempty"`
	LastSeenReason  string            `json:"lastSeenReason,omitempty"`
	Connected       bool              `json:"connected,omitempty"`
	Tokens          []DeviceTokenInfo `json:"tokens,omitempty"`
}

// DevicePairListResult is device.pair.list's result.
type DevicePairListResult struct {
	Pending []json.RawMessage `json:"pending"`
	Paired  []PairedDevice    `json:"paired"`
}

// DeviceApproveResult is device.pair.approve's result.
type DeviceApproveResult struct {
	RequestID string       `json:"requestId"`
	Device    PairedDevice `json:"device"`
}

// DeviceRejectResult is device.pair.reject's result.
type DeviceRejectResult struct {
	RequestID string `json:"requestId"`
	DeviceID  string `json:"deviceId"`
}

// DeviceResolvedEvent is device.pair.resolved's payload; decision
// "rejected" also means a newer request of the same device superseded it.
type DeviceResolvedEvent struct {
	RequestID string `json:"requestId"`
	DeviceID  string `json:"deviceId"`
	Decision  string `json:"decision"`
	TS        int64  `json:"ts"`
}

// DeviceRenameParams are device.pair.rename's params (OpenClaw 2026.9+).
type DeviceRenameParams struct {
	DeviceID string `json:"deviceId"`
	Label    string `json:"label"`
}

// DeviceReason works out why a device pairing request waits, the way the
// gateway decides it at connect: a device with no paired record is new;
// otherwise a role it was not approved for comes first, then scopes its
// approved ones do not cover, then a changed platform or device family.
// device.pair.list does not carry the reason, so this is how a list shows
// it. "" when the request asks for nothing beyond the paired record.
func DeviceReason(p PendingDevice, paired *PairedDevice) string {
	if paired == nil {
		return PairingReasonNotPaired
	}
	approvedRoles := paired.Roles
	if len(approvedRoles) == 0 && paired.Role != "" {
		approvedRoles = []string{paired.Role}
	}
	requested := p.Roles
	if p.Role != "" && !slices.Contains(requested, p.Role) {
		requested = append(slices.Clone(requested), p.Role)
	}
	for _, r := range requested {
		if !slices.Contains(approvedRoles, r) {
			return PairingReasonRoleUpgrade
		}
	}
	for _, s := range p.Scopes {
		if !ScopeCovers(paired.Scopes, s) {
			return PairingReasonScopeUpgrade
		}
	}
	if !sameMeta(p.Platform, paired.Platform) || !sameMeta(p.DeviceFamily, paired.DeviceFamily) {
		return PairingReasonMetadataUpgrade
	}
	return ""
}

// sameMeta compares platform / device family the way the device signature
// normalises them (trimmed, ASCII lower case).
func sameMeta(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// ScopeCovers reports whether granted covers want on an OpenClaw gateway:
// operator.admin covers every operator scope and operator.write covers
// operator.read.
func ScopeCovers(granted []string, want string) bool {
	if slices.Contains(granted, want) {
		return true
	}
	if strings.HasPrefix(want, "operator.") && slices.Contains(granted, ScopeAdmin) {
		return true
	}
	return want == ScopeRead && slices.Contains(granted, ScopeWrite)
}

// DeviceApproveScopes is what approving device request p takes on an OpenClaw
// gateway: operator.pairing, every operator scope it asks for (an approver
// cannot hand out scopes it lacks), and operator.admin for a role other than
// operator (e.g. a node).
func DeviceApproveScopes(p PendingDevice) []string {
	out := []string{ScopePairing}
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, s := range p.Scopes {
		add(s)
	}
	roles := p.Roles
	if p.Role != "" {
		roles = append(slices.Clone(roles), p.Role)
	}
	for _, r := range roles {
		if r != RoleOperator {
			add(ScopeAdmin)
		}
	}
	return out
}

// MarshalWithExtra encodes v (a JSON object) and adds the keys of extra that
// v does not have, so a record passed through keeps every field its gateway
// sent. Keys v already has win.
func MarshalWithExtra(v any, extra map[string]json.RawMessage) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return data, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return data, nil // not an object: nothing to add to
	}
	for k, raw := range extra {
		if _, ok := obj[k]; !ok {
			obj[k] = raw
		}
	}
	return json.Marshal(obj)
}
