package cli

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/pairdeck/pairdeck/protocol"
)

// One resolver names what a command acts on, for --node and for the
// request argument of approve and reject alike: an exact id, an exact IP,
// a display name (case and spacing ignored), then a prefix — an id prefix
// of at least 6 characters, or the fingerprint (fa35:8533:0780) every list
// shows. The first tier that matches decides; more than one match there is
// an error that lists the candidates.

// nodeCandidate is a node a query may mean.
type nodeCandidate struct {
	id, name, ip string
	paired       bool
	// requestID is the node's pending request, if it has one.
	requestID string
}

// label is how a candidate is named in messages: "Living Room iPad
// (fa35:8533:0780)".
func (c nodeCandidate) label() string {
	if c.name != "" {
		return fmt.Sprintf("%s (%s)", c.name, protocol.Fingerprint(c.id))
	}
	return protocol.Fingerprint(c.id)
}

// resolveNode turns a --node query into a node id.
func resolveNode(ctx context.Context, op operator, query string) (string, error) {
	c, err := resolveCandidate(ctx, op, query)
	return c.id, err
}

func resolveCandidate(ctx context.Context, op operator, query string) (nodeCandidate, error) {
	cands, err := nodeCandidates(ctx, op)
	if err != nil {
		return nodeCandidate{}, err
	}
	return pickNode(cands, query)
}

func nodeCandidates(ctx context.Context, op operator) ([]nodeCandidate, error) {
	nodes, err := op.Nodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up nodes: %w", err)
	}
	list, err := op.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up nodes: %w", err)
	}
	return mergeCandidates(nodes.Nodes, list), nil
}

// mergeCandidates gathers every node the gateway knows of, once each.
func mergeCandidates(infos []protocol.NodeInfo, list protocol.PairListResult) []nodeCandidate {
	seen := map[string]*nodeCandidate{}
	var order []string
	add := func(id, name, ip string) *nodeCandidate {
		c, ok := seen[id]
		if !ok {
			c = &nodeCandidate{id: id}
			seen[id] = c
			order = append(order, id)
		}
		if c.name == "" {
			c.name = name
		}
		if c.ip == "" {
			c.ip = ip
		}
		return c
	}
	for _, n := range infos {
		add(n.NodeID, n.DisplayName, n.RemoteIP).paired = n.Paired
	}
	for _, r := range list.Pending {
		add(r.NodeID, r.DisplayName, r.RemoteIP).requestID = r.RequestID
	}
	for _, p := range list.Paired {
		add(p.NodeID, p.DisplayName, p.RemoteIP).paired = true
	}
	out := make([]nodeCandidate, 0, len(order))
	for _, id := range order {
		out = append(out, *seen[id])
	}
	return out
}

// fingerprintRE is the short form of a node id every list shows.
var fingerprintRE = regexp.MustCompile(`^[0-9a-fA-F]{4}(:[0-9a-fA-F]{4}){1,2}$`)

// minIDPrefix is the shortest node id prefix taken: shorter ones match
// by accident too often.
const minIDPrefix = 6

// nodePrefix is the id prefix a query stands for: itself, or a
// fingerprint without its colons.
func nodePrefix(q string) (string, bool) {
	if fingerprintRE.MatchString(q) {
		return strings.ToLower(strings.ReplaceAll(q, ":", "")), true
	}
	return strings.ToLower(q), len(q) >= minIDPrefix
}

func pickNode(cands []nodeCandidate, query string) (nodeCandidate, error) {
	q := strings.TrimSpace(query)
	prefix, prefixOK := nodePrefix(q)
	tiers := []struct {
		what  string
		match func(c nodeCandidate) bool
	}{
		{"id", func(c nodeCandidate) bool { return c.id == q }},
		{"IP", func(c nodeCandidate) bool { return c.ip != "" && c.ip == q }},
		{"name", func(c nodeCandidate) bool { return c.name != "" && normaliseName(c.name) == normaliseName(q) }},
		{"id prefix", func(c nodeCandidate) bool {
			return prefixOK && strings.HasPrefix(strings.ToLower(c.id), prefix)
		}},
	}
	for _, tier := range tiers {
		var hits []nodeCandidate
		for _, c := range cands {
			if tier.match(c) {
				hits = append(hits, c)
			}
		}
		switch len(hits) {
		case 0:
			continue
		case 1:
			return hits[0], nil
		default:
			return nodeCandidate{}, ambiguous(query, tier.what, hits)
		}
	}
	hint := ""
	if !prefixOK {
		hint = fmt.Sprintf(" (an id prefix needs at least %d characters)", minIDPrefix)
	}
	return nodeCandidate{}, fmt.Errorf("no node matches %q by id, IP, name, fingerprint or id prefix%s: see `pairdeck nodes status`", query, hint)
}

