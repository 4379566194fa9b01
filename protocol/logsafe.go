package protocol

import (
	"context"
	"fmt"
	"log/slog"
)

// Log lines carry text from the network (client ids, addresses, Host and
// Origin headers, error messages that quote what a client sent) and are
// read on terminals. slog's text handler quotes most control characters but
// writes DEL raw; its JSON handler writes C1 controls (U+009B is a CSI),
// DEL, bidi controls and invisible characters raw. PrintableHandler puts
// every message, key and value through Printable before either handler
// sees it, so a log line shows such characters escaped, whatever the
// format.

// PrintableHandler wraps h so that every string it logs is Printable. It is
// idempotent: wrapping a wrapped handler returns it as is.
func PrintableHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(printableHandler); ok {
		return h
	}
	return printableHandler{next: h}
}

type printableHandler struct{ next slog.Handler }

func (h printableHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h printableHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Printable(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(printableAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h printableHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return printableHandler{next: h.next.WithAttrs(printableAttrs(attrs))}
}

func (h printableHandler) WithGroup(name string) slog.Handler {
	return printableHandler{next: h.next.WithGroup(Printable(name))}
}

func printableAttrs(attrs []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = printableAttr(a)
	}
	return out
}

// printableAttr makes one attribute's key and value safe. Values that are
// not strings are rendered as the handlers would render them (an error's
// message, a Stringer's string, %+v) and then made Printable; numbers,
// times and durations cannot carry text and pass unchanged.
func printableAttr(a slog.Attr) slog.Attr {
	a.Key = Printable(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(Printable(v.String()))
	case slog.KindGroup:
		a.Value = slog.GroupValue(printableAttrs(v.Group())...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case nil:
			a.Value = v
		case error:
			a.Value = slog.StringValue(Printable(x.Error()))
		case fmt.Stringer:
			a.Value = slog.StringValue(Printable(x.String()))
		default:
			a.Value = slog.StringValue(Printable(fmt.Sprintf("%+v", x)))
		}
	default:
		a.Value = v
	}
	return a
}
