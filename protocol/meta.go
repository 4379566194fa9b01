package protocol

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// NodeMeta is what a node declares about itself (and the address it asked
// from): the fields a pending request, a paired record and a request's
// params share, in the order the files and the wire write them. Those types
// embed it, so the fields stay where they were on disk and on the wire.
type NodeMeta struct {
	DisplayName     string   `json:"displayName,omitempty"`
	Platform        string   `json:"platform,omitempty"`
	Version         string   `json:"version,omitempty"`
	CoreVersion     string   `json:"coreVersion,omitempty"`
	UIVersion       string   `json:"uiVersion,omitempty"`
	DeviceFamily    string   `json:"deviceFamily,omitempty"`
	ModelIdentifier string   `json:"modelIdentifier,omitempty"`
	Caps            []string `json:"caps,omitempty"`
	Commands        []string `json:"commands,omitempty"`
	RemoteIP        string   `json:"remoteIp,omitempty"`
}

// Limits on what a node may declare. The same limits apply to what arrives
// over the wire and to what is loaded from a file, so a record that could
// not have been sent is never accepted from disk either.
const (
	MaxNodeIDLen   = 256 // bytes
	MaxFieldLen    = 256 // bytes: platform, versions, family, model, address
	MaxListLen     = 256 // entries of caps or commands
	MaxListItemLen = 128 // bytes per entry
)

// ErrInvalidField is wrapped by every FieldError.
var ErrInvalidField = errors.New("invalid field")

// FieldError names the field a value was refused for, in its wire name
// ("platform", "commands[3]").
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap lets callers match both ErrInvalidField and the cause
// (ErrUnsafeText, ErrBadName).
func (e *FieldError) Unwrap() []error { return []error{ErrInvalidField, e.Err} }

// CheckField checks one free-text field against MaxFieldLen and CheckText.
func CheckField(field, v string) error {
	if len(v) > MaxFieldLen {
		return &FieldError{field, fmt.Errorf("longer than %d bytes", MaxFieldLen)}
	}
	if err := CheckText(v); err != nil {
		return &FieldError{field, err}
	}
	return nil
}

// CheckNodeID checks a node id: present, at most MaxNodeIDLen bytes, and
// printable as written.
func CheckNodeID(id string) error {
	switch {
	case id == "":
		return &FieldError{"nodeId", errors.New("required")}
	case len(id) > MaxNodeIDLen:
		return &FieldError{"nodeId", fmt.Errorf("longer than %d bytes", MaxNodeIDLen)}
	}
	if err := CheckText(id); err != nil {
		return &FieldError{"nodeId", err}
	}
	return nil
}

// Clean returns m with its display name trimmed and its lists copied (so the
// caller's slices are never shared), or the first field that breaks a
// limit or holds text a terminal would act on, as a *FieldError.
func (m NodeMeta) Clean() (NodeMeta, error) {
	if m.DisplayName != "" {
		name, err := CleanName(m.DisplayName)
		if err != nil {
			return m, &FieldError{"displayName", err}
		}
		m.DisplayName = name
	}
	for _, f := range [...]struct {
		name string
		v    string
	}{
		{"platform", m.Platform}, {"version", m.Version}, {"coreVersion", m.CoreVersion},
		{"uiVersion", m.UIVersion}, {"deviceFamily", m.DeviceFamily},
		{"modelIdentifier", m.ModelIdentifier}, {"remoteIp", m.RemoteIP},
	} {
		if err := CheckField(f.name, f.v); err != nil {
			return m, err
		}
	}
	for _, l := range [...]struct {
		name string
		list []string
	}{{"caps", m.Caps}, {"commands", m.Commands}} {
		if err := CheckList(l.name, l.list); err != nil {
			return m, err
		}
	}
	return m.Clone(), nil
}

// CheckList checks a list of short names (caps, commands, scopes).
func CheckList(field string, list []string) error {
	if len(list) > MaxListLen {
		return &FieldError{field, fmt.Errorf("more than %d entries", MaxListLen)}
	}
	for i, item := range list {
		name := fmt.Sprintf("%s[%d]", field, i)
		if len(item) > MaxListItemLen {
			return &FieldError{name, fmt.Errorf("longer than %d bytes", MaxListItemLen)}
		}
		if err := CheckText(item); err != nil {
			return &FieldError{name, err}
		}
	}
	return nil
}

// Clone copies m's lists, so the copy shares nothing with m.
func (m NodeMeta) Clone() NodeMeta {
	m.Caps = slices.Clone(m.Caps)
	m.Commands = slices.Clone(m.Commands)
	return m
}

// Merge takes what in supplies: its non-empty strings, and its lists where
// present (an empty list clears one).
func (m *NodeMeta) Merge(in NodeMeta) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&m.DisplayName, in.DisplayName)
	set(&m.Platform, in.Platform)
	set(&m.Version, in.Version)
	set(&m.CoreVersion, in.CoreVersion)
	set(&m.UIVersion, in.UIVersion)
	set(&m.DeviceFamily, in.DeviceFamily)
	set(&m.ModelIdentifier, in.ModelIdentifier)
	set(&m.RemoteIP, in.RemoteIP)
	if in.Caps != nil {
		m.Caps = in.Caps
	}
	if in.Commands != nil {
		m.Commands = in.Commands
	}
}

// DefaultTTL is how long a pending request waits for a decision on a
// gateway that follows the pairing spec (5 minutes from its creation or last
// refresh).
const DefaultTTL = 5 * time.Minute

// ExpiresAt is when the gateway will drop r if nobody decides it, and false
// when the gateway gives no expiry (then show how long it has waited, not a
// made-up deadline). Gateways and clients fill ExpiresAtMs only where the
// gateway's own rule is known.
func (r PendingRequest) ExpiresAt() (time.Time, bool) {
	if r.ExpiresAtMs <= 0 {
		return time.Time{}, false
	}
	return time.UnixMilli(r.ExpiresAtMs), true
}
