package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
	"github.com/pairdeck/pairdeck/tui/qr"
)

// codeSecret is a code just created, with its secret: shown on a page of
// its own once, and forgotten when that page closes.
type codeSecret struct {
	res protocol.CodeCreateResult
	// qrPlain and qrColour are the setup link's QR code, drawn once
	// (without and with colours); qrErr says why there is none.
	qrPlain, qrColour string
	qrErr             error
}

func newCodeSecret(res protocol.CodeCreateResult) *codeSecret {
	s := &codeSecret{res: res}
	if res.SetupLink != "" {
		s.qrPlain, s.qrErr = qr.Render(res.SetupLink)
		if s.qrErr == nil {
			s.qrColour, _ = qr.RenderColor(res.SetupLink)
		}
	}
	return s
}

// forget drops the secret, the link and their drawings.
func (s *codeSecret) forget() {
	*s = codeSecret{res: protocol.CodeCreateResult{Code: s.res.Code}}
}

// nodeCommand is what the operator runs on the node: the code is pasted
// when asked, never put on its command line (ps shows those to every
// user). The link names the gateway; without one, where the console
// found it.
func nodeCommand(res protocol.CodeCreateResult, gatewayURL string) string {
	cmd := "pairdeck node pair --code -"
	switch s := res.Code.Scope; {
	case s.Name != "":
		cmd += " --name " + shellWord(s.Name)
	case s.NamePrefix != "":
		cmd += " --name " + shellWord(s.NamePrefix+"NAME")
	}
	if res.SetupLink == "" {
		cmd += " --url " + cmpOr(gatewayURL, "ws://HOST:PORT")
	}
	return cmd
}

func cmpOr(s, or string) string {
	if s == "" {
		return or
	}
	return s
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// lines lays the page out for a width of w: the warning, the secret, what
// to run on the node, the link, the scope, then the QR code (which the
// page scrolls to when the terminal is too short for all of it).
func (s *codeSecret) lines(st *styles.Styles, w int, gatewayURL string, now time.Time) []string {
	c := s.res.Code
	wrap := func(text string) []string {
		var out []string
		for _, l := range strings.Split(ansi.Wrap(protocol.Printable(text), max(w-2, 10), ""), "\n") {
			out = append(out, "  "+l)
		}
		return out
	}
	lines := []string{
		st.DialogTitle.Render("Setup code "+protocol.Printable(c.ID)) + "  " +
			st.Expiring.Render(glyphExpiring+" shown once: copy it now"),
		"",
		"    " + st.Token.Render(protocol.Printable(s.res.Secret)),
		"",
	}
	// Its whole validity, as asked for: the time left is in the Codes view.
	ttl := msTime(c.ExpiresAtMs).Sub(msTime(c.CreatedAtMs))
	lines = append(lines, wrap(fmt.Sprintf("Valid for %s (until %s), %s; %s. The gateway keeps only its hash: it cannot be shown again.",
		span(ttl), msTime(c.ExpiresAtMs).In(now.Location()).Format("15:04:05"), usesText(c.MaxUses), scopeText(c.Scope)))...)
	lines = append(lines, "")
	lines = append(lines, wrap("On the node, run this and paste the setup link (or the code) when it asks:")...)
	// The scope's name comes from the gateway: escaped like everything
	// else from it.
	for _, l := range commandLines(protocol.Printable(nodeCommand(s.res, gatewayURL)), max(w-4, 10)) {
		lines = append(lines, "    "+st.Command.Render(l))
	}
	if s.res.SetupLink == "" {
		lines = append(lines, "")
		lines = append(lines, wrap("No setup link: the gateway knows no address nodes can reach it at, so there is no QR code either.")...)
		return lines
	}
	lines = append(lines, "")
	lines = append(lines, wrap("Setup link (the gateway's address and the code, one line however it wraps here; OpenClaw 2026.8+ node hosts take it too: save it in a file only you can read, then `openclaw connect --target-file FILE`):")...)
	link := protocol.Printable(s.res.SetupLink)
	for _, l := range strings.Split(ansi.Hardwrap(link, max(w-4, 10), false), "\n") {
		lines = append(lines, "    "+st.Command.Render(l))
	}
	lines = append(lines, "")
	if s.qrErr != nil {
		return append(lines, wrap("No QR code: "+errText(s.qrErr))...)
	}
	drawing := s.qrPlain
	if st.Profile > colorprofile.ASCII {
		// Bright white on black: reads the same on dark and light themes.
		drawing = s.qrColour
	}
	qrLines := strings.Split(drawing, "\n")
	qrWidth := ansi.StringWidth(strings.Split(s.qrPlain, "\n")[0])
	if qrWidth+2 > w {
		return append(lines, wrap(fmt.Sprintf("The QR code of the link needs %d columns: widen the terminal to see it.", qrWidth+2))...)
	}
	lines = append(lines, wrap("Or scan it (the same setup link):")...)
	for _, l := range qrLines {
		lines = append(lines, "  "+l)
	}
	return lines
}
