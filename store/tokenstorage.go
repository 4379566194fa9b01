package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/titanous/json5"

	"github.com/pairdeck/pairdeck/internal/statefile"
)

// Token storage: how paired.json keeps a node's token, and with it whose
// record format the files follow.
//
//   - "hash" (pairdeck's own): only the token's SHA-256 is stored
//     (tokenSha256), and records carry pairdeck's fields (renamedAtMs, so a
//     name an operator chose survives the node's requests; isRepair). A
//     stolen paired.json does not let anyone act as a node. OpenClaw
//     2026.4.12 and 2026.7.35 cannot verify such a token.
//   - "openclaw": records exactly as OpenClaw 2026.4.12 and 2026.7.35 write
//     them (openclawformat.go): the plaintext token (the file stays 0600),
//     OpenClaw's member order, nothing OpenClaw does not write. OpenClaw's
//     gateway can take the dir over at any time. The cost: whoever can read
//     paired.json can act as any node, and a name an operator chose is kept
//     as OpenClaw keeps it (a node's own request may rename a request, and
//     an approval takes the request's name).
//
// A state dir OpenClaw has used (DetectTokenStorage) gets "openclaw", any
// other "hash", unless Options.TokenStorage says. The storage decides the
// form of tokens minted from now on and the format of records written
// from now on; a record nobody changes keeps its bytes, and so its token's
// form. Changing the form of every token is ConvertTokens, an explicit
// step, never a side effect of a write.

// TokenStorage is how node tokens (and records) are stored.
type TokenStorage string

const (
	// TokenStorageAuto (the zero value) lets Open decide by the state
	// dir (DetectTokenStorage).
	TokenStorageAuto     TokenStorage = ""
	TokenStorageHash     TokenStorage = "hash"
	TokenStorageOpenClaw TokenStorage = "openclaw"
)

// ParseTokenStorage reads a --token-storage value.
func ParseTokenStorage(s string) (TokenStorage, error) {
	switch t := TokenStorage(strings.ToLower(strings.TrimSpace(s))); t {
	case TokenStorageHash, TokenStorageOpenClaw:
		return t, nil
	}
	return "", fmt.Errorf("%w: token storage %q: want hash (pairdeck keeps only each token's SHA-256) or openclaw (plaintext tokens, as OpenClaw 2026.4.12 and 2026.7.35 read them)", ErrInvalid, s)
}

// TokenStorageChoice is the storage in force and why.
type TokenStorageChoice struct {
	Storage TokenStorage
	// Why is the reason in words: "chosen with --token-storage", "the
	// state dir is OpenClaw 2026.4.12's (openclaw.json)", …
	Why string
}

// TradeOff says what the storage costs, for the line a gateway logs at
// start.
func (c TokenStorageChoice) TradeOff() string {
	if c.Storage == TokenStorageOpenClaw {
		return "node tokens are kept in plaintext in nodes/paired.json (mode 0600), and records as OpenClaw writes them, " +
			"so OpenClaw's gateway can verify every node: whoever can read that file can act as any node " +
			"(`pairdeck state convert-tokens --to hash` keeps only their SHA-256, which OpenClaw cannot verify)"
	}
	return "node tokens are kept as SHA-256 only in nodes/paired.json: a copy of the file does not let anyone act as a node, " +
		"but OpenClaw 2026.4.12 and 2026.7.35 cannot verify such a token (use --token-storage openclaw on a dir OpenClaw shares)"
}

// openclawConfigBytes bounds the read of openclaw.json.
const openclawConfigBytes = 4 << 20

