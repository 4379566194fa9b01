package protocol

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Setup codes: an operator approves ahead of time. A code is a secret a node
// presents with its pair request (node.pair.request's "code", or an OpenClaw
// node host's connect auth.bootstrapToken); a node whose request fits the
// code's scope is approved by the store in the same commit that counts the
// use, with the code as the actor. A code that does not fit, has expired, is
// used up or revoked approves nothing: the request waits in the queue like
// any other, and the node is told why.
//
// The gateway keeps only a code's SHA-256; the secret is shown once, in
// pairdeck.codes.create's result. Lists show the code's id and the first
// CodePrefixLen characters of the secret, enough to recognise a code
// written down, far too few to use it.

// Methods.
const (
	// MethodCodesCreate creates a code (operator.pairing; operator.admin
	// too for a code that allows exec-class commands, as approving such a
	// node would need). Params CodeCreateParams, result CodeCreateResult.
	MethodCodesCreate = "pairdeck.codes.create"
	// MethodCodesList lists codes, never their secrets (operator.pairing).
	// Params CodeListParams, result CodeListResult.
	MethodCodesList = "pairdeck.codes.list"
	// MethodCodesRevoke revokes a code (operator.pairing). Params
	// CodeRevokeParams, result CodeRevokeResult.
	MethodCodesRevoke = "pairdeck.codes.revoke"
)

// Events, to operators with operator.pairing.
const (
	// EventCodeCreated: a code was created (payload CodeEvent).
	EventCodeCreated = "pairdeck.code.created"
	// EventCodeRevoked: a code was revoked (payload CodeEvent).
	EventCodeRevoked = "pairdeck.code.revoked"
	// EventCodeUsed: a code approved a node; its use count changed
	// (payload CodeEvent with NodeID and RequestID).
	EventCodeUsed = "pairdeck.code.used"
)

// Reasons a code approved nothing (CodeRefusal.Reason, and an error's
// details.code when a request with a code could not even be queued).
const (
	ReasonCodeInvalid    = "CODE_INVALID"      // no such code (rate-limited per address)
	ReasonCodeExpired    = "CODE_EXPIRED"      // past its expiry
	ReasonCodeUsedUp     = "CODE_USED_UP"      // every use taken
	ReasonCodeRevoked    = "CODE_REVOKED"      // an operator revoked it
	ReasonCodeOutOfScope = "CODE_OUT_OF_SCOPE" // the request does not fit the code's scope
)

// Code states, derived from a code and the time (SetupCode.State).
const (
	CodeActive  = "active"
	CodeExpired = "expired"
	CodeUsedUp  = "used-up"
	CodeRevoked = "revoked"
)

// Limits and defaults.
const (
	// CodeDefaultTTL and CodeMaxTTL bound how long a code lives (ms).
	CodeDefaultTTLMs = 10 * 60 * 1000
	CodeMaxTTLMs     = 30 * 24 * 60 * 60 * 1000
	// CodeMaxUses bounds one code's uses.
	CodeMaxUses = 1000
	// CodeMaxActive bounds the codes a gateway keeps that can still be
	// used (creating more is refused: revoke some).
	CodeMaxActive = 1000
	// CodeMaxScopeItems bounds the platforms and CIDRs of one scope.
	CodeMaxScopeItems = 32
	// CodePrefixLen is how many characters of a secret lists show.
	CodePrefixLen = 4
	// MaxReasonLen bounds a decision's or a code's note, in bytes.
	MaxReasonLen = 512
)

// CodeScope is what a node's request must fit for a code to approve it.
// Empty fields do not restrict.
type CodeScope struct {
	// Name is the exact display name the node must ask with; NamePrefix a
	// prefix it must start with. At most one of the two.
	Name       string `json:"name,omitempty"`
	NamePrefix string `json:"namePrefix,omitempty"`
	// Platforms the node's declared platform must be one of (compared
	// case-insensitively).
	Platforms []string `json:"platforms,omitempty"`
	// CIDRs the node's address must be in.
	CIDRs []string `json:"cidrs,omitempty"`
	// AllowExec lets the code approve a node that declares exec-class
	// commands (system.run and the like). Without it such a request is
	// out of scope and waits for a person.
	AllowExec bool `json:"allowExec,omitempty"`
}

// SetupCode is a code as lists show it: never the secret.
type SetupCode struct {
	ID string `json:"id"`
	// Prefix is the first CodePrefixLen characters of the secret.
	Prefix      string    `json:"prefix"`
	Scope       CodeScope `json:"scope"`
	Note        string    `json:"note,omitempty"`
	CreatedAtMs int64     `json:"createdAtMs"`
	// CreatedBy is the creator's Actor in its one String form.
	CreatedBy   string `json:"createdBy"`
	ExpiresAtMs int64  `json:"expiresAtMs"`
	MaxUses     int    `json:"maxUses"`
	Uses        int    `json:"uses"`
	// UsedBy lists the node ids the code approved, oldest first.
	UsedBy       []string `json:"usedBy,omitempty"`
	LastUsedAtMs int64    `json:"lastUsedAtMs,omitempty"`
	RevokedAtMs  int64    `json:"revokedAtMs,omitempty"`
	RevokedBy    string   `json:"revokedBy,omitempty"`
}

