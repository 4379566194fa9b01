package tui

// Glyphs carry every meaning that colour also paints, so the console reads
// the same under NO_COLOR, in a monochrome tmux pane or to a screen reader.
// All are one cell wide in common terminal fonts (no emoji presentation).
const (
	glyphCursor = "›"
	glyphMark   = "◆" // not ●: that is "online"
	glyphRepair = "↻" // a re-pair: the node's token rotates

	glyphExpiring = "⚠"
	glyphCritical = "‼"
	glyphExpired  = "◷" // not ✗: that is "rejected"
	glyphBusy     = "…"

	glyphOnline  = "●"
	glyphOffline = "○"
	glyphWaiting = "◌"
	glyphDown    = "✗"
	glyphUnknown = "?"

	glyphRequested = "+"
	glyphApproved  = "✓"
	glyphRejected  = "✗"
	glyphRenamed   = "✎"
	glyphRemoved   = "−"

	glyphBlocked    = "⊘"
	glyphUnblocked  = "↺"
	glyphPairingOn  = "●"
	glyphPairingOff = "⊘"
	glyphHeld       = "!"
)
