package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// nodeCandidate is a node the --node query may mean.
type nodeCandidate struct {
	id, name, ip string
}

// resolveNode turns a --node query into a node id, trying in order: exact
// id, exact IP, display name (normalised), id prefix of ≥6 characters. More
// than one match at the first tier that matches is an error listing them.
func resolveNode(ctx context.Context, op operator, query string) (string, error) {
	cands, err := nodeCandidates(ctx, op)
	if err != nil {
		return "", err
	}
	return pickNode(cands, query)
}

func nodeCandidates(ctx context.Context, op operator) ([]nodeCandidate, error) {
	seen := map[string]*nodeCandidate{}
	var order []string
	add := func(id, name, ip string) {
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
	}
	nodes, err := op.Nodes(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up nodes: %w", err)
	}
	for _, n := range nodes.Nodes {
		add(n.NodeID, n.DisplayName, n.RemoteIP)
	}
	list, err := op.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up nodes: %w", err)
	}
	for _, r := range list.Pending {
		add(r.NodeID, r.DisplayName, r.RemoteIP)
	}
	for _, p := range list.Paired {
		add(p.NodeID, p.DisplayName, p.RemoteIP)
	}
	out := make([]nodeCandidate, 0, len(order))
	for _, id := range order {
		out = append(out, *seen[id])
	}
	return out, nil
}

func pickNode(cands []nodeCandidate, query string) (string, error) {
	q := strings.TrimSpace(query)
	tiers := []struct {
		what  string
		match func(c nodeCandidate) bool
	}{
		{"id", func(c nodeCandidate) bool { return c.id == q }},
		{"IP", func(c nodeCandidate) bool { return c.ip != "" && c.ip == q }},
		{"name", func(c nodeCandidate) bool { return c.name != "" && normaliseName(c.name) == normaliseName(q) }},
		{"id prefix", func(c nodeCandidate) bool {
			return len(q) >= 6 && strings.HasPrefix(strings.ToLower(c.id), strings.ToLower(q))
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
			return hits[0].id, nil
		default:
			return "", ambiguous(query, tier.what, hits)
		}
	}
	hint := ""
	if len(q) < 6 {
		hint = " (an id prefix needs at least 6 characters)"
	}
	return "", fmt.Errorf("no node matches %q by id, IP, name or id prefix%s: see `pairdeck nodes status`", query, hint)
}

func ambiguous(query, what string, hits []nodeCandidate) error {
	sort.Slice(hits, func(i, j int) bool { return hits[i].id < hits[j].id })
	lines := make([]string, len(hits))
	for i, h := range hits {
		lines[i] = fmt.Sprintf("%s  %s  %s", h.id, orDash(h.name), orDash(h.ip))
	}
	return withDetails(fmt.Errorf("%q matches %d nodes by %s; use an exact id", query, len(hits), what), lines...)
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
