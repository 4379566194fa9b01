package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// codeNode is a node asking with a code, from remoteIP.
func codeNode(nodeID, name, code string) RequestInput {
	return RequestInput{NodeID: nodeID, Code: code, NodeMeta: protocol.NodeMeta{
		DisplayName: name, Platform: "linux", Commands: []string{"system.notify"}, RemoteIP: "10.0.0.7"}}
}

func mustCreateCode(t testing.TB, s *Store, p protocol.CodeCreateParams) (protocol.SetupCode, string) {
	t.Helper()
	c, secret, err := s.CreateCode(ctx, operator, p, nil)
	if err != nil {
		t.Fatalf("create code: %v", err)
	}
	return c, secret
}

func mustRedeem(t testing.TB, s *Store, in RequestInput) RequestOutcome {
	t.Helper()
	out, err := s.RequestWithCode(ctx, node, in, nil, nil)
	if err != nil {
		t.Fatalf("request with code: %v", err)
	}
	return out
}

// lastAudit is the newest audit line with action.
func lastAudit(t testing.TB, s *Store, action string) map[string]any {
	t.Helper()
	lines := auditLines(t, s)
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i]["action"] == action {
			return lines[i]
		}
	}
	t.Fatalf("no %s line in the audit log", action)
	return nil
}

func TestCodeLifecycle(t *testing.T) {
	s, clk := openTest(t)
	var created protocol.SetupCode
	code, secret, err := s.CreateCode(ctx, operator, protocol.CodeCreateParams{Note: "rack 3"}, func(c protocol.SetupCode) { created = c })
	if err != nil {
		t.Fatal(err)
	}
	if canon, err := protocol.NormalizeCode(secret); err != nil || canon != secret {
		t.Fatalf("secret %q is not canonical: %v", secret, err)
	}
	if created.ID != code.ID || code.Prefix != secret[:4] || code.MaxUses != 1 || code.Uses != 0 ||
		code.ExpiresAtMs != clk.Ms()+protocol.CodeDefaultTTLMs || code.CreatedBy != operator.String() || code.Note != "rack 3" {
		t.Fatalf("created %+v (hook %+v)", code, created)
	}
	if l := s.ListCodes(false); len(l) != 1 || l[0].ID != code.ID {
		t.Fatalf("list: %+v", l)
	}
	cl := lastAudit(t, s, "code.created")
	if c := cl["code"].(map[string]any); c["id"] != code.ID || c["prefix"] != code.Prefix || strings.Contains(string(readFile(t, filepath.Join(s.Dir(), auditFile))), secret[5:]) {
		t.Fatalf("code.created line: %v", cl)
	}

	// A node in scope is approved in the same op; its token works.
	clk.Add(time.Second)
	out := mustRedeem(t, s, codeNode("n1", "lab-1", strings.ToLower(secret)))
	if !out.Approved || out.Repeat || out.Refusal != nil || out.Node.NodeID != "n1" || out.Node.Token == "" || out.Code == nil || out.Code.Uses != 1 {
		t.Fatalf("outcome %+v", out)
	}
	if _, ok := s.Verify("n1", out.Node.Token); !ok {
		t.Fatal("the code's token does not verify")
	}
	if len(s.Pending()) != 0 {
		t.Fatal("an approved request is still pending")
	}
	if c, _ := s.CodeByID(code.ID); c.Uses != 1 || c.LastUsedAtMs != clk.Ms() || len(c.UsedBy) != 1 || c.UsedBy[0] != "n1" || c.State(clk.Ms()) != protocol.CodeUsedUp {
		t.Fatalf("code after its use: %+v", c)
	}
	ap := lastAudit(t, s, "approved")
	actor := ap["actor"].(map[string]any)
	if actor["kind"] != "code" || actor["code"] != code.ID || actor["createdBy"] != operator.String() || ap["nodeId"] != "n1" {
		t.Fatalf("approval line: %v", ap)
	}
	hc, err := s.History(protocol.HistoryQuery{Actions: []string{"code.created"}})
	if err != nil || len(hc.Events) != 1 || hc.Events[0].Fields["code"] == nil || strings.Contains(string(hc.Events[0].Fields["code"]), secret[5:]) {
		t.Fatalf("history of code.created: %+v %v", hc, err)
	}
	h, err := s.History(protocol.HistoryQuery{NodeID: "n1"})
	if err != nil || len(h.Events) < 2 || h.Events[0].Action != "approved" || h.Events[0].Actor.String() != "code "+code.ID {
		t.Fatalf("history: %+v %v", h, err)
	}

	// A second node: used up; its request waits for a person.
	out2 := mustRedeem(t, s, codeNode("n2", "lab-2", secret))
	if out2.Approved || out2.Refusal == nil || out2.Refusal.Reason != protocol.ReasonCodeUsedUp || !strings.Contains(out2.Refusal.Message, "used 1 of 1") {
		t.Fatalf("second use: %+v", out2)
	}
	if p, ok := s.PendingForNode("n2"); !ok || p.RequestID != out2.Request.RequestID || !out2.Created {
		t.Fatalf("the refused request is not queued: %+v", out2)
	}
	if r := lastAudit(t, s, "code.refused"); r["refusal"] != protocol.ReasonCodeUsedUp || r["nodeId"] != "n2" {
		t.Fatalf("refusal line: %v", r)
	}

	// The first node again (it never heard its approval): approved again,
	// fresh token, no use counted.
	again := mustRedeem(t, s, codeNode("n1", "lab-1", secret))
	if !again.Approved || !again.Repeat || again.Code.Uses != 1 || again.Node.Token == out.Node.Token {
		t.Fatalf("repeat: %+v", again)
	}
	if _, ok := s.Verify("n1", again.Node.Token); !ok {
		t.Fatal("the repeat's token does not verify")
	}
	if _, ok := s.Verify("n1", out.Node.Token); ok {
		t.Fatal("the first token still verifies")
	}
	if ap := lastAudit(t, s, "approved"); ap["repeat"] != true {
		t.Fatalf("repeat approval line: %v", ap)
	}
}

