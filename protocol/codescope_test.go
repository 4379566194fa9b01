package protocol

import (
	"errors"
	"strings"
	"testing"
)

func TestCodeScopeFits(t *testing.T) {
	linux := NodeMeta{DisplayName: "lab-7", Platform: "linux", Commands: []string{"system.notify"}}
	mac := NodeMeta{DisplayName: "studio", Platform: "darwin"}
	exec := NodeMeta{DisplayName: "lab-8", Platform: "linux", Commands: []string{"system.notify", "system.run"}}
	cases := []struct {
		name  string
		scope CodeScope
		meta  NodeMeta
		ip    string
		fits  bool
		why   string
	}{
		{"empty scope", CodeScope{}, linux, "10.0.0.1", true, ""},
		{"exact name", CodeScope{Name: "lab-7"}, linux, "", true, ""},
		{"other name", CodeScope{Name: "lab-7"}, mac, "", false, `named "lab-7", and this one is named "studio"`},
		{"name is case sensitive", CodeScope{Name: "Lab-7"}, linux, "", false, "named"},
		{"prefix", CodeScope{NamePrefix: "lab-"}, linux, "", true, ""},
		{"prefix miss", CodeScope{NamePrefix: "lab-"}, mac, "", false, `starts with "lab-"`},
		{"platform", CodeScope{Platforms: []string{"Linux"}}, linux, "", true, ""},
		{"darwin is macos", CodeScope{Platforms: []string{"macOS"}}, mac, "", true, ""},
		{"win32 is windows", CodeScope{Platforms: []string{"windows"}}, NodeMeta{Platform: "win32"}, "", true, ""},
		{"versioned platform", CodeScope{Platforms: []string{"macos"}}, NodeMeta{Platform: "macOS 14.2"}, "", true, ""},
		{"platform miss", CodeScope{Platforms: []string{"linux", "windows"}}, mac, "", false, `linux or windows nodes, and this one declares platform "darwin"`},
		{"no platform", CodeScope{Platforms: []string{"linux"}}, NodeMeta{}, "", false, `platform "none"`},
		{"cidr", CodeScope{CIDRs: []string{"10.0.0.0/8"}}, linux, "10.1.2.3", true, ""},
		{"cidr with port", CodeScope{CIDRs: []string{"10.0.0.0/8"}}, linux, "10.1.2.3:5555", true, ""},
		{"mapped v4", CodeScope{CIDRs: []string{"10.0.0.0/8"}}, linux, "[::ffff:10.1.2.3]:5555", true, ""},
		{"v6", CodeScope{CIDRs: []string{"fd00::/8"}}, linux, "fd12::1", true, ""},
		{"single address", CodeScope{CIDRs: []string{"192.168.1.9"}}, linux, "192.168.1.9", true, ""},
		{"cidr miss", CodeScope{CIDRs: []string{"10.0.0.0/8"}}, linux, "192.168.1.9", false, "connects from 192.168.1.9"},
		{"unknown address", CodeScope{CIDRs: []string{"10.0.0.0/8"}}, linux, "", false, "address is not known"},
		{"exec refused", CodeScope{}, exec, "", false, "without allowing exec"},
		{"exec allowed", CodeScope{AllowExec: true}, exec, "", true, ""},
	}
	for _, c := range cases {
		fits, why := c.scope.Fits(c.meta, c.ip)
		if fits != c.fits || !strings.Contains(why, c.why) || (fits && why != "") {
			t.Errorf("%s: Fits = %v %q, want %v containing %q", c.name, fits, why, c.fits, c.why)
		}
	}
}

func TestCodeScopeCheck(t *testing.T) {
	good := []CodeScope{{}, {Name: "lab"}, {NamePrefix: "lab-"}, {Platforms: []string{"linux"}, CIDRs: []string{"10.0.0.0/8", "::1", "fd00::/8"}}}
	for _, s := range good {
		if err := s.Check(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	bad := map[string]CodeScope{
		"scope.name":         {Name: "a", NamePrefix: "b"},
		"scope.name ":        {Name: "bad\u202ename"},
		"scope.namePrefix":   {NamePrefix: "x\x1b[2J"},
		"scope.platforms[1]": {Platforms: []string{"linux", " "}},
		"scope.cidrs[0]":     {CIDRs: []string{"10.0.0.0/33"}},
		"scope.cidrs":        {CIDRs: make([]string, CodeMaxScopeItems+1)},
	}
	for field, s := range bad {
		err := s.Check()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != strings.TrimSpace(field) || !errors.Is(err, ErrInvalidField) {
			t.Errorf("%s: %v", field, err)
		}
	}
	for _, p := range []CodeCreateParams{{TTLMs: -1}, {TTLMs: CodeMaxTTLMs + 1}, {MaxUses: CodeMaxUses + 1}, {Note: strings.Repeat("x", MaxReasonLen+1)}} {
		if err := p.Check(); !errors.Is(err, ErrInvalidField) {
			t.Errorf("%+v: %v", p, err)
		}
	}
	if err := (CodeCreateParams{TTLMs: CodeMaxTTLMs, MaxUses: CodeMaxUses, Note: "for the lab"}).Check(); err != nil {
		t.Error(err)
	}
}
