package store

import (
	"encoding/json"
	"errors"
)

// A small scanner for the one shape state files have: an object of
// members. It finds member boundaries without decoding values, which makes
// opening a large store several times faster than a streaming decoder. It
// is strict about the object's own punctuation and gives up on anything
// unexpected; values are validated when they are decoded. On any doubt the
// caller falls back to encoding/json's decoder, which also produces the
// precise error for a damaged file.

var errScan = errors.New("not a simple JSON object")

type jsonMember struct {
	key string
	raw []byte // the value, exactly as in data
	off int64  // offset of raw in data
}

// scanObject splits data (one JSON object, optionally surrounded by white
// space) into its members.
func scanObject(data []byte) ([]jsonMember, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errScan
	}
	i = skipSpace(data, i+1)
	var out []jsonMember
	if i < len(data) && data[i] == '}' {
		i++
	} else {
		for {
			if i >= len(data) || data[i] != '"' {
				return nil, errScan
			}
			end := stringEnd(data, i)
			if end < 0 {
				return nil, errScan
			}
			key, ok := decodeKey(data[i:end])
			if !ok {
				return nil, errScan
			}
			i = skipSpace(data, end)
			if i >= len(data) || data[i] != ':' {
				return nil, errScan
			}
			start := skipSpace(data, i+1)
			stop := valueEnd(data, start)
			if stop < 0 {
				return nil, errScan
			}
			out = append(out, jsonMember{key: key, raw: data[start:stop], off: int64(start)})
			i = skipSpace(data, stop)
			if i >= len(data) {
				return nil, errScan
			}
			if data[i] == '}' {
				i++
				break
			}
			if data[i] != ',' {
				return nil, errScan
			}
			i = skipSpace(data, i+1)
		}
	}
	if skipSpace(data, i) != len(data) {
		return nil, errScan
	}
	return out, nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index just past the string starting at data[i].
func stringEnd(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// valueEnd returns the index just past the value starting at data[i].
func valueEnd(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end := stringEnd(data, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		j := i
		for j < len(data) {
			switch data[j] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return j
			}
			j++
		}
		return j
	}
}

// decodeKey decodes a quoted key; plain printable ASCII needs no decoder.
func decodeKey(q []byte) (string, bool) {
	plain := true
	for _, c := range q[1 : len(q)-1] {
		if c < 0x20 || c == '\\' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return string(q[1 : len(q)-1]), true
	}
	var k string
	if err := json.Unmarshal(q, &k); err != nil {
		return "", false
	}
	return k, true
}
