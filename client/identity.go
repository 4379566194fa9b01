package client

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pairdeck/pairdeck/internal/atomicfile"
	"github.com/pairdeck/pairdeck/internal/statefile"
	"github.com/pairdeck/pairdeck/protocol"
)

// Identity is a device's Ed25519 key pair. DeviceID is derived from the
// public key (protocol.DeviceID); for a node it is also its node id.
type Identity struct {
	DeviceID   string
	PublicKey  ed25519.PublicKey
	PrivateKey ed25519.PrivateKey
}

// String names the identity without its key, so printing one is safe.
func (id *Identity) String() string {
	if id == nil {
		return "identity(none)"
	}
	return "identity " + protocol.Fingerprint(id.DeviceID)
}

// identityFile is the on-disk form, shared with OpenClaw clients (which add
// fields such as createdAtMs; those are accepted and ignored).
type identityFile struct {
	Version       int    `json:"version"`
	DeviceID      string `json:"deviceId"`
	PublicKeyPEM  string `json:"publicKeyPem"`
	PrivateKeyPEM string `json:"privateKeyPem"`
}

// IdentityPath is where a state dir keeps its device identity.
func IdentityPath(stateDir string) string {
	return filepath.Join(stateDir, "identity", "device.json")
}

// NewIdentity generates a fresh identity in memory.
func NewIdentity() (*Identity, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate device key: %w", err)
	}
	return &Identity{DeviceID: protocol.DeviceID(pub), PublicKey: pub, PrivateKey: priv}, nil
}

// LoadOrCreateIdentity loads the identity at path, or creates one there if
// the file does not exist. A file that exists but cannot be used is an error,
// never replaced: the identity is what the gateway knows this device by, and
// a silent new key would orphan its pairing.
func LoadOrCreateIdentity(path string) (*Identity, error) {
	id, err := LoadIdentity(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return id, err
	}
	id, err = NewIdentity()
	if err != nil {
		return nil, err
	}
	data, err := encodeIdentity(id)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Create(path, data); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process created it first; use theirs.
			return LoadIdentity(path)
		}
		return nil, fmt.Errorf("save device identity: %w", err)
	}
	return id, nil
}

// maxIdentityBytes bounds what is read of an identity file (about 600
// bytes when pairdeck writes it).
const maxIdentityBytes = 64 << 10

// LoadIdentity reads an existing identity file (through
// internal/statefile: no link followed, a regular file, bounded). A missing file is an error
// that matches fs.ErrNotExist.
func LoadIdentity(path string) (*Identity, error) {
	data, err := statefile.Read(path, maxIdentityBytes)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no device identity at %s: %w", path, err)
		}
		return nil, fmt.Errorf("read device identity: %w", err)
	}
	id, err := decodeIdentity(data)
	if err != nil {
		return nil, fmt.Errorf("device identity %s is unusable: %v; move it aside to create a new identity "+
			"(a node then has to pair again)", path, err)
	}
	// The file holds a private key: keep it private even if someone
	// loosened it by hand.
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		_ = os.Chmod(path, 0o600)
	}
	return id, nil
}

func encodeIdentity(id *Identity) ([]byte, error) {
	pubDER, err := x509.MarshalPKIXPublicKey(id.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encode device public key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(id.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("encode device private key: %w", err)
	}
	f := identityFile{
		Version:       1,
		DeviceID:      id.DeviceID,
		PublicKeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
		PrivateKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})),
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

func decodeIdentity(data []byte) (*Identity, error) {
	var f identityFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("version is %d, want 1", f.Version)
	}
	priv, err := parsePrivateKeyPEM(f.PrivateKeyPEM)
	if err != nil {
		return nil, err
	}
	pub := priv.Public().(ed25519.PublicKey)
	if f.PublicKeyPEM != "" {
		filePub, err := parsePublicKeyPEM(f.PublicKeyPEM)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(filePub, pub) {
			return nil, errors.New("publicKeyPem does not belong to privateKeyPem")
		}
	}
	want := protocol.DeviceID(pub)
	if !strings.EqualFold(strings.TrimSpace(f.DeviceID), want) {
		return nil, fmt.Errorf("deviceId %q does not match the key (it should be %s)", f.DeviceID, want)
	}
	return &Identity{DeviceID: want, PublicKey: pub, PrivateKey: priv}, nil
}

func parsePrivateKeyPEM(s string) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("privateKeyPem is not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("privateKeyPem is not a PKCS#8 key: %v", err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("privateKeyPem holds a %T, want an Ed25519 key", key)
	}
	return priv, nil
}

func parsePublicKeyPEM(s string) (ed25519.PublicKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("publicKeyPem is not PEM")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("publicKeyPem is not a PKIX key: %v", err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("publicKeyPem holds a %T, want an Ed25519 key", key)
	}
	return pub, nil
}
