package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// On a terminal the tables are drawn with borders; the subprocess tests
// only ever see a pipe, so this checks the terminal form directly.
func TestPendingTableOnTerminal(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	pending := []protocol.PendingRequest{
		{RequestID: "44a1f673-0f77-485a-adf8-00bf4a50151a", NodeID: strings.Repeat("ab", 32), NodeMeta: protocol.NodeMeta{DisplayName: "Living Room iPad", RemoteIP: "192.168.1.20", Platform: "ios"}, TS: now.Add(-4 * time.Minute).UnixMilli(), ExpiresAtMs: now.Add(61 * time.Second).UnixMilli()},
		{RequestID: "c6136c3d-ca18-4c5f-9355-815fc5642e43", NodeID: strings.Repeat("cd", 32), IsRepair: true,
			TS: now.Add(-2 * time.Second).UnixMilli(), ExpiresAtMs: now.Add(-time.Second).UnixMilli()},
	}
	var buf bytes.Buffer
	printPending(&printer{out: &buf, tty: true}, pending, now)
	out := buf.String()
	for _, want := range []string{"╭", "╰", "│", "Request", "Node", "IP", "Platform", "Requested", "Expires in",
		"Living Room iPad", "192.168.1.20", "ios", "4m ago", "1:01", "- (re-pair)", "just now", "expired"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal table lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	width := len([]rune(lines[0]))
	for _, l := range lines {
		if len([]rune(l)) != width {
			t.Errorf("ragged table line %q (want width %d):\n%s", l, width, out)
		}
	}

	buf.Reset()
	printPending(&printer{out: &buf}, pending, now)
	if strings.ContainsAny(buf.String(), "╭│\t") || !strings.HasPrefix(buf.String(), "REQUEST  ") {
		t.Errorf("piped table:\n%s", buf.String())
	}
	buf.Reset()
	printPending(&printer{out: &buf, tty: true}, nil, now)
	if buf.String() != "No pending requests.\n" {
		t.Errorf("empty queue: %q", buf.String())
	}
}
