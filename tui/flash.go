package tui

import (
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
)

// How long a flash stays. Errors stay longer: they usually need reading.
const (
	flashInfoFor  = 3 * time.Second
	flashErrorFor = 6 * time.Second
)

// flash is a one-line message that clears itself on the tick after until.
type flash struct {
	text  string
	isErr bool
	until time.Time
}

func infoFlash(text string, now time.Time) flash {
	return flash{text: text, until: now.Add(flashInfoFor)}
}

func errorFlash(text string, now time.Time) flash {
	return flash{text: text, isErr: true, until: now.Add(flashErrorFor)}
}

func (f flash) active(now time.Time) bool { return f.text != "" && now.Before(f.until) }

// View draws the flash on one line. Its text often quotes a gateway (an
// error message, a name), so it is escaped before it is drawn.
func (f flash) View(st *styles.Styles, width int) string {
	text := ansi.Truncate(protocol.Printable(f.text), width, "…")
	if f.isErr {
		return st.FlashError.Render(text)
	}
	return st.FlashInfo.Render(text)
}