// State is the code's state at nowMs: revoked, used up, expired or active
// (in that order of precedence).
func (c SetupCode) State(nowMs int64) string {
	switch {
	case c.RevokedAtMs != 0:
		return CodeRevoked
	case c.Uses >= c.MaxUses:
		return CodeUsedUp
	case nowMs >= c.ExpiresAtMs:
		return CodeExpired
	}
	return CodeActive
}

// CodeCreateParams are pairdeck.codes.create's params.
type CodeCreateParams struct {
	// TTLMs is how long the code can be used (CodeDefaultTTLMs when 0).
	TTLMs int64 `json:"ttlMs,omitempty"`
	// MaxUses is how many nodes it may approve (1 when 0).
	MaxUses int       `json:"maxUses,omitempty"`
	Scope   CodeScope `json:"scope"`
	Note    string    `json:"note,omitempty"`
}

// CodeCreateResult is pairdeck.codes.create's result: the only place the
// secret is ever shown. SetupLink is an oc-pair:// link (SetupLink) when the
// gateway knows a URL nodes can reach, else empty.
type CodeCreateResult struct {
	Code      SetupCode `json:"code"`
	Secret    string    `json:"secret"`
	SetupLink string    `json:"setupLink,omitempty"`
}

// CodeListParams are pairdeck.codes.list's params. All false lists the
// codes that can still be used.
type CodeListParams struct {
	// All lists used-up, expired and revoked codes too (the gateway keeps
	// them for a while so lists can say what became of them).
	All bool `json:"all,omitempty"`
}

// CodeListResult is pairdeck.codes.list's result, newest first.
type CodeListResult struct {
	Codes []SetupCode `json:"codes"`
}

// CodeRevokeParams are pairdeck.codes.revoke's params: a code id (or a
// unique prefix of one, resolved by the client).
type CodeRevokeParams struct {
	ID     string `json:"id"`
	Reason string `json:"reason,omitempty"`
}

// CodeRevokeResult is pairdeck.codes.revoke's result: the code as it is now.
// Revoked is false when it already was.
type CodeRevokeResult struct {
	Code    SetupCode `json:"code"`
	Revoked bool      `json:"revoked"`
}

// CodeEvent is the payload of the code events.
type CodeEvent struct {
	Code      SetupCode `json:"code"`
	NodeID    string    `json:"nodeId,omitempty"`
	RequestID string    `json:"requestId,omitempty"`
	TS        int64     `json:"ts"`
	Actor     string    `json:"actor,omitempty"`
}

// CodeRefusal says why a code a request carried approved nothing; the
// request is queued for a person all the same (PairRequestResult.Code).
type CodeRefusal struct {
	Reason  string `json:"reason"`  // a ReasonCode* value
	Message string `json:"message"` // for people: what to do
}

// ActorCode is the actor kind of a decision a setup code made.
const ActorCode = "code"

// CodeActor is the actor of an approval made by code id, created by
// createdBy (the creator's String form).
func CodeActor(id, createdBy string) Actor {
	return Actor{Kind: ActorCode, Code: id, CreatedBy: createdBy}
}

// codeAlphabet is Crockford's base32: no I, L, O or U, so a code read
// aloud or typed from a screen survives.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewCodeSecret returns a fresh secret: 20 random base32 characters (100
// bits) in groups of four, "K7QM-2XHF-9RTW-C4PA-M3DE".
func NewCodeSecret() (string, error) {
	var raw [20]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("reading random bytes for a setup code: %w", err)
	}
	var b strings.Builder
	for i, r := range raw {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(codeAlphabet[r&31])
	}
	return b.String(), nil
}

// NewCodeID returns a fresh public id for a code: "c" and 8 base32
// characters (lower case), unrelated to the secret.
func NewCodeID() (string, error) {
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("reading random bytes for a code id: %w", err)
	}
	b := []byte{'c'}
	for _, r := range raw {
		b = append(b, strings.ToLower(codeAlphabet[r&31:r&31+1])...)
	}
	return string(b), nil
}

// ErrCodeSyntax is returned by NormalizeCode for text that cannot be a code.
var ErrCodeSyntax = errors.New("not a pairdeck setup code: expected 20 letters and digits like K7QM-2XHF-9RTW-C4PA-M3DE")