// DetectTokenStorage decides the storage of a state dir: "openclaw" when
// OpenClaw itself has used it — its configuration (configPath, by default
// StateDir/openclaw.json) carries meta.lastTouchedVersion, which OpenClaw
// stamps on every write of the file, or its gateway keeps devices/ there
// next to it — and "hash" otherwise, including for an openclaw.json a
// pairdeck user wrote by hand to give pairdeck's gateway its token. It
// reads, and writes nothing.
func DetectTokenStorage(stateDir, configPath string) (TokenStorageChoice, error) {
	hash := TokenStorageChoice{Storage: TokenStorageHash, Why: "no openclaw.json written by OpenClaw in the state dir"}
	if configPath == "" {
		configPath = filepath.Join(stateDir, "openclaw.json")
	}
	target, err := filepath.EvalSymlinks(configPath) // often a managed link
	if errors.Is(err, fs.ErrNotExist) {
		return hash, nil
	}
	if err != nil {
		return hash, fmt.Errorf("read %s: %w", configPath, err)
	}
	data, err := statefile.Read(target, openclawConfigBytes)
	if err != nil {
		return hash, fmt.Errorf("read OpenClaw's config: %w", err)
	}
	var doc struct {
		Meta struct {
			LastTouchedVersion any `json:"lastTouchedVersion"`
		} `json:"meta"`
	}
	if err := json5.Unmarshal(data, &doc); err != nil {
		return hash, fmt.Errorf("%s is not valid JSON5 (%v): fix it (`openclaw doctor` checks it), or choose the token storage with --token-storage", configPath, err)
	}
	if v, ok := doc.Meta.LastTouchedVersion.(string); ok && strings.TrimSpace(v) != "" {
		return TokenStorageChoice{Storage: TokenStorageOpenClaw,
			Why: fmt.Sprintf("the state dir is OpenClaw %s's (%s)", strings.TrimSpace(v), configPath)}, nil
	}
	if fi, err := os.Stat(filepath.Join(stateDir, "devices")); err == nil && fi.IsDir() {
		return TokenStorageChoice{Storage: TokenStorageOpenClaw,
			Why: fmt.Sprintf("the state dir is OpenClaw's (%s and its devices/)", configPath)}, nil
	}
	hash.Why = "openclaw.json was not written by OpenClaw (no meta.lastTouchedVersion, no devices/)"
	return hash, nil
}

// resolveTokenStorage is the storage Open uses.
func resolveTokenStorage(opts Options, stateDir string) (TokenStorageChoice, error) {
	switch opts.TokenStorage {
	case TokenStorageAuto:
		return DetectTokenStorage(stateDir, opts.OpenClawConfig)
	case TokenStorageHash, TokenStorageOpenClaw:
		return TokenStorageChoice{Storage: opts.TokenStorage, Why: "chosen with --token-storage"}, nil
	}
	_, err := ParseTokenStorage(string(opts.TokenStorage))
	return TokenStorageChoice{}, fmt.Errorf("open store: %w", err)
}

// TokenStorageInfo is the storage in force and the form of the tokens
// paired.json holds now.
type TokenStorageInfo struct {
	TokenStorageChoice
	// Plaintext and Hashed count the paired nodes whose token is stored in
	// each form (a node without a token counts in neither).
	Plaintext, Hashed int
}

// TokenStorage reports the storage in force and the tokens' forms.
func (s *Store) TokenStorage() TokenStorageInfo {
	info := TokenStorageInfo{TokenStorageChoice: s.storage}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.paired.byNode {
		switch {
		case !e.hasToken:
		case e.rec.Token != "":
			info.Plaintext++
		default:
			info.Hashed++
		}
	}
	return info
}

// TokenConversion is what ConvertTokens changed.
type TokenConversion struct {
	Storage TokenStorage
	// Converted is how many records were rewritten in the storage's form;
	// Unchanged how many were in it already.
	Converted, Unchanged int
}

// HashedTokensError refuses a conversion to "openclaw": these nodes have
// only the SHA-256 of their token, from which the token cannot be had
// back, so OpenClaw could never verify them. It wraps ErrInvalid.
type HashedTokensError struct {
	NodeIDs []string
}

