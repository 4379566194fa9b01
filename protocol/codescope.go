package protocol

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// A setup code's scope, checked where it is created (Check) and where a
// request is matched against it (Fits). One rule, used by the store when it
// redeems a code and by anyone who wants to say in advance whether a node
// would fit.

// platformAliases maps the platform names OpenClaw's clients send (Node's
// process.platform, the apps' own names) to one name per system, so a code
// made for "macos" fits a node host that says "darwin".
var platformAliases = map[string]string{
	"darwin": "macos", "macos": "macos", "mac": "macos", "osx": "macos", "macosx": "macos",
	"win32": "windows", "windows": "windows", "win": "windows", "win64": "windows",
	"linux": "linux",
	"ios":   "ios", "ipados": "ios",
	"android": "android",
}

// CanonicalPlatform is the one name of a platform: lower case, its first
// word only ("macOS 14.2" is macos), OpenClaw's aliases folded together
// (darwin and macos, win32 and windows). Names it does not know are kept,
// lower-cased.
func CanonicalPlatform(p string) string {
	p = strings.ToLower(strings.TrimSpace(p))
	if i := strings.IndexAny(p, " \t/("); i > 0 {
		p = p[:i]
	}
	if c, ok := platformAliases[p]; ok {
		return c
	}
	return p
}

// Check validates a scope as pairdeck.codes.create takes it: a name or a
// name prefix (not both) that CleanName accepts, at most CodeMaxScopeItems
// platforms and CIDRs, each platform 1 to MaxListItemLen bytes of text,
// each CIDR a prefix ("10.0.0.0/8", "fd00::/8") or a single address. The
// error names the field.
func (s CodeScope) Check() error {
	if s.Name != "" && s.NamePrefix != "" {
		return &FieldError{"scope.name", errors.New("give a name or a name prefix, not both")}
	}
	if s.Name != "" {
		if _, err := CleanName(s.Name); err != nil {
			return &FieldError{"scope.name", err}
		}
	}
	if s.NamePrefix != "" {
		if len(s.NamePrefix) > MaxFieldLen {
			return &FieldError{"scope.namePrefix", fmt.Errorf("longer than %d bytes", MaxFieldLen)}
		}
		if err := CheckText(s.NamePrefix); err != nil {
			return &FieldError{"scope.namePrefix", err}
		}
	}
	if len(s.Platforms) > CodeMaxScopeItems {
		return &FieldError{"scope.platforms", fmt.Errorf("%d platforms, more than the %d allowed", len(s.Platforms), CodeMaxScopeItems)}
	}
	for i, p := range s.Platforms {
		field := fmt.Sprintf("scope.platforms[%d]", i)
		if strings.TrimSpace(p) == "" || len(p) > MaxListItemLen {
			return &FieldError{field, fmt.Errorf("a platform must be 1 to %d bytes", MaxListItemLen)}
		}
		if err := CheckText(p); err != nil {
			return &FieldError{field, err}
		}
	}
	if len(s.CIDRs) > CodeMaxScopeItems {
		return &FieldError{"scope.cidrs", fmt.Errorf("%d CIDRs, more than the %d allowed", len(s.CIDRs), CodeMaxScopeItems)}
	}
	for i, c := range s.CIDRs {
		if _, err := parseScopePrefix(c); err != nil {
			return &FieldError{fmt.Sprintf("scope.cidrs[%d]", i), err}
		}
	}
	return nil
}

// parseScopePrefix reads a CIDR or a single address (as /32 or /128),
// IPv4-mapped IPv6 read as IPv4.
func parseScopePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap().WithZone("")
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.Prefix{}, fmt.Errorf("%q is not a CIDR like 10.0.0.0/8 or fd00::/8, nor an address", Printable(s))
}

// Fits reports whether a node declaring meta, connecting from remoteIP
// (an address, with or without a port), is within the scope; when it is
// not, why says which condition failed, in words an operator and the node
// can act on. Conditions: the exact display name or its prefix (case
// sensitive, as names are shown), the platform (CanonicalPlatform on both
// sides), the address (in one of the CIDRs; an unknown address fits none),
// and exec-class commands (DeclaresExec) only when AllowExec.
func (s CodeScope) Fits(meta NodeMeta, remoteIP string) (ok bool, why string) {
	name := strings.TrimSpace(meta.DisplayName)
	switch {
	case s.Name != "" && name != s.Name:
		return false, fmt.Sprintf("the code is for a node named %q, and this one is named %q", s.Name, name)
	case s.NamePrefix != "" && !strings.HasPrefix(name, s.NamePrefix):
		return false, fmt.Sprintf("the code is for nodes whose name starts with %q, and this one is named %q", s.NamePrefix, name)
	}
	if len(s.Platforms) > 0 {
		have := CanonicalPlatform(meta.Platform)
		fits := false
		for _, p := range s.Platforms {
			fits = fits || (have != "" && CanonicalPlatform(p) == have)
		}
		if !fits {
			declared := meta.Platform
			if declared == "" {
				declared = "none"
			}
			return false, fmt.Sprintf("the code is for %s nodes, and this one declares platform %q", strings.Join(s.Platforms, " or "), declared)
		}
	}
	if len(s.CIDRs) > 0 {
		addr, err := parseRemoteAddr(remoteIP)
		if err != nil {
			return false, "the code is for nodes in " + strings.Join(s.CIDRs, ", ") + ", and this node's address is not known"
		}
		fits := false
		for _, c := range s.CIDRs {
			if p, err := parseScopePrefix(c); err == nil && p.Contains(addr) {
				fits = true
				break
			}
		}
		if !fits {
			return false, fmt.Sprintf("the code is for nodes in %s, and this one connects from %s", strings.Join(s.CIDRs, ", "), addr)
		}
	}
	if !s.AllowExec && DeclaresExec(meta.Commands) {
		return false, "the node declares commands that run programs (" + strings.Join(ExecCommands, ", ") + "), and the code was created without allowing exec: an operator must approve it"
	}
	return true, ""
}

// parseRemoteAddr reads "1.2.3.4", "1.2.3.4:5678", "[::1]:5678" or "::1",
// IPv4-mapped IPv6 as IPv4.
func parseRemoteAddr(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), nil
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}, err
	}
	return a.Unmap().WithZone(""), nil
}

// Check validates pairdeck.codes.create's params: a TTL from 1 ms to
// CodeMaxTTLMs (0: CodeDefaultTTLMs), 1 to CodeMaxUses uses (0: 1), the
// scope, and the note (CheckReason).
func (p CodeCreateParams) Check() error {
	if p.TTLMs < 0 || p.TTLMs > CodeMaxTTLMs {
		return &FieldError{"ttlMs", fmt.Errorf("%d is outside 1 ms to %d days", p.TTLMs, CodeMaxTTLMs/(24*60*60*1000))}
	}
	if p.MaxUses < 0 || p.MaxUses > CodeMaxUses {
		return &FieldError{"maxUses", fmt.Errorf("%d is outside 1 to %d", p.MaxUses, CodeMaxUses)}
	}
	if err := p.Scope.Check(); err != nil {
		return err
	}
	return CheckReason("note", p.Note)
}
