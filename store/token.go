package store

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// tokenBytes is the entropy of a node token: 32 bytes, 43 base64url chars.
const tokenBytes = 32

// mintToken returns a fresh token and its hex SHA-256 (what the "hash"
// token storage stores instead of it).
func mintToken() (token, sumHex string, err error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("mint token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(token))
	return token, hex.EncodeToString(sum[:]), nil
}

// setDigest caches the token's SHA-256 for Verify, from the token itself
// or from rec.TokenSHA256.
func (e *pairedEntry) setDigest() {
	e.digest = [32]byte{}
	e.hasToken = false
	if e.rec.Token != "" {
		e.digest = sha256.Sum256([]byte(e.rec.Token))
		e.hasToken = true
		return
	}
	if d, err := hex.DecodeString(e.rec.TokenSHA256); err == nil && len(d) == sha256.Size {
		copy(e.digest[:], d)
		e.hasToken = true
	}
}

// tokenMatches compares digests in constant time. A node without a token
// (or an unknown node, passed as nil) is compared against decoy so a miss
// costs the same as a wrong token.
func tokenMatches(e *pairedEntry, token string, decoy *[32]byte) bool {
	sum := sha256.Sum256([]byte(token))
	want, usable := decoy, false
	if e != nil && e.hasToken {
		want, usable = &e.digest, true
	}
	eq := subtle.ConstantTimeCompare(sum[:], want[:]) == 1
	return eq && usable && token != ""
}
