module github.com/authsec/authsec/examples/mcp/go

go 1.25.0

require (
	github.com/authsec/authsec/bindings-go v0.0.0-00010101000000-000000000000
	github.com/modelcontextprotocol/go-sdk v1.8.0
)

require (
	github.com/authsec/authsec/bindings-go/lib/linux_amd64 v0.1.0 // indirect
	github.com/authsec/authsec/bindings-go/lib/linux_amd64_testing v0.1.0 // indirect
	github.com/authsec/authsec/bindings-go/lib/linux_arm64 v0.1.0 // indirect
	github.com/authsec/authsec/bindings-go/lib/linux_arm64_testing v0.1.0 // indirect
	github.com/google/jsonschema-go v0.4.3 // indirect
	github.com/segmentio/asm v1.2.1 // indirect
	github.com/segmentio/encoding v0.5.4 // indirect
	github.com/yosida95/uritemplate/v3 v3.0.2 // indirect
	golang.org/x/oauth2 v0.35.0 // indirect
	golang.org/x/sync v0.20.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

// The Go module of this checkout and its per-platform library modules (lib/linux_amd64/libauthsec_capi.a, ...,
// which bindings-go/build.sh builds).
replace (
	github.com/authsec/authsec/bindings-go => ../../../bindings-go
	github.com/authsec/authsec/bindings-go/lib/linux_amd64 => ../../../bindings-go/lib/linux_amd64
	github.com/authsec/authsec/bindings-go/lib/linux_amd64_testing => ../../../bindings-go/lib/linux_amd64_testing
	github.com/authsec/authsec/bindings-go/lib/linux_arm64 => ../../../bindings-go/lib/linux_arm64
	github.com/authsec/authsec/bindings-go/lib/linux_arm64_testing => ../../../bindings-go/lib/linux_arm64_testing
)
