package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

func TestParseSetupInput(t *testing.T) {
	now := time.Now()
	link := func(url, token string, exp int64) string {
		l, err := protocol.EncodeSetupLink(protocol.SetupPayload{URL: url, BootstrapToken: token, ExpiresAtMs: exp})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	later := now.Add(time.Hour).UnixMilli()
	openclawToken := "CzXJ1pAbCdEfGhIjKlMnOpQrStUvWxYz0123456789-"
	for _, tc := range []struct {
		in       string
		code     string
		url      string
		wantErr  string
		exitCode int
	}{
		{in: "K7QM-2XHF-9RTW-C4PA-M3DE", code: "K7QM-2XHF-9RTW-C4PA-M3DE"},
		{in: "  k7qm 2xhf 9rtw c4pa m3de ", code: "K7QM-2XHF-9RTW-C4PA-M3DE"},
		{in: "K7QM2XHF9RTWC4PAM3DE", code: "K7QM-2XHF-9RTW-C4PA-M3DE"},
		{in: link("ws://192.168.1.20:18789", "k7qm-2xhf-9rtw-c4pa-m3de", later), code: "K7QM-2XHF-9RTW-C4PA-M3DE", url: "ws://192.168.1.20:18789"},
		{in: strings.ToUpper(link("ws://10.0.0.1:1", "K7QM-2XHF-9RTW-C4PA-M3DE", 0)[:10]) + link("ws://10.0.0.1:1", "K7QM-2XHF-9RTW-C4PA-M3DE", 0)[10:], code: "K7QM-2XHF-9RTW-C4PA-M3DE", url: "ws://10.0.0.1:1"},
		{in: strings.TrimPrefix(link("wss://gw.example.com", "K7QM-2XHF-9RTW-C4PA-M3DE", later), "oc-pair://"), code: "K7QM-2XHF-9RTW-C4PA-M3DE", url: "wss://gw.example.com"},
		// A link OpenClaw made carries its own kind of code: presented as is.
		{in: link("ws://127.0.0.1:18789", openclawToken, later), code: openclawToken, url: "ws://127.0.0.1:18789"},
		{in: "hunter2", wantErr: "not a pairdeck setup code", exitCode: ExitUsage},
		{in: link("ws://127.0.0.1:1", "K7QM-2XHF-9RTW-C4PA-M3DE", now.Add(-time.Second).UnixMilli()), wantErr: "expired", exitCode: ExitFailed},
		{in: "oc-pair://" + "eyJ1cmwiOiJodHRwOi8vaCJ9", wantErr: "not a setup link", exitCode: ExitUsage},
	} {
		got, err := parseSetupInput(tc.in, now)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || exitCode(err) != tc.exitCode {
				t.Errorf("parseSetupInput(%.30q) = %+v, %v (exit %d), want %q (exit %d)", tc.in, got, err, exitCode(err), tc.wantErr, tc.exitCode)
			}
			continue
		}
		if err != nil || got.code != tc.code || got.url != tc.url {
			t.Errorf("parseSetupInput(%.30q) = %+v, %v, want code %q url %q", tc.in, got, err, tc.code, tc.url)
		}
	}
}

func TestPickCode(t *testing.T) {
	codes := []protocol.SetupCode{
		{ID: "c7k2m9qpx", Prefix: "K7QM", CreatedAtMs: 3},
		{ID: "c7k2aaaaa", Prefix: "K7QX", CreatedAtMs: 2},
		{ID: "cbbbbbbbb", Prefix: "ZZ12", CreatedAtMs: 1},
	}
	for q, want := range map[string]string{"c7k2m9qpx": "c7k2m9qpx", "C7K2M": "c7k2m9qpx", "cbb": "cbbbbbbbb", "zz12": "cbbbbbbbb", "K7QM": "c7k2m9qpx", "k7-qx": "c7k2aaaaa"} {
		got, err := pickCode(codes, q)
		if err != nil || got.ID != want {
			t.Errorf("pickCode(%q) = %s, %v, want %s", q, got.ID, err, want)
		}
	}
	if _, err := pickCode(codes, "c7k2"); err == nil || !strings.Contains(err.Error(), "matches 2 setup codes by id prefix") {
		t.Errorf("ambiguous id prefix: %v", err)
	}
	if _, err := pickCode(codes, "K7Q"); err == nil || !strings.Contains(err.Error(), "matches 2 setup codes by code prefix") {
		t.Errorf("ambiguous code prefix: %v", err)
	}
	if _, err := pickCode(codes, "nope"); err == nil || !strings.Contains(err.Error(), "codes list --all") {
		t.Errorf("no match: %v", err)
	}
}