func (e *HashedTokensError) Error() string {
	ids := e.NodeIDs
	more := ""
	if len(ids) > 5 {
		ids, more = ids[:5], fmt.Sprintf(" and %d more", len(e.NodeIDs)-5)
	}
	return fmt.Sprintf("%v: %d paired node(s) have only a hashed token (%s%s): a token cannot be recovered from its SHA-256, so OpenClaw could never verify them, and nothing was converted; "+
		"they keep working with pairdeck; for OpenClaw they must pair again: run pairdeck with --token-storage openclaw and approve each one's next request "+
		"(`pairdeck nodes remove --node ID` makes it ask), then convert again",
		ErrInvalid, len(e.NodeIDs), strings.Join(ids, ", "), more)
}

func (e *HashedTokensError) Unwrap() error { return ErrInvalid }

// ConvertTokens rewrites every record whose form differs from the storage
// in force (Options.TokenStorage), in one durable change with an audit
// line: to "hash", each plaintext token becomes its SHA-256 (the token
// keeps verifying); to "openclaw", every record loses the fields OpenClaw
// does not write, and a node with only a hashed token refuses the whole
// conversion (*HashedTokensError naming them). Nothing else changes a
// stored token's form.
func (s *Store) ConvertTokens(ctx context.Context, actor Actor) (TokenConversion, error) {
	res := TokenConversion{Storage: s.storage.Storage}
	err := s.submit(ctx, func(tx *tx) error {
		res.Converted, res.Unchanged = 0, 0
		var err error
		if s.openclaw {
			err = tx.convertToOpenClaw(&res)
		} else {
			err = tx.convertToHash(&res)
		}
		if err != nil || res.Converted == 0 {
			return err
		}
		tx.log(auditEvent{Action: actionTokensConverted, Actor: actor, extra: map[string]json.RawMessage{
			"tokenStorage": json.RawMessage(`"` + string(res.Storage) + `"`),
			"converted":    fmt.Appendf(nil, "%d", res.Converted),
		}})
		return nil
	}, nil)
	if err != nil {
		return TokenConversion{}, fmt.Errorf("convert tokens to %s: %w", res.Storage, err)
	}
	return res, nil
}

func (tx *tx) convertToHash(res *TokenConversion) error {
	for _, e := range tx.s.pairedInOrder() {
		if e.rec.Token == "" {
			res.Unchanged++
			continue
		}
		rec := e.rec
		rec.Token, rec.TokenSHA256 = "", hex.EncodeToString(e.digest[:])
		if err := tx.putPaired(e, rec, true); err != nil {
			return err
		}
		res.Converted++
	}
	return nil
}

func (tx *tx) convertToOpenClaw(res *TokenConversion) error {
	var hashed []string
	for _, e := range tx.s.pairedInOrder() {
		if e.hasToken && e.rec.Token == "" {
			hashed = append(hashed, e.key)
		}
	}
	if len(hashed) > 0 {
		slices.Sort(hashed)
		return &HashedTokensError{NodeIDs: hashed}
	}
	for _, e := range tx.s.pairedInOrder() {
		if inOpenClawForm(e.file(), pairedDrop) {
			res.Unchanged++
			continue
		}
		if err := tx.putPaired(e, e.rec, true); err != nil {
			return err
		}
		res.Converted++
	}
	for _, m := range slices.Clone(tx.s.pending.order.items) {
		e, _ := m.(*pendingEntry)
		if e == nil {
			continue
		}
		if inOpenClawForm(e.file(), pendingDrop) {
			res.Unchanged++
			continue
		}
		if err := tx.updatePending(e, e.rec); err != nil {
			return err
		}
		res.Converted++
	}
	return nil
}

// pairedInOrder is paired.json's records in file order.
func (s *Store) pairedInOrder() []*pairedEntry {
	out := make([]*pairedEntry, 0, len(s.paired.byNode))
	for _, m := range s.paired.order.items {
		if e, ok := m.(*pairedEntry); ok && e != nil {
			out = append(out, e)
		}
	}
	return out
}
