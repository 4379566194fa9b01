package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/pairdeck/pairdeck/protocol"
)

// Version is the policy.json format this package reads and writes.
const Version = 1

// Reserved rule names: the actors of decisions no policy rule made.
const (
	// RuleTTL is the store's actor for expiries.
	RuleTTL = "ttl"
	// RuleSSHCheck is the console's SSH-verified approval.
	RuleSSHCheck = "ssh-check"
)

// Policy is the content of policy.json.
type Policy struct {
	Version     int         `json:"version"`
	AutoApprove AutoApprove `json:"autoApprove"`
}

// AutoApprove is the switch and the rules of automatic approval.
type AutoApprove struct {
	Enabled bool   `json:"enabled"`
	Rules   []Rule `json:"rules"`
}

// Rule approves silent requests that meet all of its conditions. Empty
// conditions are not checked; at least one must be set.
type Rule struct {
	Name      string   `json:"name"`
	Loopback  bool     `json:"loopback,omitempty"`
	CIDRs     []string `json:"cidrs,omitempty"`
	NodeIDs   []string `json:"nodeIds,omitempty"`
	Platforms []string `json:"platforms,omitempty"`
	// AllowExec lets the rule approve a request that declares exec-class
	// commands (system.run, …); without it such requests wait for a human.
	AllowExec bool `json:"allowExec,omitempty"`
}

// Default is the policy of a state dir without policy.json: auto-approval
// off, no rules.
func Default() Policy {
	return Policy{Version: Version, AutoApprove: AutoApprove{Rules: []Rule{}}}
}

// ErrInvalid marks a policy or rule that breaks the rules above.
var ErrInvalid = errors.New("invalid policy")

// Request is what matching looks at: a node's own pairing request.
type Request struct {
	NodeID   string
	RemoteIP string // the node's socket address, set by the gateway
	Platform string
	Commands []string
	Silent   bool
}

// Match returns the first rule that approves r, if auto-approval is on.
func (p Policy) Match(r Request) (Rule, bool) {
	if !p.AutoApprove.Enabled || !r.Silent {
		return Rule{}, false
	}
	for _, rule := range p.AutoApprove.Rules {
		if rule.Matches(r) {
			return rule, true
		}
	}
	return Rule{}, false
}

// Matches reports whether every condition of the rule holds for r and the
// exec guard lets it through. Silence and the policy switch are Match's
// business.
func (rule Rule) Matches(r Request) bool {
	if !rule.hasCondition() {
		return false // never, even if such a rule slipped past Validate
	}
	if protocol.DeclaresExec(r.Commands) && !rule.AllowExec {
		return false
	}
	addr, addrErr := netip.ParseAddr(strings.TrimSpace(r.RemoteIP))
	addr = addr.Unmap()
	if rule.Loopback && (addrErr != nil || !addr.IsLoopback()) {
		return false
	}
	if len(rule.CIDRs) > 0 {
		if addrErr != nil {
			return false
		}
		in := false
		for _, c := range rule.CIDRs {
			if p, err := parsePrefix(c); err == nil && p.Contains(addr) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	if len(rule.NodeIDs) > 0 && !slices.Contains(rule.NodeIDs, strings.ToLower(strings.TrimSpace(r.NodeID))) {
		return false
	}
	if len(rule.Platforms) > 0 && !slices.Contains(rule.Platforms, normalize(r.Platform)) {
		return false
	}
	return true
}

func (rule Rule) hasCondition() bool {
	return rule.Loopback || len(rule.CIDRs) > 0 || len(rule.NodeIDs) > 0 || len(rule.Platforms) > 0
}

// Conditions describes the rule's conditions in words, for listings.
func (rule Rule) Conditions() string {
	var parts []string
	if rule.Loopback {
		parts = append(parts, "loopback")
	}
	if len(rule.CIDRs) > 0 {
		parts = append(parts, "cidr "+strings.Join(rule.CIDRs, ","))
	}
	if len(rule.NodeIDs) > 0 {
		ids := make([]string, len(rule.NodeIDs))
		for i, id := range rule.NodeIDs {
			ids[i] = protocol.Fingerprint(id)
		}
		parts = append(parts, "node "+strings.Join(ids, ","))
	}
	if len(rule.Platforms) > 0 {
		parts = append(parts, "platform "+strings.Join(rule.Platforms, ","))
	}
	return strings.Join(parts, " and ")
}

// Normalize checks a rule and returns it in canonical form: CIDRs masked
// (a bare address becomes a one-address prefix), node ids and platforms
// trimmed and lower-cased, duplicates dropped.
func (rule Rule) Normalize() (Rule, error) {
	rule.Name = strings.TrimSpace(rule.Name)
	if err := checkName(rule.Name); err != nil {
		return rule, err
	}
	bad := func(format string, args ...any) (Rule, error) {
		return rule, fmt.Errorf("%w: rule %q: %s", ErrInvalid, rule.Name, fmt.Sprintf(format, args...))
	}
	var cidrs []string
	for _, c := range rule.CIDRs {
		p, err := parsePrefix(c)
		if err != nil {
			return bad("cidr %q is not an address or prefix like 10.0.0.0/8 or fd00::/8", c)
		}
		cidrs = appendNew(cidrs, p.String())
	}
	var ids []string
	for _, id := range rule.NodeIDs {
		id = strings.ToLower(strings.TrimSpace(id))
		if id == "" || strings.ContainsAny(id, " \t\r\n,") {
			return bad("node id %q must be a whole node id, without spaces or commas", id)
		}
		ids = appendNew(ids, id)
	}
	var platforms []string
	for _, p := range rule.Platforms {
		p = normalize(p)
		if p == "" {
			return bad("an empty platform matches nothing; name one, like ios or linux")
		}
		platforms = appendNew(platforms, p)
	}
	rule.CIDRs, rule.NodeIDs, rule.Platforms = cidrs, ids, platforms
	if !rule.hasCondition() {
		return bad("it has no condition and would approve every silent request; " +
			"give it at least one of loopback, cidrs, nodeIds or platforms")
	}
	return rule, nil
}

// checkName allows names that read well in "auto (rule NAME)" and in a
// shell: letters, digits, '.', '_' and '-', up to 64 characters.
func checkName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("%w: a rule name must be 1 to 64 characters", ErrInvalid)
	}
	for _, r := range name {
		ok := r == '.' || r == '_' || r == '-' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		if !ok {
			return fmt.Errorf("%w: rule name %q: use letters, digits, '.', '_' and '-' only", ErrInvalid, name)
		}
	}
	if n := strings.ToLower(name); n == RuleTTL || n == RuleSSHCheck {
		return fmt.Errorf("%w: rule name %q is reserved (it names decisions no rule made); pick another", ErrInvalid, name)
	}
	return nil
}