func TestCodeExpiredRevokedInvalid(t *testing.T) {
	s, clk := openTest(t)
	short, shortSecret := mustCreateCode(t, s, protocol.CodeCreateParams{TTLMs: 60_000, MaxUses: 5})
	clk.Add(time.Millisecond)
	revoked, revokedSecret := mustCreateCode(t, s, protocol.CodeCreateParams{MaxUses: 5})

	used := mustRedeem(t, s, codeNode("n0", "lab-0", revokedSecret))
	if !used.Approved {
		t.Fatalf("first use: %+v", used)
	}
	res, err := s.RevokeCode(ctx, operator, revoked.ID, "laptop lost", nil)
	if err != nil || !res.Revoked || res.Code.RevokedAtMs != clk.Ms() || res.Code.RevokedBy != operator.String() || res.Code.State(clk.Ms()) != protocol.CodeRevoked {
		t.Fatalf("revoke: %+v %v", res, err)
	}
	if l := lastAudit(t, s, "code.revoked"); l["reason"] != "laptop lost" {
		t.Fatalf("revoke line: %v", l)
	}
	again, err := s.RevokeCode(ctx, operator, revoked.ID, "", nil)
	if err != nil || again.Revoked || again.Code.RevokedAtMs != res.Code.RevokedAtMs {
		t.Fatalf("second revoke: %+v %v", again, err)
	}
	if _, err := s.RevokeCode(ctx, operator, "cnothere1", "", nil); !errors.Is(err, ErrUnknownCode) {
		t.Fatalf("revoke unknown: %v", err)
	}
	if _, err := s.RevokeCode(ctx, operator, revoked.ID, "bad\x1b[2J", nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("revoke with an unsafe reason: %v", err)
	}
	for _, in := range []RequestInput{codeNode("n1", "lab-1", revokedSecret), codeNode("n0", "lab-0", revokedSecret)} {
		if out := mustRedeem(t, s, in); out.Approved || out.Refusal == nil || out.Refusal.Reason != protocol.ReasonCodeRevoked {
			t.Fatalf("revoked code for %s: %+v", in.NodeID, out)
		}
	}

	clk.Add(time.Minute)
	out := mustRedeem(t, s, codeNode("n2", "lab-2", shortSecret))
	if out.Approved || out.Refusal == nil || out.Refusal.Reason != protocol.ReasonCodeExpired || out.Code.ID != short.ID {
		t.Fatalf("expired code: %+v", out)
	}
	for _, bad := range []string{"AAAA-AAAA-AAAA-AAAA-AAAA", "not a code", strings.Repeat("x", 100)} {
		out := mustRedeem(t, s, codeNode("n3", "lab-3", bad))
		if out.Approved || out.Refusal == nil || out.Refusal.Reason != protocol.ReasonCodeInvalid || out.Code != nil {
			t.Fatalf("code %q: %+v", bad, out)
		}
		if _, ok := s.PendingForNode("n3"); !ok {
			t.Fatal("a request with an unknown code is not queued")
		}
	}
	// Lists: active only by default; ended ones with all.
	if l := s.ListCodes(false); len(l) != 0 {
		t.Fatalf("active codes: %+v", l)
	}
	if l := s.ListCodes(true); len(l) != 2 || l[0].ID != revoked.ID {
		t.Fatalf("all codes, newest first: %+v", l)
	}
}