// The list's rows show the prefix and never more of a code, whatever its
// state.
func TestCodeRowsShowNoSecret(t *testing.T) {
	now := time.Now()
	codes := []protocol.SetupCode{
		{ID: "c1", Prefix: "K7QM", ExpiresAtMs: now.Add(90 * time.Second).UnixMilli(), MaxUses: 2, Uses: 1,
			Scope: protocol.CodeScope{NamePrefix: "rack-", Platforms: []string{"linux"}, CIDRs: []string{"10.0.0.0/8"}, AllowExec: true}, Note: "rack 4", CreatedBy: "cli root@box"},
		{ID: "c2", Prefix: "ZZ12", ExpiresAtMs: now.Add(-time.Hour).UnixMilli(), MaxUses: 1},
		{ID: "c3", Prefix: "AB12", ExpiresAtMs: now.Add(72 * time.Hour).UnixMilli(), MaxUses: 1, RevokedAtMs: 1},
		{ID: "c4", Prefix: "CD34", ExpiresAtMs: now.Add(3 * time.Hour).UnixMilli(), MaxUses: 1, Uses: 1},
	}
	rows := codeRows(codes, now)
	want := [][]string{
		{"c1", "K7QM…", "active", "1/2", "in 1:29", "name rack-* linux 10.0.0.0/8 exec", "rack 4", "cli root@box"},
		{"c2", "ZZ12…", "expired", "0/1", "expired 1h ago", "-", "-", "-"},
		{"c3", "AB12…", "revoked", "0/1", "-", "-", "-", "-"},
		{"c4", "CD34…", "used-up", "1/1", "-", "-", "-", "-"},
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q, want %q", i, rows[i], want[i])
		}
	}
	if got := codeTimeLeft(now, now.Add(50*time.Hour+30*time.Minute).UnixMilli()); got != "2d2h" {
		t.Errorf("codeTimeLeft 50h = %q", got)
	}
}

func TestLinkURLs(t *testing.T) {
	for in, want := range map[string]string{
		"ws://192.168.1.20:18789/": "ws://192.168.1.20:18789",
		"ws://LOCALHOST:80":        "ws://localhost",
		"ws://100.101.1.2:18789":   "ws://100.101.1.2:18789",
		"ws://box.tail1234.ts.net": "ws://box.tail1234.ts.net",
		"ws://printer.local:9":     "ws://printer.local:9",
		"ws://[fd00::1]:18789":     "ws://[fd00::1]:18789",
		"wss://gw.example.com:443": "wss://gw.example.com",
	} {
		got, err := checkLinkURL("--link-url", in)
		if err != nil || got != want {
			t.Errorf("checkLinkURL(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"ws://gw.example.com:18789", "ws://8.8.8.8", "http://10.0.0.1", "ws://u:p@10.0.0.1", "ws://10.0.0.1?x=1"} {
		if _, err := checkLinkURL("--link-url", in); err == nil || exitCode(err) != ExitUsage {
			t.Errorf("checkLinkURL(%q) = %v, want a usage error", in, err)
		}
	}
}

// The history's table says what a setup code's own events were.
func TestCodeEventsInHistory(t *testing.T) {
	code := json.RawMessage(`{"id":"c7k2m9qpx","prefix":"K7QM","scope":{},"note":"rack 4","expiresAtMs":1,"maxUses":2,"uses":1}`)
	for _, tc := range []struct {
		ev   protocol.HistoryEvent
		note string
	}{
		{protocol.HistoryEvent{Action: "code.created", Fields: map[string]json.RawMessage{"code": code}}, "code c7k2m9qpx (K7QM…), used 1 of 2, rack 4"},
		{protocol.HistoryEvent{Action: "code.revoked", Reason: "lost", Fields: map[string]json.RawMessage{"code": code}}, "code c7k2m9qpx (K7QM…), used 1 of 2, rack 4; reason: lost"},
		{protocol.HistoryEvent{Action: "code.refused", Fields: map[string]json.RawMessage{"refusal": json.RawMessage(`"CODE_USED_UP"`)}}, "refused: code used up, the request waits"},
	} {
		if got := historyNote(tc.ev); got != tc.note {
			t.Errorf("%s: note %q, want %q", tc.ev.Action, got, tc.note)
		}
	}
	if got := historyAction("code.refused"); got != "code refused" {
		t.Errorf("historyAction = %q", got)
	}
}
