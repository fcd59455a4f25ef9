package authsec

import (
	"net/http"
	"net/http/httptest"
)

// withNow fixes a verifier config's clock (tests only).
func withNow(c VerifierConfig, now int64) VerifierConfig { c.now = &now; return c }

func (c *ClientCredentials) RequestCount() uint64 { return c.requestCount() }

var CoreErrorCodes = coreErrorCodes
var AllCodes = allCodes
var CodeNames = codeNames

// withExtra passes raw config fields to the core (tests only).
func withExtra(c VerifierConfig, k string, v any) VerifierConfig {
	if c.extra == nil {
		c.extra = map[string]any{}
	}
	c.extra[k] = v
	return c
}

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