func TestCodeScopeAndExecGuard(t *testing.T) {
	s, _ := openTest(t)
	cases := []struct {
		scope protocol.CodeScope
		in    RequestInput
		fits  bool
	}{
		{protocol.CodeScope{Name: "lab-1"}, codeNode("a1", "lab-1", ""), true},
		{protocol.CodeScope{Name: "lab-1"}, codeNode("a2", "lab-2", ""), false},
		{protocol.CodeScope{NamePrefix: "lab-"}, codeNode("b1", "lab-9", ""), true},
		{protocol.CodeScope{NamePrefix: "lab-"}, codeNode("b2", "office", ""), false},
		{protocol.CodeScope{Platforms: []string{"Linux"}}, codeNode("c1", "x", ""), true},
		{protocol.CodeScope{Platforms: []string{"macos"}}, codeNode("c2", "x", ""), false},
		{protocol.CodeScope{CIDRs: []string{"10.0.0.0/24"}}, codeNode("d1", "x", ""), true},
		{protocol.CodeScope{CIDRs: []string{"192.168.0.0/16"}}, codeNode("d2", "x", ""), false},
	}
	execNode := codeNode("e1", "x", "")
	execNode.Commands = []string{"system.run"}
	cases = append(cases,
		struct {
			scope protocol.CodeScope
			in    RequestInput
			fits  bool
		}{protocol.CodeScope{}, execNode, false},
		struct {
			scope protocol.CodeScope
			in    RequestInput
			fits  bool
		}{protocol.CodeScope{AllowExec: true}, func() RequestInput { n := execNode; n.NodeID = "e2"; return n }(), true})
	for _, c := range cases {
		code, secret := mustCreateCode(t, s, protocol.CodeCreateParams{Scope: c.scope})
		c.in.Code = secret
		out := mustRedeem(t, s, c.in)
		if out.Approved != c.fits {
			t.Fatalf("%s with scope %+v: %+v", c.in.NodeID, c.scope, out)
		}
		if !c.fits {
			if out.Refusal == nil || out.Refusal.Reason != protocol.ReasonCodeOutOfScope {
				t.Fatalf("%s: refusal %+v", c.in.NodeID, out.Refusal)
			}
			if c2, _ := s.CodeByID(code.ID); c2.Uses != 0 {
				t.Fatalf("an out-of-scope request used the code: %+v", c2)
			}
		}
	}
	// A block (the gateway's check) refuses the request; the code is
	// untouched.
	code, secret := mustCreateCode(t, s, protocol.CodeCreateParams{})
	blocked := errors.New("node is blocked")
	if _, err := s.RequestWithCode(ctx, node, codeNode("z1", "x", secret), func(string) error { return blocked }, nil); !errors.Is(err, blocked) {
		t.Fatalf("blocked: %v", err)
	}
	if c, _ := s.CodeByID(code.ID); c.Uses != 0 {
		t.Fatalf("a blocked node used the code: %+v", c)
	}
	if _, ok := s.PendingForNode("z1"); ok {
		t.Fatal("a blocked node's request was queued")
	}
	// Bad params are refused, naming the field.
	if _, _, err := s.CreateCode(ctx, operator, protocol.CodeCreateParams{Scope: protocol.CodeScope{CIDRs: []string{"nonsense"}}}, nil); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "scope.cidrs[0]") {
		t.Fatalf("bad cidr: %v", err)
	}
}

