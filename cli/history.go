package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// historyActions are the actions the audit log records, for --action:
// the store's (requests, decisions, renames, removals), the gateway's
// (blocks, the pairing switch, counts of refused tokens).
var historyActions = []string{
	"requested", "refreshed", "approved", "rejected", "expired", "renamed", "removed",
	"blocked", "unblocked", "pairing-on", "pairing-off", "token-refused",
}

// historyDefaultLimit is how many events `nodes history` prints unless
// told: a screenful or two of the most recent.
const historyDefaultLimit = 50

// historyReader reads pages of history: a gateway (pairdeck.history.list)
// or, with none running, the state dir's files.
type historyReader interface {
	History(ctx context.Context, q protocol.HistoryQuery) (protocol.HistoryPage, error)
}

// stateDirHistory reads a state dir's audit log directly: no lock taken,
// nothing written (store.ReadHistory).
type stateDirHistory string

func (d stateDirHistory) History(_ context.Context, q protocol.HistoryQuery) (protocol.HistoryPage, error) {
	return store.ReadHistory(string(d), q)
}

func (n *nodesCmd) historyCmd() *cobra.Command {
	var nodeQuery, since, before string
	var limit int
	var actions []string
	cmd := &cobra.Command{
		Use:   "history [--node NODE] [--since 1h|7d|DATE] [--limit N]",
		Short: "Show what happened to nodes, newest first, and who did it",
		Long: `Show the gateway's history, newest first: requests, approvals,
rejections, expiries, renames, removals, blocks, the pairing switch and
counts of refused tokens, each with who did it (BY) in the form every
view shows.

It asks the running gateway (pairdeck.history.list, also over --url);
with none running it reads the state dir's nodes/audit.jsonl and its
rotations directly, taking no lock and writing nothing. (Right after a
crash, the newest decisions may be in the journal only until pairdeck
opens the state dir again.)

--node takes what rename takes, and also names a node the gateway no longer
knows (removed, rejected, expired) by its id, id prefix, fingerprint or the
name the history gives it. --since takes a duration back from now (90m, 12h,
7d, 2w) or a date (2026-05-01, "2026-05-01 14:30", RFC 3339); dates without a
zone are local time. --limit caps the events printed (0 prints them all);
--action keeps the given actions only. With --json the result is
{"events": [...], "next"}: pass next to --before to continue with older
events (docs/cli-json.md).`,
		Example: `  pairdeck nodes history
  pairdeck nodes history --node kitchen --since 7d
  pairdeck nodes history --action approved,rejected --since 2026-05-01
  pairdeck nodes history --limit 0 --json | jq -r '.events[] | [.action, .by] | @tsv'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			q := protocol.HistoryQuery{Before: strings.TrimSpace(before)}
			if limit < 0 {
				return usageError("--limit %d: give a number of events, or 0 for all of them", limit)
			}
			if since != "" {
				at, err := parseSince(since, now)
				if err != nil {
					return err
				}
				q.SinceMs = at.UnixMilli()
			}
			for _, a := range actions {
				a = strings.TrimSpace(a)
				if !slices.Contains(historyActions, a) {
					return usageError("--action %q is not an action the history records: give one or more of %s", a, strings.Join(historyActions, ", "))
				}
				if !slices.Contains(q.Actions, a) {
					q.Actions = append(q.Actions, a)
				}
			}
			return n.runHistory(cmd, func(ctx context.Context, s *session, hist historyReader, p *printer) error {
				if nodeQuery != "" {
					id, err := resolveHistoryNode(ctx, s, hist, nodeQuery, q.SinceMs)
					if err != nil {
						return err
					}
					q.NodeID = id
				}
				events, next, err := readHistory(ctx, hist, q, limit)
				if err != nil {
					return err
				}
				if p.json {
					out := historyJSON{Events: make([]historyEventJSON, len(events)), Next: next}
					for i, ev := range events {
						out.Events[i] = historyEventJSON{HistoryEvent: ev, By: actorText(ev.Actor)}
					}
					return p.JSON(out)
				}
				printHistory(p, events, now)
				if next != "" && p.tty {
					more := "--limit N (0 for all)"
					if limit == 0 {
						more = "--before " + next
					}
					note(cmd.ErrOrStderr(), "older events not shown: %s", more)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&nodeQuery, "node", "", "only this node: id, IP, name, fingerprint or id prefix (≥6 chars), known or not")
	cmd.Flags().StringVar(&since, "since", "", "only events since a time: a duration back (90m, 12h, 7d, 2w) or a date (2026-05-01)")
	cmd.Flags().IntVar(&limit, "limit", historyDefaultLimit, "at most this many events, newest first (0: all)")
	cmd.Flags().StringSliceVar(&actions, "action", nil, "only these actions ("+strings.Join(historyActions, ", ")+")")
	cmd.Flags().StringVar(&before, "before", "", "continue with the events older than this cursor (a --json result's next)")
	cmd.RegisterFlagCompletionFunc("node", n.completeNodes)
	cmd.RegisterFlagCompletionFunc("action", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return historyActions, cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// runHistory opens a session as the other commands do, except that with
// no gateway running it reads the state dir's files rather than opening
// the store: history needs no lock.
func (n *nodesCmd) runHistory(cmd *cobra.Command, fn func(ctx context.Context, s *session, hist historyReader, p *printer) error) error {
	ctx := cmd.Context()
	s, err := openSessionOr(ctx, n.g, &n.conn, protocol.ActorCLI, readAccess, func(stateDir string) (*session, error) {
		return &session{mode: modeOffline, stateDir: stateDir, close: func() error { return nil }}, nil
	})
	if err != nil {
		return err
	}
	defer s.close()
	hist, err := historyOf(s)
	if err != nil {
		return err
	}
	p := newPrinter(cmd.OutOrStdout(), n.asJSON)
	return tellSource(n.g, s, p, cmd.ErrOrStderr(), false, func() error { return fn(ctx, s, hist, p) })
}

// historyOf is where a session reads history from.
func historyOf(s *session) (historyReader, error) {
	if s.op == nil {
		return stateDirHistory(s.stateDir), nil
	}
	if err := supports(s.op, client.CapHistory); err != nil {
		return nil, err
	}
	h, ok := s.op.(historyReader)
	if !ok {
		return nil, errors.New("this gateway connection cannot read history")
	}
	return h, nil
}

// readHistory reads up to limit events (0: all), a page at a time, and
// the cursor of what is older, if anything.
func readHistory(ctx context.Context, hist historyReader, q protocol.HistoryQuery, limit int) ([]protocol.HistoryEvent, string, error) {
	events := []protocol.HistoryEvent{}
	for {
		q.Limit = protocol.HistoryMaxLimit
		if limit > 0 {
			q.Limit = min(limit-len(events), protocol.HistoryMaxLimit)
		}
		page, err := hist.History(ctx, q)
		if _, files := hist.(stateDirHistory); err != nil && !files {
			return nil, "", fmt.Errorf("read history: %w", err)
		} else if err != nil {
			return nil, "", err // the store's error names the files
		}
		events = append(events, page.Events...)
		if page.Next == "" || (limit > 0 && len(events) >= limit) {
			return events, page.Next, nil
		}
		q.Before = page.Next
	}
}

// resolveHistoryNode names the node --node means: one the gateway knows,
// as every command resolves it; else one the history names (removed,
// rejected, expired, or offline the only record there is), by the same
// rules over the ids and latest names found there. A full node id is
// taken as it is.
func resolveHistoryNode(ctx context.Context, s *session, hist historyReader, query string, sinceMs int64) (string, error) {
	q := strings.TrimSpace(query)
	var known []nodeCandidate
	if s.op != nil {
		var err error
		if known, err = nodeCandidates(ctx, s.op); err != nil {
			return "", err
		}
		c, err := pickNode(known, q)
		if err == nil {
			return c.id, nil
		}
		var amb *detailedError
		if errors.As(err, &amb) {
			return "", err
		}
	}
	if fullNodeIDRE.MatchString(q) {
		return strings.ToLower(q), nil
	}
	gone, err := historyCandidates(ctx, hist, sinceMs, known)
	if err != nil {
		return "", err
	}
	c, err := pickNode(gone, q)
	if err == nil {
		return c.id, nil
	}
	var amb *detailedError
	if errors.As(err, &amb) {
		return "", err
	}
	where := "the gateway knows or the history names"
	if s.op == nil {
		where = "the history names"
	}
	return "", fmt.Errorf("no node %s matches %q by id, name, fingerprint or id prefix: see `pairdeck nodes history` for the nodes it names", where, query)
}

// fullNodeIDRE is a pairdeck node id: the hex SHA-256 of its key.
var fullNodeIDRE = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// historyCandidates are the nodes the history names (since sinceMs), each
// with the newest name it gives them, except those already known.
func historyCandidates(ctx context.Context, hist historyReader, sinceMs int64, known []nodeCandidate) ([]nodeCandidate, error) {
	skip := map[string]bool{}
	for _, c := range known {
		skip[c.id] = true
	}
	events, _, err := readHistory(ctx, hist, protocol.HistoryQuery{SinceMs: sinceMs}, 0)
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	var out []nodeCandidate
	for _, ev := range events {
		if ev.NodeID == "" || skip[ev.NodeID] {
			continue
		}
		i, ok := seen[ev.NodeID]
		if !ok {
			i = len(out)
			seen[ev.NodeID] = i
			out = append(out, nodeCandidate{id: ev.NodeID})
		}
		if out[i].name == "" {
			out[i].name = ev.DisplayName // the newest name the history gives
		}
	}
	return out, nil
}

// historyJSON is `nodes history --json`'s result (docs/cli-json.md).
type historyJSON struct {
	Events []historyEventJSON `json:"events"`
	Next   string             `json:"next,omitempty"`
}

// historyEventJSON is one event with its actor as every view shows it.
type historyEventJSON struct {
	protocol.HistoryEvent
	By string `json:"by"`
}

// actorText is how the CLI shows who acted: the actor's one form.
func actorText(a protocol.Actor) string { return a.String() }

var historyColumns = []column{
	{title: "TIME"},
	{title: "EVENT"},
	{title: "NAME", cut: 12, grow: 2},
	{title: "NODE", drop: 2},
	{title: "BY", cut: 14, grow: 3},
	{title: "NOTE", cut: 10, grow: 2, drop: 1},
}

// printHistory prints events as a table, newest first.
func printHistory(p *printer, events []protocol.HistoryEvent, now time.Time) {
	if len(events) == 0 {
		p.Line("No history matches.")
		return
	}
	rows := make([][]string, 0, len(events))
	for _, ev := range events {
		name, node := "-", "-"
		if ev.NodeID != "" {
			name, node = nameOr(ev.DisplayName, ev.NodeID), protocol.Fingerprint(ev.NodeID)
		}
		rows = append(rows, []string{historyTime(now, ev.TS), historyAction(ev.Action),
			name, node, actorText(ev.Actor), orDash(historyNote(ev))})
	}
	p.Table(historyColumns, rows)
}

// historyTime says when, as ls -l does: the time of day today, the date
// and minute this year, the date before that.
func historyTime(now time.Time, ms int64) string {
	t := time.UnixMilli(ms).In(now.Location())
	switch {
	case t.Year() == now.Year() && t.YearDay() == now.YearDay():
		return t.Format("15:04:05")
	case t.Year() == now.Year():
		return t.Format("Jan 02 15:04")
	}
	return t.Format("2006-01-02")
}

// historyNote is what else an event says: where a request came from, how
// many tokens were refused, what the pairing switch means, the reason
// given for a decision.
func historyNote(ev protocol.HistoryEvent) string {
	var parts []string
	switch ev.Action {
	case "requested", "refreshed":
		if ev.IsRepair {
			parts = append(parts, "re-pair")
		}
		if ev.Actor.Role == protocol.RoleNode && ev.Actor.RemoteAddr != "" {
			parts = append(parts, "from "+hostOf(ev.Actor.RemoteAddr))
		}
	case "token-refused":
		s := plural(ev.Attempts, "wrong token")
		if raw, ok := ev.Fields["network"]; ok {
			if net, err := strconv.Unquote(string(raw)); err == nil && net != "" {
				s += " from " + net
			}
		}
		parts = append(parts, s)
	case "unblocked":
		parts = append(parts, "refused "+plural(ev.Attempts, "time")+" while blocked")
	case "pairing-on":
		parts = append(parts, "nodes may ask to join")
	case "pairing-off":
		parts = append(parts, "nodes' requests are refused")
	case "code.created", "code.revoked":
		var c struct {
			ID      string `json:"id"`
			Prefix  string `json:"prefix"`
			Note    string `json:"note"`
			MaxUses int    `json:"maxUses"`
			Uses    int    `json:"uses"`
		}
		if raw, ok := ev.Fields["code"]; ok && json.Unmarshal(raw, &c) == nil && c.ID != "" {
			s := fmt.Sprintf("code %s (%s…), used %d of %d", c.ID, c.Prefix, c.Uses, c.MaxUses)
			if c.Note != "" {
				s += ", " + c.Note
			}
			parts = append(parts, s)
		}
	case "code.refused":
		var refusal string
		if raw, ok := ev.Fields["refusal"]; ok && json.Unmarshal(raw, &refusal) == nil && refusal != "" {
			parts = append(parts, "refused: "+codeRefusalWords(refusal)+", the request waits")
		}
	}
	if ev.Reason != "" {
		parts = append(parts, "reason: "+ev.Reason)
	}
	return strings.Join(parts, "; ")
}

// hostOf is an address without its port.
func hostOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i > 0 && !strings.Contains(addr[i:], "]") {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}

// sinceDaysRE splits weeks and days off a --since duration; the rest is
// Go's.
var sinceDaysRE = regexp.MustCompile(`^(?:(\d+)w)?(?:(\d+)d)?(.*)$`)

// sinceLayouts are the dates --since takes, in local time.
var sinceLayouts = []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// parseSince reads --since: a duration back from now (Go's, plus d for
// days and w for weeks) or a date.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) error {
		return usageError("--since %q: %s; give a duration back from now (90m, 12h, 7d, 2w) or a date (2026-05-01, \"2026-05-01 14:30\", RFC 3339)", s, why)
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return checkSince(t, now, bad)
	}
	for _, layout := range sinceLayouts {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return checkSince(t, now, bad)
		}
	}
	m := sinceDaysRE.FindStringSubmatch(s)
	if m == nil || s == "" {
		return time.Time{}, bad("not a duration or a date")
	}
	var d time.Duration
	for i, unit := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.Atoi(m[i+1])
		if err != nil || n > 100000 {
			return time.Time{}, bad("too far back")
		}
		d += time.Duration(n) * unit
	}
	if m[3] != "" {
		rest, err := time.ParseDuration(m[3])
		if err != nil {
			return time.Time{}, bad("not a duration or a date")
		}
		d += rest
	}
	if d <= 0 {
		return time.Time{}, bad("a duration back must be more than zero")
	}
	return now.Add(-d), nil
}

func checkSince(t, now time.Time, bad func(string) error) (time.Time, error) {
	if t.After(now) {
		return time.Time{}, bad("that is in the future")
	}
	return t, nil
}

// historyAction is an action as the table shows it: "token refused",
// "code created".
func historyAction(action string) string {
	return strings.NewReplacer("-", " ", ".", " ").Replace(action)
}

// codeRefusalWords says why a setup code approved nothing, in words.
func codeRefusalWords(reason string) string {
	switch reason {
	case protocol.ReasonCodeExpired:
		return "code expired"
	case protocol.ReasonCodeUsedUp:
		return "code used up"
	case protocol.ReasonCodeRevoked:
		return "code revoked"
	case protocol.ReasonCodeOutOfScope:
		return "out of the code's scope"
	case protocol.ReasonCodeInvalid:
		return "no such code"
	}
	return reason
}
