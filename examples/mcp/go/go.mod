module github.com/authsec/authsec/examples/mcp/go

go 1.25.0

require (
	github.com/authsec/authsec/bindings-go v0.0.0-00010101000000-000000000000
	github.com/modelcontextprotocol/go-sdk v1.8.0
)

require (
	github.com/google/jsonschema-go v0.4.3 // indirect
	github.com/segmentio/asm v1.2.1 // indirect
	github.com/segmentio/encoding v0.5.4 // indirect
	github.com/yosida95/uritemplate/v3 v3.0.2 // indirect
	golang.org/x/oauth2 v0.35.0 // indirect
	golang.org/x/sync v0.20.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

// The Go module of this checkout (cgo over lib/<GOOS>_<GOARCH>/libauthsec_capi.a, which
// bindings-go/build.sh builds).
replace github.com/authsec/authsec/bindings-go => ../../../bindings-go