func TestCodesSurviveRestartAndStayOffDisk(t *testing.T) {
	s, clk := openTest(t)
	code, secret := mustCreateCode(t, s, protocol.CodeCreateParams{MaxUses: 2, Scope: protocol.CodeScope{NamePrefix: "lab-"}})
	s = reopen(t, s, clk) // the code is in the journal and codes.json
	if c, ok := s.CodeByID(code.ID); !ok || c.Scope.NamePrefix != "lab-" {
		t.Fatalf("after a restart: %+v %v", c, ok)
	}
	if out := mustRedeem(t, s, codeNode("n1", "lab-1", secret)); !out.Approved {
		t.Fatalf("use after a restart: %+v", out)
	}
	// Without a checkpoint: the use is in the journal only.
	st := durable(t, s)
	if e := st.codes.byID[code.ID]; e == nil || e.rec.Uses != 1 {
		t.Fatalf("durable state: %+v", e)
	}
	s = reopen(t, s, clk)
	if out := mustRedeem(t, s, codeNode("n2", "lab-2", secret)); !out.Approved || out.Code.Uses != 2 {
		t.Fatalf("second use after a restart: %+v", out)
	}
	if out := mustRedeem(t, s, codeNode("n3", "lab-3", secret)); out.Approved {
		t.Fatalf("third use of a two-use code: %+v", out)
	}
	checkpoint(t, s)
	fi, err := os.Stat(filepath.Join(s.Dir(), codesFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("codes.json: %v %v", fi, err)
	}
	// Neither the secret nor its letters without dashes are anywhere.
	plain := strings.ReplaceAll(secret, "-", "")
	filepath.Walk(s.stateDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(plain)) || bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(plain))) {
			t.Fatalf("%s holds the secret", path)
		}
		return nil
	})
}

func TestCodeRetentionAndCap(t *testing.T) {
	s, clk := openTest(t)
	old, _ := mustCreateCode(t, s, protocol.CodeCreateParams{TTLMs: 1000})
	clk.Add(codeRetention)
	if l := s.ListCodes(true); len(l) != 1 {
		t.Fatalf("an ended code within its retention: %+v", l)
	}
	clk.Add(2 * time.Second)
	if l := s.ListCodes(true); len(l) != 0 {
		t.Fatalf("a code past its retention is listed: %+v", l)
	}
	mustCreateCode(t, s, protocol.CodeCreateParams{})
	if _, ok := s.CodeByID(old.ID); ok {
		t.Fatal("create did not drop a code past its retention")
	}
	if lastAudit(t, s, "code.created") == nil {
		t.Fatal("no audit")
	}
	// The cap on active codes.
	errs := make(chan error, protocol.CodeMaxActive)
	for range protocol.CodeMaxActive - 1 {
		go func() {
			_, _, err := s.CreateCode(ctx, operator, protocol.CodeCreateParams{}, nil)
			errs <- err
		}()
	}
	for range protocol.CodeMaxActive - 1 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.CreateCode(ctx, operator, protocol.CodeCreateParams{}, nil); !errors.Is(err, ErrTooManyCodes) || !strings.Contains(err.Error(), "revoke some") {
		t.Fatalf("over the cap: %v", err)
	}
	first := s.ListCodes(false)[0]
	if _, err := s.RevokeCode(ctx, operator, first.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	mustCreateCode(t, s, protocol.CodeCreateParams{})
}

func TestDecisionReasons(t *testing.T) {
	s, _ := openTest(t)
	r1 := mustRequest(t, s, RequestInput{NodeID: "n1"})
	if _, _, err := s.ApproveWithReason(ctx, operator, r1.RequestID, "known laptop", nil, nil); err != nil {
		t.Fatal(err)
	}
	r2 := mustRequest(t, s, RequestInput{NodeID: "n2"})
	if _, err := s.RejectWithReason(ctx, operator, r2.RequestID, "unknown device", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveWithReason(ctx, operator, "n1", "retired", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Audit(ctx, operator, "blocked", map[string]any{"nodeId": "n3", "reason": "scanner"}); err != nil {
		t.Fatal(err)
	}
	h, err := s.History(protocol.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"approved n1": "known laptop", "rejected n2": "unknown device", "removed n1": "retired", "blocked n3": "scanner"}
	for _, ev := range h.Events {
		if r, ok := want[ev.Action+" "+ev.NodeID]; ok {
			if ev.Reason != r {
				t.Fatalf("%s %s: reason %q, want %q", ev.Action, ev.NodeID, ev.Reason, r)
			}
			delete(want, ev.Action+" "+ev.NodeID)
		}
	}
	if len(want) != 0 {
		t.Fatalf("missing from history: %v", want)
	}
	r3 := mustRequest(t, s, RequestInput{NodeID: "n3"})
	if _, err := s.RejectWithReason(ctx, operator, r3.RequestID, strings.Repeat("x", protocol.MaxReasonLen+1), nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("long reason: %v", err)
	}
	if err := s.Audit(ctx, operator, "blocked", map[string]any{"reason": "a\u202eb"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unsafe reason: %v", err)
	}
}
