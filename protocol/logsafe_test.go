package protocol

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

type hostileStringer struct{}

func (hostileStringer) String() string { return "str\x1b]52;c;b3duZWQ=\x07" }

// Every log line, in either format, shows what a terminal would act on as
// a visible escape.
func TestPrintableHandlerLeavesNothingATerminalActsOn(t *testing.T) {
	hostile := []string{"\x1b]2;owned\x07", "\u009b2K", "\x7f", "\u202e", "\u2028", "\u200b", "\xff", "\r\n"}
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		opts := &slog.HandlerOptions{Level: slog.LevelDebug}
		var h slog.Handler = slog.NewTextHandler(&buf, opts)
		if format == "json" {
			h = slog.NewJSONHandler(&buf, opts)
		}
		log := slog.New(PrintableHandler(PrintableHandler(h)))
		for _, s := range hostile {
			l := log.With("with"+s, "v"+s).WithGroup("g" + s)
			l.Info("msg"+s, "key"+s, "val"+s, "err", errors.New("e"+s), "str", hostileStringer{},
				"any", []string{"a" + s}, slog.Group("grp", "in"+s, "x"+s), "n", 3)
		}
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != len(hostile) {
			t.Fatalf("%s: %d lines for %d records (a line break got through?):\n%s", format, len(lines), len(hostile), buf.String())
		}
		for _, line := range lines {
			if err := CheckText(line); err != nil {
				t.Errorf("%s: %v in %q", format, err, line)
			}
			if !strings.Contains(line, `\x1b`) && !strings.Contains(line, `\\x1b`) && !strings.Contains(line, `\u`) && !strings.Contains(line, `\x`) {
				t.Errorf("%s: no visible escape in %q", format, line)
			}
		}
	}
}

// Any string, as a message, key or value, in either format: one line, and
// nothing in it a terminal acts on.
func FuzzPrintableHandler(f *testing.F) {
	for _, s := range []string{"plain", "\x1b]2;x\x07", "\u009b2K", "a\nb", "\u202e", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, json := range []bool{false, true} {
			var buf bytes.Buffer
			var h slog.Handler = slog.NewTextHandler(&buf, nil)
			if json {
				h = slog.NewJSONHandler(&buf, nil)
			}
			slog.New(PrintableHandler(h)).With(s, s).Info(s, s, s, "err", errors.New(s))
			out := strings.TrimSuffix(buf.String(), "\n")
			if strings.Contains(out, "\n") {
				t.Fatalf("more than one line for %q: %q", s, out)
			}
			if err := CheckText(out); err != nil {
				t.Fatalf("%q logged as %q: %v", s, out, err)
			}
		}
	})
}
