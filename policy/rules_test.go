package policy

import (
	"errors"
	"strings"
	"testing"
)

const (
	idA = "c8cf3b318f965532d8f389c41756d48469d877e551bf24bcb67e55e182442e88"
	idB = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
)

func enabled(rules ...Rule) Policy {
	p := Default()
	p.AutoApprove.Enabled = true
	for _, r := range rules {
		if _, err := p.AddRule(r); err != nil {
			panic(err)
		}
	}
	return p
}

func silent(ip, platform, node string, commands ...string) Request {
	return Request{NodeID: node, RemoteIP: ip, Platform: platform, Commands: commands, Silent: true}
}

func TestEachConditionMatchesAndMisses(t *testing.T) {
	cases := []struct {
		name string
		rule Rule
		hit  Request
		miss Request
	}{
		{"loopback v4", Rule{Name: "lo", Loopback: true}, silent("127.0.0.1", "", idA), silent("192.168.1.4", "", idA)},
		{"loopback v6", Rule{Name: "lo", Loopback: true}, silent("::1", "", idA), silent("fe80::1", "", idA)},
		{"loopback 4in6", Rule{Name: "lo", Loopback: true}, silent("::ffff:127.0.0.1", "", idA), silent("", "", idA)},
		{"cidr", Rule{Name: "lan", CIDRs: []string{"10.0.0.0/8", "192.168.7.0/24"}}, silent("192.168.7.20", "", idA), silent("192.168.8.20", "", idA)},
		{"bare address", Rule{Name: "one", CIDRs: []string{"10.1.2.3"}}, silent("10.1.2.3", "", idA), silent("10.1.2.4", "", idA)},
		{"cidr v6", Rule{Name: "ula", CIDRs: []string{"fd00::/8"}}, silent("fd12::7", "", idA), silent("2001:db8::1", "", idA)},
		{"node allowlist", Rule{Name: "ids", NodeIDs: []string{strings.ToUpper(idA)}}, silent("1.2.3.4", "", idA), silent("1.2.3.4", "", idB)},
		{"platform", Rule{Name: "ios", Platforms: []string{" iOS "}}, silent("1.2.3.4", "IOS", idA), silent("1.2.3.4", "android", idA)},
		{"all of them", Rule{Name: "all", Loopback: true, CIDRs: []string{"127.0.0.0/8"}, NodeIDs: []string{idA}, Platforms: []string{"linux"}},
			silent("127.0.0.1", "linux", idA), silent("127.0.0.1", "macos", idA)},
	}
	for _, c := range cases {
		p := enabled(c.rule)
		if r, ok := p.Match(c.hit); !ok || r.Name != c.rule.Name {
			t.Errorf("%s: %+v should match %+v", c.name, c.hit, c.rule)
		}
		if _, ok := p.Match(c.miss); ok {
			t.Errorf("%s: %+v should not match %+v", c.name, c.miss, c.rule)
		}
		notSilent := c.hit
		notSilent.Silent = false
		if _, ok := p.Match(notSilent); ok {
			t.Errorf("%s: a request that is not silent matched", c.name)
		}
	}
}

func TestDisabledPolicyMatchesNothing(t *testing.T) {
	p := enabled(Rule{Name: "lo", Loopback: true})
	p.AutoApprove.Enabled = false
	if _, ok := p.Match(silent("127.0.0.1", "", idA)); ok {
		t.Fatal("a disabled policy approved a request")
	}
}

func TestExecGuard(t *testing.T) {
	p := enabled(Rule{Name: "lo", Loopback: true})
	for _, cmd := range []string{"system.run", "system.run.prepare", "system.which"} {
		if _, ok := p.Match(silent("127.0.0.1", "", idA, "camera.snap", cmd)); ok {
			t.Errorf("%s approved without allowExec", cmd)
		}
	}
	if _, ok := p.Match(silent("127.0.0.1", "", idA, "camera.snap")); !ok {
		t.Error("a request without exec-class commands should match")
	}
	// The first rule that matches decides; a later one may allow exec.
	p = enabled(Rule{Name: "lo", Loopback: true}, Rule{Name: "lo-exec", Loopback: true, AllowExec: true})
	r, ok := p.Match(silent("127.0.0.1", "", idA, "system.run"))
	if !ok || r.Name != "lo-exec" {
		t.Fatalf("got %q %v, want lo-exec", r.Name, ok)
	}
	if r, _ := p.Match(silent("127.0.0.1", "", idA)); r.Name != "lo" {
		t.Fatalf("got %q, want the first rule", r.Name)
	}
}

