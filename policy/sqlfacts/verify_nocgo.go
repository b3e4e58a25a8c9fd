//go:build !cgo

package sqlfacts

// verifyShape: without the parser nothing is cached by shape.
func verifyShape(string, []span) bool { return false }
