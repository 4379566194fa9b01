package protocol

import "strings"

// Actor is who made a change: an operator's client, a node, a rule, the
// gateway itself. The gateway works it out once per connection
// (ConnectActor); pairdeck's offline CLI and embedded console work out
// their own the same way. The audit log records it, events carry its
// String form, and every view (Activity, Blocked, history, the CLI) shows
// that same form.
type Actor struct {
	// Kind says what sort of client acted: ActorConsole, ActorCLI,
	// ActorSSH, ActorNode, ActorGateway, or another program's client id.
	// Empty in lines written before pairdeck recorded it.
	Kind       string `json:"kind,omitempty"`
	ClientID   string `json:"clientId,omitempty"`
	Role       string `json:"role,omitempty"`
	DeviceID   string `json:"deviceId,omitempty"`
	RemoteAddr string `json:"remoteAddr,omitempty"`
	// User is the person behind the client as the client states it:
	// "user@host" for pairdeck's own clients, the SSH user name for an
	// SSH console.
	User string `json:"user,omitempty"`
	// Name is the client's own name for itself (another program's
	// displayName), an SSH key's comment, or what the gateway did itself
	// ("start").
	Name string `json:"name,omitempty"`
	// KeyFingerprint is the SHA-256 fingerprint of the SSH key an operator
	// signed in with.
	KeyFingerprint string `json:"keyFingerprint,omitempty"`
	// Rule names the policy rule behind an automatic decision ("ttl": an
	// expiry).
	Rule string `json:"rule,omitempty"`
	// Code is the id of the setup code behind an approval, and CreatedBy
	// the String form of who created that code.
	Code      string `json:"code,omitempty"`
	CreatedBy string `json:"createdBy,omitempty"`
}

// Actor kinds.
const (
	ActorConsole = "console" // pairdeck's console, embedded or remote
	ActorCLI     = "cli"     // pairdeck's nodes, pairing and policy commands
	ActorSSH     = "ssh"     // pairdeck's console served over SSH
	ActorNode    = "node"    // a node, for itself
	ActorGateway = "gateway" // the gateway itself
)

// RuleTTL is the rule behind an expiry.
const RuleTTL = "ttl"

// clientNamePrefix starts the client.displayName of pairdeck's own clients.
const clientNamePrefix = "pairdeck "

// ClientName is the client.displayName pairdeck's own clients send in
// connect: "pairdeck <kind> <user>", e.g. "pairdeck console alice@laptop"
// (just "pairdeck cli" when the user is unknown). client.id stays an id
// OpenClaw gateways accept ("cli"); this name is what tells a pairdeck
// gateway which of pairdeck's clients it is and whose.
func ClientName(kind, user string) string {
	if user = strings.TrimSpace(user); user == "" {
		return clientNamePrefix + kind
	}
	return clientNamePrefix + kind + " " + user
}

// ParseClientName reads a ClientName of pairdeck's console or CLI; ok is
// false for any other name.
func ParseClientName(name string) (kind, user string, ok bool) {
	rest, found := strings.CutPrefix(name, clientNamePrefix)
	if !found {
		return "", "", false
	}
	kind, user, _ = strings.Cut(rest, " ")
	if kind != ActorConsole && kind != ActorCLI {
		return "", "", false
	}
	return kind, strings.TrimSpace(user), true
}

// ConnectActor is who a connection acts as, from what it stated in connect
// (client and role), the device id it proved (empty without one) and the
// address it came from. The gateway derives it once per connection; the
// offline CLI and the embedded console derive theirs from the ClientInfo
// they would send, so one operator is one actor either way.
func ConnectActor(c ClientInfo, role, deviceID, remoteAddr string) Actor {
	a := Actor{ClientID: c.ID, Role: role, DeviceID: strings.ToLower(deviceID), RemoteAddr: remoteAddr}
	if kind, user, ok := ParseClientName(c.DisplayName); ok && role != RoleNode {
		a.Kind, a.User = kind, user
		return a
	}
	a.Kind, a.Name = c.ID, c.DisplayName
	if role == RoleNode {
		a.Kind = ActorNode
	}
	return a
}

// GatewayActor is the gateway acting by itself (what names why: "start").
func GatewayActor(what string) Actor {
	return Actor{Kind: ActorGateway, ClientID: ActorGateway, Name: what}
}

// String is the one form every view shows:
//
//	console alice@laptop (fa35:8533:0780)   pairdeck's console, its device
//	cli alice@laptop                        pairdeck's CLI
//	ssh alice@laptop (SHA256:…)             a console over SSH: the key's comment and fingerprint
//	node (fa35:8533:0780)                   a node, for itself
//	auto (rule lab)                         an auto-approval rule or check
//	code c7k2m9qpx                          a setup code, for the operator who created it
//	gateway (expired)                       an expiry; "gateway (start)" and the like
//	openclaw-control-ui Ops (ab12:…)        another program: its client id, name and device
//
// The CLI's form has no device: an offline command has none, and the same
// person at the same terminal is one actor whether or not a gateway runs.
// Lines written before pairdeck recorded the kind read as they did then
// ("cli (operator)").
func (a Actor) String() string {
	switch {
	case a.Rule == RuleTTL:
		return "gateway (expired)"
	case a.Rule != "":
		return "auto (rule " + a.Rule + ")"
	case a.Kind == ActorCode || a.Code != "":
		// "code c7k2m9qpx" — who created it is in the audit line and the
		// code's own record.
		return join(ActorCode, a.Code)
	case a.Kind == ActorSSH || a.KeyFingerprint != "":
		// An operator signed in with an SSH key is that key: its comment
		// says whose it is, its fingerprint which it is.
		return join(ActorSSH, firstOf(a.Name, a.User), paren(a.KeyFingerprint))
	case a.Kind == ActorConsole:
		return join(a.Kind, a.User, paren(deviceFingerprint(a.DeviceID)))
	case a.Kind == ActorCLI:
		return join(a.Kind, a.User)
	case a.Kind == ActorNode:
		return join(a.Kind, paren(deviceFingerprint(a.DeviceID)))
	case a.Kind == ActorGateway:
		return join(a.Kind, paren(a.Name))
	case a.Kind != "":
		return join(a.Kind, a.Name, paren(deviceFingerprint(a.DeviceID)))
	}
	switch {
	case a.ClientID != "" && a.Role != "":
		return a.ClientID + " (" + a.Role + ")"
	case a.ClientID != "":
		return a.ClientID
	case a.Role != "":
		return a.Role
	}
	return "unknown"
}

// deviceFingerprint is a device id as every list shows it.
func deviceFingerprint(id string) string {
	if id == "" {
		return ""
	}
	return Fingerprint(id)
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// join joins the non-empty parts with spaces.
func join(parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}
