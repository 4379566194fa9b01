package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
)

var testNow = time.UnixMilli(1_800_000_000_000)

func testQueue() []protocol.PendingRequest {
	return []protocol.PendingRequest{
		{RequestID: "44a1f673-0f77-485a-adf8-00bf4a50151a", NodeID: "fa35853307800000" + strings.Repeat("ab", 24),
			NodeMeta: protocol.NodeMeta{DisplayName: "Living Room iPad with a rather long name indeed", RemoteIP: "192.168.100.200", Platform: "ios"},
			TS:       testNow.Add(-4 * time.Minute).UnixMilli(), ExpiresAtMs: testNow.Add(61 * time.Second).UnixMilli()},
		{RequestID: "44a1f6aa-ca18-4c5f-9355-815fc5642e43", NodeID: strings.Repeat("cd", 32), IsRepair: true,
			TS: testNow.Add(-2 * time.Second).UnixMilli(), ExpiresAtMs: testNow.Add(-time.Second).UnixMilli()},
		{RequestID: "9b0c7a1e-0000-4000-8000-000000000003", NodeID: strings.Repeat("ef", 32),
			NodeMeta: protocol.NodeMeta{DisplayName: "客厅的平板电脑", Platform: "android", RemoteIP: "10.0.0.7"},
			TS:       testNow.Add(-90 * time.Second).UnixMilli(), ExpiresAtMs: testNow.Add(3*time.Minute + 30*time.Second).UnixMilli()},
	}
}

// On a terminal the table is fitted to the width: no line is wider, the
// columns an operator acts on stay, names are cut with "…", wide
// characters are aligned by the cells they take.
func TestPendingTableFitsTheTerminal(t *testing.T) {
	for _, width := range []int{200, 100, 80, 60, 40} {
		var buf bytes.Buffer
		printPending(&printer{out: &buf, tty: true, width: width}, testQueue(), testNow)
		out := buf.String()
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 4 {
			t.Fatalf("width %d: want a header and 3 rows:\n%s", width, out)
		}
		for _, l := range lines {
			if w := ansi.StringWidth(l); w > width {
				t.Errorf("width %d: line is %d cells wide: %q", width, w, l)
			}
		}
		if strings.ContainsAny(out, "╭│\t\x1b") {
			t.Errorf("width %d: borders, tabs or escapes:\n%s", width, out)
		}
		// The request ids are the shortest unique prefixes, at least 8.
		for _, want := range []string{"REQUEST", "NAME", "EXPIRES", "44a1f673 ", "44a1f6aa ", "9b0c7a1e ", "1:01", "expired", "3:30"} {
			if !strings.Contains(out, want) {
				t.Errorf("width %d lacks %q:\n%s", width, want, out)
			}
		}
		if strings.Contains(out, "44a1f673-0f77") {
			t.Errorf("width %d: the full request id is printed on a terminal:\n%s", width, out)
		}
		// Every column starts at the same cell on every line.
		starts := columnStarts(lines[0])
		for _, l := range lines[1:] {
			for _, s := range starts {
				if cellAt(l, s) == ' ' || (s > 0 && cellAt(l, s-1) != ' ') {
					t.Errorf("width %d: column at cell %d not aligned in %q\n%s", width, s, l, out)
				}
			}
		}
		switch {
		case width >= 100:
			for _, want := range []string{"PLATFORM", "IP", "NODE", "ASKED", "192.168.100.200", "fa35:8533:0780", "4m ago", "cdcd:cdcd:cdcd (re-pair)"} {
				if !strings.Contains(out, want) {
					t.Errorf("width %d lacks %q:\n%s", width, want, out)
				}
			}
		case width == 80:
			if !strings.Contains(out, "…") {
				t.Errorf("width 80: the long name is not cut with …:\n%s", out)
			}
		case width <= 40:
			for _, gone := range []string{"PLATFORM", "ASKED", "192.168"} {
				if strings.Contains(out, gone) {
					t.Errorf("width %d still shows %q:\n%s", width, gone, out)
				}
			}
		}
	}

	// Piped: every cell whole, the full request id.
	var buf bytes.Buffer
	printPending(&printer{out: &buf}, testQueue(), testNow)
	for _, want := range []string{"44a1f673-0f77-485a-adf8-00bf4a50151a", "Living Room iPad with a rather long name indeed", "192.168.100.200", "fa35:8533:0780"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("piped table lacks %q:\n%s", want, buf.String())
		}
	}
	buf.Reset()
	printPending(&printer{out: &buf, tty: true, width: 80}, nil, testNow)
	if buf.String() != "No pending requests.\n" {
		t.Errorf("empty queue: %q", buf.String())
	}
}

