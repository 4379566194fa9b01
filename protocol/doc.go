// Package protocol is pairdeck's wire vocabulary: the frames, method
// parameters and results, event payloads, error codes, scopes and the device
// signature rules of gateway protocol 3 (see docs: shared protocol.md).
//
// It holds shapes and pure functions only — no I/O — so the store, the
// gateway, the client and the console can all speak it without depending on
// each other.
package protocol
