package protocol

import "slices"

// Operator scopes.
const (
	ScopeRead    = "operator.read"
	ScopePairing = "operator.pairing"
	ScopeWrite   = "operator.write"
	ScopeAdmin   = "operator.admin"
)

// AllOperatorScopes is what the shared operator token allows.
var AllOperatorScopes = []string{ScopeAdmin, ScopePairing, ScopeRead, ScopeWrite}

// ExecCommands are the commands that let an operator run programs on a node;
// approving a node that declares one needs operator.admin.
var ExecCommands = []string{"system.run", "system.run.prepare", "system.which"}

// DeclaresExec reports whether commands include an exec-class command.
func DeclaresExec(commands []string) bool {
	for _, c := range commands {
		if slices.Contains(ExecCommands, c) {
			return true
		}
	}
	return false
}

// RequiredApproveScopes is the approval-scope rule: exec-class commands need
// pairing+admin, any other commands pairing+write, none just pairing.
func RequiredApproveScopes(commands []string) []string {
	switch {
	case DeclaresExec(commands):
		return []string{ScopePairing, ScopeAdmin}
	case len(commands) > 0:
		return []string{ScopePairing, ScopeWrite}
	default:
		return []string{ScopePairing}
	}
}

// HasScope reports whether granted satisfies want; operator.admin satisfies
// every scope.
func HasScope(granted []string, want string) bool {
	return slices.Contains(granted, want) || slices.Contains(granted, ScopeAdmin)
}

// MissingScope returns the first scope of want that granted lacks, or "".
func MissingScope(granted, want []string) string {
	for _, w := range want {
		if !HasScope(granted, w) {
			return w
		}
	}
	return ""
}
