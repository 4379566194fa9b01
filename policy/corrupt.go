package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// ErrCorrupt marks a policy or access file that cannot be used.
var ErrCorrupt = errors.New("policy file is corrupt")

// CorruptError says which file cannot be used, where, and how to recover.
// It wraps ErrCorrupt. The file is left exactly as it was.
type CorruptError struct {
	Path    string
	Offset  int64 // bytes from the start of the file
	Line    int   // 1-based
	Column  int   // 1-based, in bytes
	Problem string
}

func (e *CorruptError) Error() string {
	what := "start over with auto-approval off and no rules"
	if filepath.Base(e.Path) == AccessFileName {
		what = "start over with pairing on and nobody blocked"
	}
	return fmt.Sprintf("%s is corrupt at line %d, column %d (byte %d): %s; it was left unchanged: fix it by hand, or move it aside (mv %s %s.broken) to %s",
		e.Path, e.Line, e.Column, e.Offset, e.Problem, e.Path, e.Path, what)
}

func (e *CorruptError) Unwrap() error { return ErrCorrupt }

func corruptAt(path string, data []byte, off int64, problem string) *CorruptError {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	return &CorruptError{
		Path: path, Offset: off, Problem: problem,
		Line:   bytes.Count(before, []byte("\n")) + 1,
		Column: int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1,
	}
}

// decodeStrict decodes one JSON object into v, refusing unknown members
// and trailing data, and turns every failure into a *CorruptError with the
// offset of the fault.
func decodeStrict(path string, data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return corruptAt(path, data, 0, "the file is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
	case errors.As(err, &syn):
		return corruptAt(path, data, syn.Offset, "not valid JSON: "+syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return corruptAt(path, data, typ.Offset, "expected a JSON object, found "+typ.Value)
		}
		return corruptAt(path, data, typ.Offset, fmt.Sprintf("%q must not be %s", field, typ.Value))
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return corruptAt(path, data, int64(len(data)), "the JSON ends too early (a torn write?)")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		off := dec.InputOffset()
		if at := bytes.LastIndex(data[:off], []byte(`"`+name+`"`)); at >= 0 {
			off = int64(at)
		}
		return corruptAt(path, data, off, fmt.Sprintf("unknown member %q (a misspelt condition would be ignored, so it is refused)", name))
	default:
		return corruptAt(path, data, dec.InputOffset(), err.Error())
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return corruptAt(path, data, int64(len(data)-len(rest)), "unexpected data after the JSON object")
	}
	return nil
}

// offsetOf finds where the value at path (object keys and array indexes)
// starts in data, so a value that parses but breaks a rule can be pointed
// at. It returns 0 when the path is not found.
func offsetOf(data []byte, path ...any) int64 {
	dec := json.NewDecoder(bytes.NewReader(data))
	for _, step := range path {
		tok, err := dec.Token()
		if err != nil {
			return 0
		}
		delim, _ := tok.(json.Delim)
		switch want := step.(type) {
		case string:
			if delim != '{' {
				return 0
			}
			found := false
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return 0
				}
				if k == want {
					found = true
					break
				}
				var skip json.RawMessage
				if dec.Decode(&skip) != nil {
					return 0
				}
			}
			if !found {
				return 0
			}
		case int:
			if delim != '[' {
				return 0
			}
			for i := 0; i < want; i++ {
				var skip json.RawMessage
				if !dec.More() || dec.Decode(&skip) != nil {
					return 0
				}
			}
			if !dec.More() {
				return 0
			}
		}
	}
	// The next value starts after any separator and space.
	off := dec.InputOffset()
	for off < int64(len(data)) && strings.IndexByte(" \t\r\n:,", data[off]) >= 0 {
		off++
	}
	return off
}
