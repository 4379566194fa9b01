package protocol

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Untrusted text. Every string pairdeck shows was written by someone else: a
// node's name and platform, an address an operator typed, a message from a
// gateway that filters nothing. A terminal acts on some characters instead
// of showing them (ESC starts a sequence that can retitle the pane, erase or
// move lines, or write the clipboard), and some characters reorder or hide
// the text around them. Printable is the one place that decides how such
// text reaches a terminal; CheckText and CheckName refuse the same
// characters where text enters pairdeck, so what is stored already prints as
// written.

// Printable returns s with every character that a terminal would act on, or
// that would change how the text around it reads, shown as a visible escape:
// C0 controls and DEL as \x1b, C1 controls, bidirectional overrides and
// isolates, line and paragraph separators and invisible breaks as \u202e,
// and bytes that are not UTF-8 as \xff. Everything else, including a
// backslash, is kept as it is. A string with nothing to escape is returned
// unchanged, without allocating.
func Printable(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// PrintableList is Printable for each element, joined with sep.
func PrintableList(list []string, sep string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = Printable(s)
	}
	return strings.Join(out, sep)
}

// ErrUnsafeText is wrapped by every error of CheckText and CheckName.
var ErrUnsafeText = errors.New("text contains a character a terminal would act on")

// UnsafeTextError says which character made a string unusable and where.
type UnsafeTextError struct {
	Rune   rune // utf8.RuneError for a byte that is not UTF-8
	Offset int  // byte offset in the string
	Why    string
}

func (e *UnsafeTextError) Error() string {
	return fmt.Sprintf("%s (%s at byte %d)", e.Why, Printable(string(e.Rune)), e.Offset)
}

func (e *UnsafeTextError) Unwrap() error { return ErrUnsafeText }

// CheckText refuses a string that Printable would have to change: control
// characters, bidirectional controls, line separators, invisible breaks or
// bytes that are not UTF-8.
func CheckText(s string) error {
	i := firstUnsafe(s)
	if i < 0 {
		return nil
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size == 1 {
		return &UnsafeTextError{Rune: r, Offset: i, Why: "not valid UTF-8"}
	}
	return &UnsafeTextError{Rune: r, Offset: i, Why: describeUnsafe(r)}
}

// MaxNameRunes bounds a display name.
const MaxNameRunes = 128

// ErrBadName is wrapped by every refusal of CleanName.
var ErrBadName = errors.New("invalid name")

// CleanName trims a display name and checks it: 1 to MaxNameRunes
// characters, nothing CheckText refuses, and no zero-width joiners either,
// so two names that look the same are the same name.
func CleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fmt.Errorf("%w: the name is empty", ErrBadName)
	case utf8.RuneCountInString(name) > MaxNameRunes:
		return "", fmt.Errorf("%w: the name is longer than %d characters", ErrBadName, MaxNameRunes)
	}
	if err := CheckText(name); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadName, err)
	}
	if i := strings.IndexAny(name, "\u200c\u200d"); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return "", fmt.Errorf("%w: %w", ErrBadName, &UnsafeTextError{Rune: r, Offset: i, Why: "a zero-width joiner makes look-alike names"})
	}
	return name, nil
}

// firstUnsafe is the byte offset of the first character Printable escapes,
// or -1.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || unsafeRune(r) {
			return i
		}
		i += size
	}
	return -1
}

// unsafeRune reports the characters Printable escapes.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f: // C0, DEL, C1
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f: // bidi marks
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
		return true
	case r == 0x2028, r == 0x2029: // line and paragraph separators
		return true
	case r == 0x200b, r == 0x2060, r == 0xfeff, r == 0x180e: // invisible breaks
		return true
	}
	return false
}

func describeUnsafe(r rune) string {
	switch {
	case r < 0x20, r == 0x7f:
		return "a control character"
	case r >= 0x80 && r <= 0x9f:
		return "a C1 control character"
	case r == 0x2028, r == 0x2029:
		return "a line or paragraph separator"
	case r == 0x200b, r == 0x2060, r == 0xfeff, r == 0x180e:
		return "an invisible character"
	default:
		return "a bidirectional control character"
	}
}
