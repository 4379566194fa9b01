package client

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pairdeck/pairdeck/protocol"
)

// PairingModel is how a gateway pairs nodes, decided from what its hello-ok
// advertises (features.methods), never from its version string.
type PairingModel int

const (
	// ModelNodePairing: nodes pair through node.pair.request and the queue
	// is node.pair.list (pairdeck's gateway, OpenClaw 2026.4.12 to 2026.7).
	ModelNodePairing PairingModel = iota
	// ModelDevicePairing: nodes pair through device pairing when they
	// connect with role node; the gateway files their capability requests
	// itself. The queue is device.pair.list plus node.pair.list (OpenClaw
	// 2026.8 on: device.pair.* offered, node.pair.request gone).
	ModelDevicePairing
)

func (m PairingModel) String() string {
	if m == ModelDevicePairing {
		return "device pairing"
	}
	return "node pairing"
}

// modelOf decides the pairing model from hello-ok's features.
func modelOf(f protocol.Features) PairingModel {
	if slices.Contains(f.Methods, protocol.MethodDevicePairList) && !slices.Contains(f.Methods, protocol.MethodPairRequest) {
		return ModelDevicePairing
	}
	return ModelNodePairing
}

// isPairdeck reports whether hello-ok is from a pairdeck gateway: only it
// serves methods in the pairdeck. namespace.
func isPairdeck(f protocol.Features) bool {
	return slices.ContainsFunc(f.Methods, func(m string) bool { return strings.HasPrefix(m, "pairdeck.") })
}

// Capability is an action some gateways offer and others do not, so the CLI
// and the console can hide or explain it up front.
type Capability string

const (
	// CapRenamePending: rename a node that only has a pending request
	// (pairdeck's gateway; OpenClaw renames paired nodes only).
	CapRenamePending Capability = "rename-pending"
	// CapVerify: node.pair.verify (pairdeck, OpenClaw up to 2026.7).
	CapVerify Capability = "verify"
	// CapBlockList: the block list (pairdeck.block.*).
	CapBlockList Capability = "block-list"
	// CapPairingSwitch: switching pairing on and off (pairdeck.pairing.*).
	CapPairingSwitch Capability = "pairing-switch"
	// CapAutoApprove: approval vouched for by the console's SSH check.
	CapAutoApprove Capability = "auto-approve"
	// CapRemove: node.pair.remove (pairdeck, OpenClaw 2026.7+).
	CapRemove Capability = "remove"
	// CapDeviceRename: device.pair.rename (OpenClaw 2026.9+).
	CapDeviceRename Capability = "device-rename"
	// CapHistory: the decision history (pairdeck.history.list).
	CapHistory Capability = "history"
	// CapCodes: setup codes (pairdeck.codes.*).
	CapCodes Capability = "codes"
	// CapReasons: a reason kept with approve, reject and block (pairdeck's
	// gateway; it carries them in the same methods, so there is no method
	// to look for: a pairdeck gateway is asked, any other is not).
	CapReasons Capability = "reasons"
)

// capabilityMethods are the methods each capability needs.
var capabilityMethods = map[Capability][]string{
	CapRenamePending: {protocol.MethodNodeRename},
	CapVerify:        {protocol.MethodPairVerify},
	CapBlockList:     {protocol.MethodBlockList, protocol.MethodBlockAdd, protocol.MethodBlockRemove},
	CapPairingSwitch: {protocol.MethodPairingGet, protocol.MethodPairingSet},
	CapAutoApprove:   {protocol.MethodPairAutoApprove},
	CapRemove:        {protocol.MethodPairRemove},
	CapDeviceRename:  {protocol.MethodDevicePairRename},
	CapHistory:       {protocol.MethodHistoryList},
	CapCodes:         {protocol.MethodCodesCreate, protocol.MethodCodesList, protocol.MethodCodesRevoke},
}

// ErrUnsupported matches every *UnsupportedError.
var ErrUnsupported = errors.New("not offered by this gateway")

// UnsupportedError says, in one line, that the gateway does not offer an
// action and what that means for the user. It matches ErrUnsupported.
type UnsupportedError struct {
	Method     string     // the method that is missing
	Capability Capability // "" when a plain method was called
	Gateway    string     // the gateway's own name for itself, e.g. "2026.9.6"
	Why        string     // the sentence shown to the user
}

func (e *UnsupportedError) Error() string { return e.Why }

// Unwrap matches ErrUnsupported and a *protocol.Error whose Reason is
// protocol.ReasonUnknownMethod, the refusal pairdeck's gateway gives for a
// method it does not have, so code that branches on either understands it.
func (e *UnsupportedError) Unwrap() []error {
	return []error{ErrUnsupported, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownMethod, "%s", e.Why)}
}

