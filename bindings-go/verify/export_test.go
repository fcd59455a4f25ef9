package verify

import (
	"context"
	"testing"
	"time"

	"github.com/authsec/authsec/bindings-go/internal/bridge"
)

// withExtra passes raw config fields to the core (tests only).
func withExtra(c Config, k string, v any) Config {
	return bridge.WithRawOption(c, k, v).(Config)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}
