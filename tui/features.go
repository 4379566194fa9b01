package tui

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Feature is an action of the console that only some gateways offer.
// pairdeck's gateway offers them all; OpenClaw's lack some (see
// docs/interop.md), and the console then neither shows their keys, nor
// lists them in the help, nor offers the Blocked view — and a key pressed
// anyway says in one line why nothing happens.
type Feature int

const (
	// FeatureRenamePending renames a node that only has a pending request
	// (OpenClaw renames paired nodes only).
	FeatureRenamePending Feature = iota
	// FeatureRemove unpairs a paired node (node.pair.remove).
	FeatureRemove
	// FeatureBlockList is the block list: b, u and the Blocked view.
	FeatureBlockList
	// FeaturePairingSwitch switches pairing on and off (P).
	FeaturePairingSwitch
	// FeatureAutoApprove approves a silent request on the strength of a
	// check (Options.SilentCheck).
	FeatureAutoApprove
	// FeatureReasons keeps the operator's reason with a rejection or a
	// block: the console asks for one (ReasonBackend).
	FeatureReasons
	// FeatureCodes is setup codes: the Codes view (CodesBackend).
	FeatureCodes
	featureCount
)

// pairdeckFeatures are the features that tell pairdeck's gateway from
// others (features.all); those after them also need a backend that has
// caught up with them.
const pairdeckFeatures = FeatureAutoApprove + 1

// FeatureBackend is a Backend that says which Features its gateway
// offers. Offered is nil for a feature it offers, else an error whose
// message says in one line that it does not and what to do instead. A
// Backend that does not implement it offers everything (pairdeck's
// in-process gateway). The answer may change when the backend reconnects
// (to a gateway that moved): the console asks again then.
type FeatureBackend interface {
	Backend
	Offered(f Feature) error
}

// features is what the console knows the gateway offers: for each
// feature, nil or why not.
type features struct {
	not [featureCount]error
}

// The reasons a feature is missing where the backend has no way to it.
var (
	errNoReasons = errors.New("this gateway keeps no reason with a decision")
	errNoCodes   = errors.New("this gateway does not offer setup codes (a pairdeck gateway feature)")
)

// featuresOf asks b; a backend that cannot say offers everything it has
// the methods for.
func featuresOf(b Backend) features {
	var fs features
	if _, ok := b.(ReasonBackend); !ok {
		fs.not[FeatureReasons] = errNoReasons
	}
	if _, ok := b.(CodesBackend); !ok {
		fs.not[FeatureCodes] = errNoCodes
	}
	fb, ok := b.(FeatureBackend)
	if !ok {
		return fs
	}
	for f := range featureCount {
		if fs.not[f] == nil {
			fs.not[f] = fb.Offered(f)
		}
	}
	return fs
}

// offers reports whether the gateway offers f.
func (fs features) offers(f Feature) bool { return fs.not[f] == nil }

// all reports whether the gateway offers every feature OpenClaw's lack:
// it is pairdeck's.
func (fs features) all() bool {
	for _, err := range fs.not[:pairdeckFeatures] {
		if err != nil {
			return false
		}
	}
	return true
}

// why says, as a sentence, why a key for f does nothing here.
func (fs features) why(f Feature) string {
	if fs.not[f] == nil {
		return ""
	}
	return sentence(errText(fs.not[f]))
}

// sentence makes a one-line reason read as a message: a capital first,
// a full stop last.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