func ambiguous(query, what string, hits []nodeCandidate) error {
	sort.Slice(hits, func(i, j int) bool { return hits[i].id < hits[j].id })
	lines := make([]string, len(hits))
	for i, h := range hits {
		lines[i] = fmt.Sprintf("%s  %s  %s", h.id, orDash(h.name), orDash(h.ip))
	}
	return withDetails(fmt.Errorf("%q matches %d nodes by %s; use an exact id", query, len(hits), what), lines...)
}

// minRequestPrefix is the shortest request id prefix taken; the tables
// show 8.
const minRequestPrefix = 4

// resolveRequest turns the argument of approve or reject into a pending
// request id: a request id or a unique prefix of one (≥4 characters), or
// anything --node takes for a node with a pending request. A full request
// id that is no longer pending is passed on as it is, so the gateway can
// say what became of it (approved, rejected, expired).
func resolveRequest(ctx context.Context, op operator, query string) (string, error) {
	q := strings.TrimSpace(query)
	list, err := op.List(ctx)
	if err != nil {
		return "", fmt.Errorf("look up pending requests: %w", err)
	}
	for _, r := range list.Pending {
		if r.RequestID == q {
			return q, nil
		}
	}
	if uuidRE.MatchString(q) {
		return q, nil
	}
	// A request id prefix, and the node tiers, among pending requests.
	var byPrefix []protocol.PendingRequest
	if len(q) >= minRequestPrefix {
		for _, r := range list.Pending {
			if strings.HasPrefix(strings.ToLower(r.RequestID), strings.ToLower(q)) {
				byPrefix = append(byPrefix, r)
			}
		}
	}
	nodes, err := op.Nodes(ctx)
	if err != nil {
		return "", fmt.Errorf("look up nodes: %w", err)
	}
	cands := mergeCandidates(nodes.Nodes, list)
	var pendingCands []nodeCandidate
	for _, c := range cands {
		if c.requestID != "" {
			pendingCands = append(pendingCands, c)
		}
	}
	node, nodeErr := pickNode(pendingCands, q)
	switch {
	case len(byPrefix) == 1 && (nodeErr != nil || node.requestID == byPrefix[0].RequestID):
		return byPrefix[0].RequestID, nil
	case len(byPrefix) > 1:
		return "", ambiguousRequests(query, byPrefix)
	case nodeErr == nil && len(byPrefix) == 1:
		// A request id prefix and a node of another request: both are
		// plausible readings.
		return "", ambiguousRequests(query, []protocol.PendingRequest{byPrefix[0], pendingOf(list, node.requestID)})
	case nodeErr == nil:
		return node.requestID, nil
	}
	var amb *detailedError
	if errors.As(nodeErr, &amb) {
		return "", nodeErr // ambiguous among the nodes with a pending request
	}
	// Not pending: say what the query does name, if anything.
	if c, err := pickNode(cands, q); err == nil {
		state := "it is not paired"
		if c.paired {
			state = "it is paired"
		}
		return "", fmt.Errorf("%s has no pending request (%s): see `pairdeck nodes pending`", c.label(), state)
	}
	return "", fmt.Errorf("no pending request matches %q by request id, node id, IP, name, fingerprint or id prefix: see `pairdeck nodes pending`", query)
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func pendingOf(list protocol.PairListResult, requestID string) protocol.PendingRequest {
	for _, r := range list.Pending {
		if r.RequestID == requestID {
			return r
		}
	}
	return protocol.PendingRequest{RequestID: requestID}
}

func ambiguousRequests(query string, reqs []protocol.PendingRequest) error {
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].RequestID < reqs[j].RequestID })
	lines := make([]string, len(reqs))
	for i, r := range reqs {
		lines[i] = fmt.Sprintf("%s  %s  %s  %s", r.RequestID, nameOr(r.DisplayName, r.NodeID), protocol.Fingerprint(r.NodeID), orDash(r.RemoteIP))
	}
	return withDetails(fmt.Errorf("%q matches %d pending requests; use more of the request id", query, len(reqs)), lines...)
}

// normaliseName folds case and collapses spaces and punctuation, so
// "living-room  iPad" finds "Living Room iPad".
func normaliseName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(unicode.ToLower(r))
			space = false
			continue
		}
		space = true
	}
	return b.String()
}

func joinList(items []string) string { return strings.Join(items, ",") }
