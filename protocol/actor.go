package protocol

// Actor is who made a change: an operator's client, a node, a rule, the
// gateway itself. The gateway works it out once per connection; the audit
// log records it, events carry its String form, and every view (Activity,
// Blocked, history, the CLI) shows that same form.
type Actor struct {
	// Kind says what sort of client acted: "console", "cli", "ssh",
	// "node", "gateway", or another program's client id.
	Kind       string `json:"kind,omitempty"`
	ClientID   string `json:"clientId,omitempty"`
	Role       string `json:"role,omitempty"`
	DeviceID   string `json:"deviceId,omitempty"`
	RemoteAddr string `json:"remoteAddr,omitempty"`
	User       string `json:"user,omitempty"` // local OS user, as the client states it
	// Name is the client's own name for itself (its displayName), or an SSH
	// key's comment.
	Name string `json:"name,omitempty"`
	// KeyFingerprint is the SHA-256 fingerprint of the SSH key an operator
	// signed in with.
	KeyFingerprint string `json:"keyFingerprint,omitempty"`
	// Rule names the policy rule behind an automatic decision.
	Rule string `json:"rule,omitempty"`
}

// String is the short form shown in activity views: "cli (operator)".
func (a Actor) String() string {
	switch {
	case a.Rule != "":
		return "auto (rule " + a.Rule + ")"
	case a.KeyFingerprint != "":
		// An operator signed in with an SSH key is that key: its comment
		// says whose it is, its fingerprint which it is.
		if a.Name != "" {
			return a.Name + " (ssh " + a.KeyFingerprint + ")"
		}
		return "ssh " + a.KeyFingerprint
	case a.ClientID != "" && a.Role != "":
		return a.ClientID + " (" + a.Role + ")"
	case a.ClientID != "":
		return a.ClientID
	case a.Role != "":
		return a.Role
	default:
		return "unknown"
	}
}