// unsupported builds the explanation for method (and capability).
func unsupported(gatewayVersion string, capability Capability, method string) *UnsupportedError {
	gw := "this gateway"
	if gatewayVersion != "" {
		gw = fmt.Sprintf("this gateway (version %s)", protocol.Printable(gatewayVersion))
	}
	var why string
	switch capability {
	case CapRenamePending:
		why = gw + " renames paired nodes only: rename the node once its request is approved"
	case CapVerify:
		why = gw + " has no node.pair.verify: its nodes sign in with device tokens, so there is no node token to check"
	case CapBlockList:
		why = "the block list is a pairdeck gateway feature; " + gw + " does not offer it (reject the request instead)"
	case CapPairingSwitch:
		why = "switching pairing on and off is a pairdeck gateway feature; " + gw + " does not offer it"
	case CapAutoApprove:
		why = "approving on the strength of an SSH check is a pairdeck gateway feature; " + gw + " does not offer it (approve by hand)"
	case CapRemove:
		why = gw + " does not offer node.pair.remove: it cannot unpair a node from here"
	case CapDeviceRename:
		why = gw + " does not offer device.pair.rename"
	case CapHistory:
		why = "the history of decisions is a pairdeck gateway feature; " + gw + " does not keep one that pairdeck can read"
	case CapReasons:
		why = gw + " keeps no reason with a decision (a pairdeck gateway feature): decide again without the reason"
	case CapCodes:
		why = gw + " does not support setup codes: they are a pairdeck gateway feature (an OpenClaw 2026.8+ gateway issues its own: `openclaw devices join-code`, `openclaw qr`)"
	default:
		why = fmt.Sprintf("%s does not offer %s", gw, protocol.Printable(method))
	}
	return &UnsupportedError{Method: method, Capability: capability, Gateway: gatewayVersion, Why: why}
}

// unsupportedBy is unsupported for the gateway of hello-ok h: a pairdeck
// gateway that lacks a pairdeck feature is an older release, and saying the
// feature is "a pairdeck gateway feature" would puzzle its user.
func unsupportedBy(h protocol.HelloOK, capability Capability, method string) *UnsupportedError {
	e := unsupported(h.Server.Version, capability, method)
	if isPairdeck(h.Features) && (capability == CapCodes || capability == CapReasons || capability == CapHistory) {
		gw := "this pairdeck gateway"
		if h.Server.Version != "" {
			gw += " (version " + protocol.Printable(h.Server.Version) + ")"
		}
		what := map[Capability]string{CapCodes: "setup codes", CapReasons: "reasons for decisions", CapHistory: "the history of decisions"}[capability]
		e.Why = gw + " predates " + what + ": upgrade it"
	}
	return e
}

// capabilityOf names the capability a method belongs to ("" if none).
func capabilityOf(method string) Capability {
	for c, ms := range capabilityMethods {
		if c != CapRenamePending && slices.Contains(ms, method) {
			return c
		}
	}
	return ""
}

// Model is the pairing model of the current (or last) connection.
func (c *Client) Model() PairingModel { return modelOf(c.Hello().Features) }

// Offers reports whether the gateway advertised method in hello-ok. A
// gateway that advertises no methods at all is assumed to offer everything.
func (c *Client) Offers(method string) bool {
	f := c.Hello().Features
	return len(f.Methods) == 0 || slices.Contains(f.Methods, method)
}

// Supports returns nil if the gateway offers capability, else an
// *UnsupportedError whose message explains it in one line (for a hint, a
// disabled key's help text, or a refusal).
func (c *Client) Supports(capability Capability) error {
	h := c.Hello()
	for _, m := range capabilityMethods[capability] {
		if len(h.Features.Methods) > 0 && !slices.Contains(h.Features.Methods, m) {
			return unsupportedBy(h, capability, m)
		}
	}
	if capability == CapRenamePending && !isPairdeck(h.Features) {
		return unsupported(h.Server.Version, capability, protocol.MethodNodeRename)
	}
	if capability == CapReasons && len(h.Features.Methods) > 0 && !isPairdeck(h.Features) {
		return unsupported(h.Server.Version, capability, "")
	}
	return nil
}

// GrantedScopes are the scopes the gateway granted this connection
// (hello-ok auth.scopes), which may be fewer than were asked for. pairdeck's
// gateway grants exactly the requested ones and does not repeat them; any
// other gateway that does not say gets nil (unknown: OpenClaw 2026.4 sends
// no auth to a client without a device, whose scopes it clears).
func (c *Client) GrantedScopes() []string {
	h := c.Hello()
	switch {
	case h.Auth != nil && h.Auth.Scopes != nil:
		return slices.Clone(h.Auth.Scopes)
	case isPairdeck(h.Features):
		return slices.Clone(c.cfg.Scopes)
	}
	return nil
}

// isUnknownMethod reports whether a refusal says the method does not exist
// (OpenClaw: "unknown method: <m>"; pairdeck: UNKNOWN_METHOD).
func isUnknownMethod(perr *protocol.Error) bool {
	return perr.Reason() == protocol.ReasonUnknownMethod || strings.HasPrefix(perr.Message, "unknown method:")
}