// NormalizeCode turns what a person typed into the canonical form
// NewCodeSecret produces: case, spaces and dashes are forgiven, and the
// look-alikes O→0, I and L→1 are read as Crockford's base32 reads them.
// The store hashes the canonical form.
func NormalizeCode(s string) (string, error) {
	if len(s) > 64 || !utf8.ValidString(s) {
		return "", ErrCodeSyntax
	}
	var raw []byte
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if r > 127 || !strings.ContainsRune(codeAlphabet, r) {
			return "", ErrCodeSyntax
		}
		raw = append(raw, byte(r))
	}
	if len(raw) != 20 {
		return "", ErrCodeSyntax
	}
	var b strings.Builder
	for i, c := range raw {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// CodePrefix is the part of a canonical secret lists show.
func CodePrefix(secret string) string {
	if len(secret) < CodePrefixLen {
		return secret
	}
	return secret[:CodePrefixLen]
}

// CheckReason checks a decision's reason or a code's note: at most
// MaxReasonLen bytes of text CheckText accepts.
func CheckReason(field, s string) error {
	if len(s) > MaxReasonLen {
		return &FieldError{Field: field, Err: fmt.Errorf("longer than %d bytes", MaxReasonLen)}
	}
	if err := CheckText(s); err != nil {
		return &FieldError{Field: field, Err: err}
	}
	return nil
}

// SetupLinkScheme starts a setup link. It is OpenClaw's (2026.8+), so one
// link serves `pairdeck node pair --code` and `openclaw node run --pair`.
const SetupLinkScheme = "oc-pair://"

// SetupPayload is what a setup link carries: where the gateway is and the
// code. OpenClaw's node host reads exactly these keys.
type SetupPayload struct {
	URL            string `json:"url"`
	BootstrapToken string `json:"bootstrapToken"`
	ExpiresAtMs    int64  `json:"expiresAtMs,omitempty"`
}

// ErrSetupLink is wrapped by ParseSetupLink's errors.
var ErrSetupLink = errors.New("not a setup link")

// EncodeSetupLink writes p as "oc-pair://" and the unpadded base64url of
// its JSON. The URL must already be in the one form OpenClaw's node host
// accepts (NormalizeSetupURL), else the host would refuse the link.
func EncodeSetupLink(p SetupPayload) (string, error) {
	norm, err := NormalizeSetupURL(p.URL)
	if err != nil {
		return "", err
	}
	if norm != p.URL {
		return "", fmt.Errorf("setup link URL %q must be written %q", p.URL, norm)
	}
	if strings.TrimSpace(p.BootstrapToken) == "" {
		return "", fmt.Errorf("setup link without a code")
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	return SetupLinkScheme + base64.RawURLEncoding.EncodeToString(raw), nil
}

// ParseSetupLink reads a setup link (or its bare base64url part), with the
// rules of OpenClaw's decoder: the scheme in any case, surrounding space
// ignored, no padding, no query, a URL in its normalised form, a code.
func ParseSetupLink(s string) (SetupPayload, error) {
	s = strings.TrimSpace(s)
	if len(s) > 4096 {
		return SetupPayload{}, fmt.Errorf("%w: longer than 4096 characters", ErrSetupLink)
	}
	if len(s) >= len(SetupLinkScheme) && strings.EqualFold(s[:len(SetupLinkScheme)], SetupLinkScheme) {
		s = s[len(SetupLinkScheme):]
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return SetupPayload{}, fmt.Errorf("%w: expected oc-pair:// and base64url text", ErrSetupLink)
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) == 0 {
		return SetupPayload{}, fmt.Errorf("%w: expected oc-pair:// and base64url text", ErrSetupLink)
	}
	var p SetupPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return SetupPayload{}, fmt.Errorf("%w: its payload is not the JSON object a setup link holds", ErrSetupLink)
	}
	p.BootstrapToken = strings.TrimSpace(p.BootstrapToken)
	if p.URL == "" || p.BootstrapToken == "" {
		return SetupPayload{}, fmt.Errorf("%w: it names no gateway URL or no code", ErrSetupLink)
	}
	if norm, err := NormalizeSetupURL(p.URL); err != nil || norm != p.URL {
		return SetupPayload{}, fmt.Errorf("%w: its gateway URL %q is not a ws:// or wss:// URL in normal form", ErrSetupLink, Printable(p.URL))
	}
	if p.ExpiresAtMs < 0 {
		return SetupPayload{}, fmt.Errorf("%w: negative expiry", ErrSetupLink)
	}
	return p, nil
}

// NormalizeSetupURL writes a gateway URL the one way OpenClaw's node host
// accepts in a setup link: ws or wss, lower-case host, no user, query or
// fragment, the scheme's default port left out, no "/" at the root.
func NormalizeSetupURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("gateway URL %q: %v", Printable(s), err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return "", fmt.Errorf("gateway URL %q: a setup link needs ws:// or wss://", Printable(s))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Host == "" {
		return "", fmt.Errorf("gateway URL %q: a setup link's URL has a host and no user, query or fragment", Printable(s))
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (u.Scheme == "ws" && port == "80") || (u.Scheme == "wss" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	out := u.Scheme + "://" + host
	if port != "" {
		out += ":" + port
	}
	if p := strings.TrimRight(u.EscapedPath(), "/"); p != "" {
		out += p
	}
	return out, nil
}
