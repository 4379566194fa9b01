package protocol

import (
	"errors"
	"strings"
	"testing"
)

func TestCodeSecretsNormalizeToThemselves(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		s, err := NewCodeSecret()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 24 || strings.Count(s, "-") != 4 {
			t.Fatalf("secret %q: want 5 groups of 4", s)
		}
		n, err := NormalizeCode(s)
		if err != nil || n != s {
			t.Fatalf("NormalizeCode(%q) = %q, %v", s, n, err)
		}
		if seen[s] {
			t.Fatalf("secret %q twice", s)
		}
		seen[s] = true
	}
}

func TestNormalizeCodeForgivesWhatPeopleType(t *testing.T) {
	for in, want := range map[string]string{
		"k7qm 2xhf 9rtw c4pa m3de":  "K7QM-2XHF-9RTW-C4PA-M3DE",
		"K7QM2XHF9RTWC4PAM3DE":      "K7QM-2XHF-9RTW-C4PA-M3DE",
		"o0il-2XHF-9RTW-C4PA-M3DE":  "0011-2XHF-9RTW-C4PA-M3DE",
		" K7QM-2XHF-9RTW-C4PA-M3DE": "K7QM-2XHF-9RTW-C4PA-M3DE",
	} {
		if got, err := NormalizeCode(in); err != nil || got != want {
			t.Errorf("NormalizeCode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "K7QM-2XHF", "K7QM-2XHF-9RTW-C4PA-M3DEX", "K7QM-2XHF-9RTW-C4PA-M3DU", "K7QM\x1b2XHF9RTWC4PAM3DE", "ＫＫ7QM2XHF9RTWC4PAM3D"} {
		if _, err := NormalizeCode(bad); !errors.Is(err, ErrCodeSyntax) {
			t.Errorf("NormalizeCode(%q): err %v, want ErrCodeSyntax", bad, err)
		}
	}
}

func TestCodeState(t *testing.T) {
	c := SetupCode{MaxUses: 2, ExpiresAtMs: 1000}
	if got := c.State(999); got != CodeActive {
		t.Errorf("fresh: %s", got)
	}
	if got := c.State(1000); got != CodeExpired {
		t.Errorf("at expiry: %s", got)
	}
	c.Uses = 2
	if got := c.State(0); got != CodeUsedUp {
		t.Errorf("used: %s", got)
	}
	c.RevokedAtMs = 5
	if got := c.State(0); got != CodeRevoked {
		t.Errorf("revoked: %s", got)
	}
}

func TestSetupLinkRoundTrip(t *testing.T) {
	p := SetupPayload{URL: "ws://127.0.0.1:18789", BootstrapToken: "K7QM-2XHF-9RTW-C4PA-M3DE", ExpiresAtMs: 1796567074031}
	link, err := EncodeSetupLink(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "oc-pair://") || strings.ContainsAny(link[len("oc-pair://"):], "=+/") {
		t.Fatalf("link %q: want oc-pair:// and unpadded base64url", link)
	}
	for _, in := range []string{link, "OC-PAIR://" + link[10:], link[10:], "  " + link + "\n"} {
		got, err := ParseSetupLink(in)
		if err != nil || got != p {
			t.Errorf("ParseSetupLink(%q) = %+v, %v", in, got, err)
		}
	}
	// OpenClaw's own example payload (token replaced) decodes.
	got, err := ParseSetupLink("eyJ1cmwiOiJ3czovLzEyNy4wLjAuMTozNDk0MyIsImJvb3RzdHJhcFRva2VuIjoiUkVEQUNURUQiLCJleHBpcmVzQXRNcyI6MTc5NjU2NzA3NDAzMX0")
	if err != nil || got.URL != "ws://127.0.0.1:34943" || got.BootstrapToken != "REDACTED" {
		t.Errorf("OpenClaw's example: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "oc-pair:///x", link + "?x=1", link + "=", "pairdeck://x", "oc-pair://bm90IGpzb24"} {
		if _, err := ParseSetupLink(bad); !errors.Is(err, ErrSetupLink) {
			t.Errorf("ParseSetupLink(%q): err %v, want ErrSetupLink", bad, err)
		}
	}
	if _, err := EncodeSetupLink(SetupPayload{URL: "ws://H:80/", BootstrapToken: "x"}); err == nil {
		t.Error("a URL not in normal form was encoded")
	}
}

func TestNormalizeSetupURL(t *testing.T) {
	for in, want := range map[string]string{
		"ws://127.0.0.1:18789":     "ws://127.0.0.1:18789",
		"ws://GW.Example:80/":      "ws://gw.example",
		"wss://gw.example.com:443": "wss://gw.example.com",
		"ws://[::1]:18789":         "ws://[::1]:18789",
		"wss://h:8443/pairdeck/":   "wss://h:8443/pairdeck",
	} {
		if got, err := NormalizeSetupURL(in); err != nil || got != want {
			t.Errorf("NormalizeSetupURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"http://h", "ws://u:p@h", "ws://h?x=1", "h:1"} {
		if _, err := NormalizeSetupURL(bad); err == nil {
			t.Errorf("NormalizeSetupURL(%q) accepted", bad)
		}
	}
}

func TestCodeActorString(t *testing.T) {
	if got := CodeActor("c7k2m9qpx", "cli alice@laptop").String(); got != "code c7k2m9qpx" {
		t.Errorf("CodeActor: %q", got)
	}
}
