//go:build !unix

package gateway

// fdLimit is unknown here: the connection cap alone applies.
func fdLimit() int { return 0 }
