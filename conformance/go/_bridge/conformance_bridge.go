package authsec

// Injected into the bindings-go package at build time by conformance/run.sh (go build -overlay):
// never part of the module itself. The Go API has no public way to fix a verifier's clock (the
// package's own tests use withNow in export_test.go), so the conformance runner borrows the same
// unexported field through these two functions until a public option exists.

// ConformanceFixedNow fixes the verifier's clock at unix (seconds), like withNow.
func ConformanceFixedNow(c VerifierConfig, unix int64) VerifierConfig { c.now = &unix; return c }

// ConformanceRawOption passes one config field to the core as it is, like withExtra.
func ConformanceRawOption(c VerifierConfig, k string, v any) VerifierConfig {
	if c.extra == nil {
		c.extra = map[string]any{}
	}
	c.extra[k] = v
	return c
}
