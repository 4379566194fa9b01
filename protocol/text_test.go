package protocol

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrintableEscapesWhatATerminalActsOn(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Office Mac mini", "Office Mac mini"},
		{"Café ☕ 東京", "Café ☕ 東京"},
		{`C:\nodes`, `C:\nodes`},
		{"\x1b]2;owned\x07", `\x1b]2;owned\x07`},
		{"row\x1b[2K", `row\x1b[2K`},
		{"up\x1b[3A", `up\x1b[3A`},
		{"a\nb\rc\td", `a\x0ab\x0dc\x09d`},
		{"del\x7f", `del\x7f`},
		{"csi\u009b31m", `csi\u009b31m`},
		{"evil\u202egpj.exe", `evil\u202egpj.exe`},
		{"iso\u2066x\u2069", `iso\u2066x\u2069`},
		{"mark\u200f", `mark\u200f`},
		{"line\u2028sep", `line\u2028sep`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"bom\ufeff", `bom\ufeff`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"\x00", `\x00`},
	}
	for _, c := range cases {
		if got := Printable(c.in); got != c.want {
			t.Errorf("Printable(%q) = %q, want %q", c.in, got, c.want)
		}
		if err := CheckText(c.in); (err == nil) != (c.in == c.want) {
			t.Errorf("CheckText(%q) = %v, want an error exactly when Printable changes it", c.in, err)
		}
	}
}

func TestCheckTextSaysWhatAndWhere(t *testing.T) {
	err := CheckText("ok\x1b[2J")
	var ue *UnsafeTextError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnsafeText) {
		t.Fatalf("CheckText: %v, want an *UnsafeTextError wrapping ErrUnsafeText", err)
	}
	if ue.Offset != 2 || ue.Rune != 0x1b || !strings.Contains(err.Error(), `\x1b at byte 2`) {
		t.Fatalf("error %q (offset %d, rune %U): want the escape at byte 2 named", err, ue.Offset, ue.Rune)
	}
	if err := CheckText("a\u202eb"); err == nil || !strings.Contains(err.Error(), "bidirectional") {
		t.Fatalf("CheckText(bidi) = %v", err)
	}
}

func TestCleanName(t *testing.T) {
	if got, err := CleanName("  Living Room iPad  "); err != nil || got != "Living Room iPad" {
		t.Fatalf("CleanName = %q, %v", got, err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("é", MaxNameRunes+1), "a\u202eb", "a\u200bb", "a\u2028b", "a\u200db", "a\u200cb", "tab\there"} {
		if _, err := CleanName(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("CleanName(%q) = %v, want ErrBadName", bad, err)
		}
	}
	if _, err := CleanName(strings.Repeat("é", MaxNameRunes)); err != nil {
		t.Fatalf("a name of exactly %d characters: %v", MaxNameRunes, err)
	}
}

func TestNodeMetaCleanNamesTheField(t *testing.T) {
	cases := map[string]NodeMeta{
		"displayName":     {DisplayName: "x\x1by"},
		"platform":        {Platform: "linux\x1b]52;c;aGk=\x07"},
		"version":         {Version: "1\x1b[3A"},
		"coreVersion":     {CoreVersion: "\u202e"},
		"uiVersion":       {UIVersion: "\x07"},
		"deviceFamily":    {DeviceFamily: "\x9b"},
		"modelIdentifier": {ModelIdentifier: "m\x00"},
		"remoteIp":        {RemoteIP: "1.2.3.4\x1b[2K"},
		"caps[1]":         {Caps: []string{"ok", "\x1b"}},
		"commands[0]":     {Commands: []string{"system.run\x1b[1A"}},
		"commands":        {Commands: make([]string, MaxListLen+1)},
		"platform ":       {Platform: strings.Repeat("p", MaxFieldLen+1)},
	}
	for field, m := range cases {
		_, err := m.Clean()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != strings.TrimSpace(field) || !errors.Is(err, ErrInvalidField) {
			t.Errorf("%s: Clean() = %v, want a FieldError naming %q", field, err, strings.TrimSpace(field))
		}
	}
	in := NodeMeta{DisplayName: " n ", Caps: []string{"a"}}
	out, err := in.Clean()
	if err != nil || out.DisplayName != "n" {
		t.Fatalf("Clean = %+v, %v", out, err)
	}
	out.Caps[0] = "changed"
	if in.Caps[0] != "a" {
		t.Fatal("Clean shares the caller's list")
	}
}

func TestNodeMetaMerge(t *testing.T) {
	m := NodeMeta{DisplayName: "a", Platform: "ios", Caps: []string{"x"}, Commands: []string{"y"}}
	m.Merge(NodeMeta{Platform: "ipados", Caps: []string{}})
	if m.DisplayName != "a" || m.Platform != "ipados" || len(m.Caps) != 0 || m.Commands[0] != "y" {
		t.Fatalf("Merge = %+v", m)
	}
}

func TestExpiresAt(t *testing.T) {
	if _, ok := (PendingRequest{TS: 1000}).ExpiresAt(); ok {
		t.Fatal("a request without expiresAtMs must have no expiry, not a made-up one")
	}
	at, ok := PendingRequest{TS: 1000, ExpiresAtMs: 301000}.ExpiresAt()
	if !ok || at.UnixMilli() != 301000 {
		t.Fatalf("ExpiresAt = %v, %v", at, ok)
	}
}

// FuzzPrintable: whatever the input, the output holds nothing a terminal
// acts on, is valid UTF-8, is unchanged by a second pass, and equals the
// input exactly when CheckText accepts it.
func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b]2;x\x07", "\u202e", "\xff\xfe", "é\u0085"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Printable(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Printable(%q) = %q is not UTF-8", s, out)
		}
		for _, r := range out {
			if unsafeRune(r) {
				t.Fatalf("Printable(%q) = %q still holds %U", s, out, r)
			}
		}
		if Printable(out) != out {
			t.Fatalf("Printable is not stable on %q", out)
		}
		if (CheckText(s) == nil) != (out == s) {
			t.Fatalf("CheckText(%q) disagrees with Printable", s)
		}
	})
}
