package authsec

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/authsec/authsec/bindings-go/internal/bridge"
	"github.com/authsec/authsec/bindings-go/internal/testserver"
)

// LocalServer is the testing library's local authorization server, for this package's own tests
// (which cannot import package authsectest: it imports this package).
type LocalServer = testserver.Server

// StartLocalServer starts it with the server's settings as JSON on the system clock.
func StartLocalServer(configJSON string) (*LocalServer, error) {
	return startLocalServerAt(configJSON, nil)
}

// startLocalServerAt starts it on a test clock (nil: the system clock).
func startLocalServerAt(configJSON string, clk *ManualClock) (*LocalServer, error) {
	state, release := bridge.ClockState(clk)
	return testserver.Start(configJSON, state, release)
}

func (c *ClientCredentials) RequestCount() uint64 { return c.requestCount() }

var CoreErrorCodes = coreErrorCodes
var AllCodes = Codes()

// withExtra passes raw config fields to the core (tests only).
func withExtra(c VerifierConfig, k string, v any) VerifierConfig {
	return bridge.WithRawOption(c, k, v).(VerifierConfig)
}

// pinnedCount is how many claims objects v's memo holds in the core and in Go.
func pinnedCount(v *Verifier) (core uint64, memo int) { return bridge.PinnedCount(v) }

func newHangingServer(t interface {
	Cleanup(func())
}, release chan struct{}) string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// startFakeWorkloadAPI starts the testing library's fake SPIFFE Workload API (example.org) in a
// short temporary directory, stopped when the test ends.
func startFakeWorkloadAPI(t interface {
	Helper()
	Fatal(...any)
	Cleanup(func())
}) *testserver.FakeWorkloadAPI {
	t.Helper()
	dir, err := os.MkdirTemp("", "authsec-wl")
	if err != nil {
		t.Fatal(err)
	}
	f, err := testserver.StartFakeWorkloadAPI(filepath.Join(dir, "agent.sock"), "")
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); os.RemoveAll(dir) })
	return f
}
