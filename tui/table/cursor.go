package table

// Cursor is a position in a list of Len rows and the window of Height rows
// shown around it. The window only moves when the cursor would leave it, so
// the list does not jump under the reader's eye.
type Cursor struct {
	Index  int
	Offset int
	Height int
	Len    int
}

// SetLen updates the row count and keeps the cursor and window inside it.
func (c *Cursor) SetLen(n int) {
	c.Len = n
	c.clamp()
}

// SetHeight updates the window height.
func (c *Cursor) SetHeight(h int) {
	c.Height = max(h, 1)
	c.clamp()
}

// MoveTo puts the cursor on row i (clamped).
func (c *Cursor) MoveTo(i int) {
	c.Index = i
	c.clamp()
}

func (c *Cursor) Up()       { c.MoveTo(c.Index - 1) }
func (c *Cursor) Down()     { c.MoveTo(c.Index + 1) }
func (c *Cursor) Top()      { c.MoveTo(0) }
func (c *Cursor) Bottom()   { c.MoveTo(c.Len - 1) }
func (c *Cursor) PageUp()   { c.MoveTo(c.Index - c.Height) }
func (c *Cursor) PageDown() { c.MoveTo(c.Index + c.Height) }

// Window is the half-open range of rows to draw.
func (c Cursor) Window() (start, end int) {
	return c.Offset, min(c.Offset+max(c.Height, 1), c.Len)
}

func (c *Cursor) clamp() {
	if c.Height < 1 {
		c.Height = 1
	}
	if c.Len <= 0 {
		c.Index, c.Offset = 0, 0
		return
	}
	c.Index = min(max(c.Index, 0), c.Len-1)
	if c.Index < c.Offset {
		c.Offset = c.Index
	}
	if c.Index >= c.Offset+c.Height {
		c.Offset = c.Index - c.Height + 1
	}
	// Do not leave blank rows at the bottom when rows above could fill them.
	c.Offset = max(min(c.Offset, c.Len-c.Height), 0)
}
