package client

import (
	"testing"

	"github.com/pairdeck/pairdeck/client/openclawtest"
)

// The replay double of OpenClaw gateways lives in package openclawtest, which
// the CLI's tests share; these names keep this package's tests short.
type (
	replayGateway = openclawtest.Gateway
	recording     = openclawtest.Recording
	wireFrame     = openclawtest.Frame
)

func newReplay(t *testing.T, version, scenario string, labels ...string) *replayGateway {
	t.Helper()
	return openclawtest.New(t, version, scenario, labels...)
}

func loadRecording(t *testing.T, version, scenario string) *recording {
	t.Helper()
	return openclawtest.Load(t, version, scenario)
}