func TestRulesAreCheckedAndNormalised(t *testing.T) {
	r, err := Rule{Name: "lan", CIDRs: []string{"10.9.8.7/8", "10.0.0.0/8", "::ffff:192.168.0.0/112"},
		NodeIDs: []string{" " + strings.ToUpper(idA)}, Platforms: []string{"IOS", "ios"}}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r.CIDRs, " ") != "10.0.0.0/8 192.168.0.0/16" || r.NodeIDs[0] != idA || len(r.Platforms) != 1 {
		t.Fatalf("normalised: %+v", r)
	}
	bad := []struct {
		rule Rule
		want string
	}{
		{Rule{Name: "open"}, "no condition"},
		{Rule{Name: "open", AllowExec: true}, "no condition"},
		{Rule{Name: "", Loopback: true}, "1 to 64"},
		{Rule{Name: "has space", Loopback: true}, "letters, digits"},
		{Rule{Name: "ssh-check", Loopback: true}, "reserved"},
		{Rule{Name: "TTL", Loopback: true}, "reserved"},
		{Rule{Name: "x", CIDRs: []string{"10.0.0/8"}}, "not an address or prefix"},
		{Rule{Name: "x", NodeIDs: []string{"a b"}}, "whole node id"},
		{Rule{Name: "x", Platforms: []string{" "}}, "empty platform"},
	}
	for _, b := range bad {
		if _, err := b.rule.Normalize(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: got %v, want %q", b.rule, err, b.want)
		}
	}
	// A rule that slipped past validation still never matches everything.
	p := Default()
	p.AutoApprove.Enabled = true
	p.AutoApprove.Rules = []Rule{{Name: "open"}}
	if _, ok := p.Match(silent("127.0.0.1", "", idA)); ok {
		t.Fatal("a rule without conditions matched")
	}
}

func TestAddReplaceRemoveRules(t *testing.T) {
	p := Default()
	if replaced, err := p.AddRule(Rule{Name: "lo", Loopback: true}); err != nil || replaced {
		t.Fatal(replaced, err)
	}
	if replaced, err := p.AddRule(Rule{Name: "LO", Platforms: []string{"ios"}}); err != nil || !replaced {
		t.Fatal(replaced, err)
	}
	if len(p.AutoApprove.Rules) != 1 || p.AutoApprove.Rules[0].Loopback {
		t.Fatalf("replace in place: %+v", p.AutoApprove.Rules)
	}
	if err := p.RemoveRule("nope"); !errors.Is(err, ErrNoRule) {
		t.Fatal(err)
	}
	if err := p.RemoveRule("lo"); err != nil || len(p.AutoApprove.Rules) != 0 {
		t.Fatal(err, p.AutoApprove.Rules)
	}
	dup := Default()
	dup.AutoApprove.Rules = []Rule{{Name: "a", Loopback: true}, {Name: "A", Loopback: true}}
	if _, err := dup.Validate(); err == nil || !strings.Contains(err.Error(), "unique") {
		t.Fatal(err)
	}
}

func TestConditionsInWords(t *testing.T) {
	r := Rule{Name: "x", Loopback: true, CIDRs: []string{"10.0.0.0/8"}, NodeIDs: []string{idA}, Platforms: []string{"ios"}}
	want := "loopback and cidr 10.0.0.0/8 and node c8cf:3b31:8f96 and platform ios"
	if got := r.Conditions(); got != want {
		t.Fatalf("got %q", got)
	}
}