// Validate checks the whole policy and puts every rule in canonical form.
// Rule names must be unique (case ignored).
func (p Policy) Validate() (Policy, error) {
	if p.Version != Version {
		return p, fmt.Errorf("%w: version %d is not one this pairdeck reads (want %d)", ErrInvalid, p.Version, Version)
	}
	rules := make([]Rule, 0, len(p.AutoApprove.Rules))
	seen := map[string]bool{}
	for i, r := range p.AutoApprove.Rules {
		nr, err := r.Normalize()
		if err != nil {
			return p, &RuleError{Index: i, Err: err}
		}
		key := strings.ToLower(nr.Name)
		if seen[key] {
			return p, &RuleError{Index: i, Err: fmt.Errorf("%w: two rules are named %q; names must be unique", ErrInvalid, nr.Name)}
		}
		seen[key] = true
		rules = append(rules, nr)
	}
	p.AutoApprove.Rules = rules
	return p, nil
}

// RuleError is a Validate failure in the rule at Index.
type RuleError struct {
	Index int
	Err   error
}

func (e *RuleError) Error() string { return e.Err.Error() }
func (e *RuleError) Unwrap() error { return e.Err }

// Rule returns the rule named name (case ignored).
func (p Policy) Rule(name string) (Rule, bool) {
	for _, r := range p.AutoApprove.Rules {
		if strings.EqualFold(r.Name, name) {
			return r, true
		}
	}
	return Rule{}, false
}

// AddRule appends a new rule, or replaces the rule of the same name in
// place (replaced reports which).
func (p *Policy) AddRule(rule Rule) (replaced bool, err error) {
	rule, err = rule.Normalize()
	if err != nil {
		return false, err
	}
	for i, r := range p.AutoApprove.Rules {
		if strings.EqualFold(r.Name, rule.Name) {
			p.AutoApprove.Rules[i] = rule
			return true, nil
		}
	}
	p.AutoApprove.Rules = append(p.AutoApprove.Rules, rule)
	return false, nil
}

// ErrNoRule is RemoveRule's answer for a name no rule has.
var ErrNoRule = errors.New("no such rule")

// RemoveRule deletes the rule named name (case ignored).
func (p *Policy) RemoveRule(name string) error {
	for i, r := range p.AutoApprove.Rules {
		if strings.EqualFold(r.Name, name) {
			p.AutoApprove.Rules = slices.Delete(p.AutoApprove.Rules, i, i+1)
			return nil
		}
	}
	return fmt.Errorf("%w named %q", ErrNoRule, name)
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Is4In6() {
		p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
	}
	return p.Masked(), nil
}

func normalize(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