// columnStarts is the cell at which each title of a header line starts.
func columnStarts(header string) []int {
	var starts []int
	prevSpace := 0
	for i, r := range header {
		if r != ' ' && (i == 0 || prevSpace >= 2) {
			starts = append(starts, ansi.StringWidth(header[:i]))
		}
		if r == ' ' {
			prevSpace++
		} else {
			prevSpace = 0
		}
	}
	return starts
}

// cellAt is the character that covers terminal cell c of line l.
func cellAt(l string, c int) rune {
	at := 0
	for _, r := range l {
		w := ansi.StringWidth(string(r))
		if c < at+w {
			return r
		}
		at += w
	}
	return ' '
}

func TestUniquePrefixes(t *testing.T) {
	got := uniquePrefixes([]string{"44a1f673-0f77", "44a1f6aa-ca18", "9b0c7a1e-0000", "44a1f673-0f78", "short"}, 8)
	want := []string{"44a1f673-0f77", "44a1f6aa", "9b0c7a1e", "44a1f673-0f78", "short"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("uniquePrefixes = %q, want %q", got, want)
	}
}

func TestPluralAndTimeWords(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{plural(1, "time"), "1 time"}, {plural(0, "time"), "0 times"}, {plural(int64(3), "time"), "3 times"},
		{ago(testNow, testNow.Add(-2*time.Second).UnixMilli()), "now"},
		{ago(testNow, testNow.Add(-42*time.Second).UnixMilli()), "42s ago"},
		{ago(testNow, testNow.Add(-5*time.Minute).UnixMilli()), "5m ago"},
		{ago(testNow, 0), "never"},
		{countdown(testNow, testNow.Add(61500*time.Millisecond).UnixMilli()), "1:01"},
		{countdown(testNow, testNow.Add(2*time.Hour).UnixMilli()), "2:00:00"},
		{countdown(testNow, testNow.UnixMilli()), "expired"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// Errors quote what nodes and gateways sent: the message stays one line,
// detail lines are indented, and nothing in them is acted on.
func TestReportErrorIsPrintable(t *testing.T) {
	var buf bytes.Buffer
	err := withDetails(fmt.Errorf("approve %s: %w", "x\x1b[2K\ny", errors.New("gone\u202e")), "cand\x1b]2;t\x07", "two")
	reportError(&buf, fmt.Errorf("wrapped: %w", err))
	want := "pairdeck: wrapped: approve x\\x1b[2K\\x0ay: gone\\u202e\n  cand\\x1b]2;t\\x07\n  two\n"
	if buf.String() != want {
		t.Errorf("reportError:\n got %q\nwant %q", buf.String(), want)
	}
}

// FuzzRenderedLinesArePrintable: whatever string a node or gateway puts in
// any field, every line the CLI renders from it — tables at any width,
// piped or on a terminal, and the plain lines of the commands — holds
// nothing a terminal acts on.
func FuzzRenderedLinesArePrintable(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b]2;title\x07", "\x1b[2K\x1b[3A", "\u202eevil\u2066", "\u009b31m", "a\r\nb",
		"\xff\xfe", "客厅\u200b", "e\u0301\u0301", "\x7f\x00"} {
		f.Add(s, 80)
	}
	f.Fuzz(func(t *testing.T, s string, width int) {
		width = width % 300
		meta := protocol.NodeMeta{DisplayName: s, Platform: s, Version: s, DeviceFamily: s, ModelIdentifier: s,
			Caps: []string{s, s}, Commands: []string{s}, RemoteIP: s}
		pending := []protocol.PendingRequest{{RequestID: s, NodeID: s, NodeMeta: meta, TS: testNow.UnixMilli(), IsRepair: true},
			{RequestID: s + "2", NodeID: "ab" + s, NodeMeta: meta, ExpiresAtMs: testNow.Add(time.Minute).UnixMilli()},
			{RequestID: s + "3", NodeID: "cd" + s, NodeMeta: meta, Kind: protocol.KindDevice, Reason: s, RefreshedAtMs: 1}}
		infos := []protocol.NodeInfo{{NodeID: s, DisplayName: s, Platform: s, RemoteIP: s, Caps: []string{s}, Paired: true},
			{NodeID: "ab" + s, PendingDeclaredCaps: []string{s}, ApprovalState: s}}
		device := &protocol.PairedDevice{DeviceID: s, Roles: []string{s}, Scopes: []string{s}}
		paired := []protocol.PairedNode{{NodeID: s, NodeMeta: meta}}
		blocked := []protocol.BlockedNode{{NodeID: s, DisplayName: s, BlockedBy: s, LastRemoteIP: s, Attempts: 1}}
		for _, tty := range []bool{false, true} {
			var buf bytes.Buffer
			p := &printer{out: &buf, tty: tty, width: width}
			if !tty {
				p.width = 0
			}
			printPending(p, pending, testNow)
			printStatus(p, infos, nil, testNow)
			printStatus(p, infos, approvalStates(infos, &protocol.PairListResult{Pending: pending}), testNow)
			for _, res := range []protocol.ApproveResult{
				{RequestID: s, Node: protocol.PairedNode{NodeID: s, NodeMeta: meta, Token: s, Permissions: protocol.Permissions{s: true}}, Kind: s},
				{RequestID: s, Node: protocol.PairedNode{NodeID: s, NodeMeta: meta}, NoToken: protocol.NoTokenNodeUsesDeviceToken},
				{RequestID: s, Node: protocol.PairedNode{NodeID: s, NodeMeta: meta}, NoToken: protocol.NoTokenDeviceApproval, Device: device},
			} {
				printApproved(p, res)
			}
			p.Table(pairedColumns, pairedRows(paired, testNow))
			p.Table(blockedColumns, blockedRows(blocked, testNow))
			codes := []protocol.SetupCode{{ID: s, Prefix: s, Note: s, CreatedBy: s, MaxUses: 1, ExpiresAtMs: testNow.Add(time.Hour).UnixMilli(),
				Scope: protocol.CodeScope{Name: s, Platforms: []string{s}, CIDRs: []string{s}}}, {ID: s + "2", Scope: protocol.CodeScope{NamePrefix: s}, RevokedBy: s, RevokedAtMs: 1}}
			p.Table(codeColumns, codeRows(codes, testNow))
			printCreatedCode(p, nil, protocol.CodeCreateResult{Code: codes[0], Secret: s, SetupLink: s}, linkPlace{url: s, from: s}, false)
			printPairPending(p, s, s, client.PairPending{RequestID: s, NodeID: s, Fingerprint: s, Kind: protocol.KindNode,
				Code: &protocol.CodeRefusal{Reason: s, Message: s}})
			quoted, _ := json.Marshal(s)
			codeJSON, _ := json.Marshal(codes[0])
			printHistory(p, []protocol.HistoryEvent{{Action: "code.refused", NodeID: s, DisplayName: s, Reason: s,
				Fields: map[string]json.RawMessage{"refusal": quoted}}, {Action: "code.created", Fields: map[string]json.RawMessage{"code": codeJSON}}}, testNow)
			p.Line("Approved %s (%s), request %s.", s, protocol.Fingerprint(s), s)
			p.Line("%v", errors.New(s))
			p.Line("%s", pairingSentence(protocol.PairingState{Enabled: true, ChangedAtMs: 1, ChangedBy: s}, testNow))
			reportError(&buf, withDetails(errors.New(s), s, s))
			note(&buf, "lost the gateway %s (%v)", s, errors.New(s))
			for _, l := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
				if err := protocol.CheckText(l); err != nil {
					t.Fatalf("tty=%v width=%d: rendered line %q: %v", tty, width, l, err)
				}
			}
		}
	})
}
