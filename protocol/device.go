package protocol

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureSkew is how far signedAt may stray from the gateway's clock.
const SignatureSkew = 2 * time.Minute

// DeviceID is the lowercase hex SHA-256 of a raw Ed25519 public key.
func DeviceID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:])
}

// Fingerprint is a short, human-comparable form of a node id, shown beside
// names so an operator can match a request to the device in hand.
func Fingerprint(nodeID string) string {
	id := strings.ToLower(nodeID)
	if len(id) < 12 {
		return id
	}
	return id[0:4] + ":" + id[4:8] + ":" + id[8:12]
}

// SignedPayload is the v3 string a device signs during connect.
type SignedPayload struct {
	DeviceID     string
	ClientID     string
	ClientMode   string
	Role         string
	Scopes       []string
	SignedAtMs   int64
	Token        string
	Nonce        string
	Platform     string
	DeviceFamily string
}

// String renders the exact bytes that are signed.
func (p SignedPayload) String() string {
	return strings.Join([]string{
		"v3", p.DeviceID, p.ClientID, p.ClientMode, p.Role,
		strings.Join(p.Scopes, ","), strconv.FormatInt(p.SignedAtMs, 10),
		p.Token, p.Nonce, normalizeMeta(p.Platform), normalizeMeta(p.DeviceFamily),
	}, "|")
}

// v2 is the older payload, without platform and device family. Protocol-3
// clients that predate v3 still sign it, and OpenClaw gateways accept it.
func (p SignedPayload) v2() string {
	return strings.Join([]string{
		"v2", p.DeviceID, p.ClientID, p.ClientMode, p.Role,
		strings.Join(p.Scopes, ","), strconv.FormatInt(p.SignedAtMs, 10),
		p.Token, p.Nonce,
	}, "|")
}

// normalizeMeta trims and ASCII-lower-cases platform and device family.
func normalizeMeta(s string) string {
	s = strings.TrimSpace(s)
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// SignDevice builds connect's device block for priv over payload.
func SignDevice(priv ed25519.PrivateKey, p SignedPayload) DeviceAuth {
	pub := priv.Public().(ed25519.PublicKey)
	p.DeviceID = DeviceID(pub)
	sig := ed25519.Sign(priv, []byte(p.String()))
	return DeviceAuth{
		ID:        p.DeviceID,
		PublicKey: base64.RawURLEncoding.EncodeToString(pub),
		Signature: base64.RawURLEncoding.EncodeToString(sig),
		SignedAt:  p.SignedAtMs,
		Nonce:     p.Nonce,
	}
}

// Device verification failures, each a distinct reason a client can act on.
var (
	ErrDeviceKey       = errors.New("device publicKey is not a base64url Ed25519 key")
	ErrDeviceID        = errors.New("device id does not match its public key")
	ErrDeviceNonce     = errors.New("device nonce does not match the challenge")
	ErrDeviceStale     = errors.New("device signedAt is more than 2 minutes from the gateway's clock")
	ErrDeviceSignature = errors.New("device signature does not verify")
)

// VerifyDevice checks a device block against the challenge nonce, the
// gateway's clock and the signed payload (whose DeviceID, SignedAtMs and
// Nonce are taken from d). The v3 payload is tried first, then v2, as
// OpenClaw gateways do.
func VerifyDevice(d DeviceAuth, challengeNonce string, now time.Time, p SignedPayload) error {
	pub, err := decodeB64URL(d.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return ErrDeviceKey
	}
	if DeviceID(pub) != strings.ToLower(d.ID) || d.ID == "" {
		return ErrDeviceID
	}
	if d.Nonce != challengeNonce {
		return ErrDeviceNonce
	}
	skew := now.Sub(time.UnixMilli(d.SignedAt))
	if skew > SignatureSkew || skew < -SignatureSkew {
		return fmt.Errorf("%w (off by %s)", ErrDeviceStale, skew.Round(time.Second))
	}
	sig, err := decodeB64URL(d.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return ErrDeviceSignature
	}
	p.DeviceID, p.SignedAtMs, p.Nonce = d.ID, d.SignedAt, d.Nonce
	if !ed25519.Verify(pub, []byte(p.String()), sig) && !ed25519.Verify(pub, []byte(p.v2()), sig) {
		return ErrDeviceSignature
	}
	return nil
}

// decodeB64URL accepts base64url with or without padding.
func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
