package tui

// Glyphs carry every meaning that colour also paints, so the console reads
// the same under NO_COLOR, in a monochrome tmux pane or to a screen reader.
// All are one cell wide in common terminal fonts (no emoji presentation).
const (
	glyphCursor = "›"
	glyphMark   = "●"

	glyphExpiring = "⚠"
	glyphCritical = "‼"
	glyphExpired  = "✗"
	glyphBusy     = "…"

	glyphOnline  = "●"
	glyphOffline = "○"
	glyphWaiting = "◌"
	glyphDown    = "✗"

	glyphRequested = "+"
	glyphApproved  = "✓"
	glyphRejected  = "✗"
	glyphTimedOut  = "◌"
	glyphRenamed   = "✎"
	glyphRemoved   = "−"

	glyphBlocked    = "⊘"
	glyphUnblocked  = "↺"
	glyphPairingOn  = "●"
	glyphPairingOff = "⊘"
	glyphHeld       = "!"
)
