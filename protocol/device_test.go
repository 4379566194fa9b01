package protocol

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

func TestSignedPayloadFormat(t *testing.T) {
	p := SignedPayload{
		DeviceID: "dev", ClientID: "cli", ClientMode: "cli", Role: "operator",
		Scopes: []string{"operator.admin", "operator.read"}, SignedAtMs: 1795262299117,
		Token: "tok", Nonce: "n-1", Platform: "  Linux ", DeviceFamily: "iPad",
	}
	want := "v3|dev|cli|cli|operator|operator.admin,operator.read|1795262299117|tok|n-1|linux|ipad"
	if got := p.String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestVerifyDevice(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.UnixMilli(1795262299117)
	base := SignedPayload{ClientID: "node-host", ClientMode: "node", Role: RoleNode, SignedAtMs: now.UnixMilli(), Nonce: "abc", Platform: "linux"}
	d := SignDevice(priv, base)
	if len(d.ID) != 64 || d.ID != DeviceID(priv.Public().(ed25519.PublicKey)) {
		t.Fatalf("device id %q", d.ID)
	}
	if err := VerifyDevice(d, "abc", now.Add(SignatureSkew), base); err != nil {
		t.Fatalf("valid signature at the skew edge refused: %v", err)
	}

	// An older client signing the v2 payload (no platform/deviceFamily) is
	// accepted; v2 over the wrong nonce is not.
	v2 := base
	v2.DeviceID = d.ID
	v2sig := ed25519.Sign(priv, []byte(v2.v2()))
	dv2 := d
	dv2.Signature = base64.RawURLEncoding.EncodeToString(v2sig)
	if err := VerifyDevice(dv2, "abc", now, base); err != nil {
		t.Fatalf("v2 signature refused: %v", err)
	}
	if err := VerifyDevice(dv2, "abc", now, SignedPayload{ClientID: "other", ClientMode: "node", Role: RoleNode}); !errors.Is(err, ErrDeviceSignature) {
		t.Fatalf("v2 signature over other fields accepted: %v", err)
	}

	tampered := base
	tampered.Role = RoleOperator
	check := func(name string, d DeviceAuth, nonce string, at time.Time, p SignedPayload, want error) {
		t.Helper()
		if err := VerifyDevice(d, nonce, at, p); !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", name, err, want)
		}
	}
	check("wrong nonce", d, "other", now, base, ErrDeviceNonce)
	check("stale", d, "abc", now.Add(SignatureSkew+time.Millisecond), base, ErrDeviceStale)
	check("future", d, "abc", now.Add(-SignatureSkew-time.Millisecond), base, ErrDeviceStale)
	check("tampered payload", d, "abc", now, tampered, ErrDeviceSignature)
	bad := d
	bad.ID = "00" + d.ID[2:]
	check("claims another id", bad, "abc", now, base, ErrDeviceID)
	bad = d
	bad.PublicKey = "!!"
	check("garbage key", bad, "abc", now, base, ErrDeviceKey)
}

func TestApproveScopes(t *testing.T) {
	cases := []struct {
		cmds []string
		want []string
	}{
		{nil, []string{ScopePairing}},
		{[]string{"system.notify"}, []string{ScopePairing, ScopeWrite}},
		{[]string{"system.notify", "system.which"}, []string{ScopePairing, ScopeAdmin}},
	}
	for _, c := range cases {
		got := RequiredApproveScopes(c.cmds)
		if len(got) != len(c.want) || got[0] != c.want[0] || got[len(got)-1] != c.want[len(c.want)-1] {
			t.Errorf("%v: got %v want %v", c.cmds, got, c.want)
		}
	}
	if MissingScope([]string{ScopePairing}, []string{ScopePairing, ScopeAdmin}) != ScopeAdmin {
		t.Error("pairing-only operator must lack admin")
	}
	if MissingScope([]string{ScopeAdmin}, []string{ScopePairing, ScopeWrite}) != "" {
		t.Error("admin satisfies every scope")
	}
	if Fingerprint("c8cf3b318f965532") != "c8cf:3b31:8f96" {
		t.Error(Fingerprint("c8cf3b318f965532"))
	}
}
