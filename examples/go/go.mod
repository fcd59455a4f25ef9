module github.com/authsec/authsec/examples/go

go 1.25.0

require github.com/authsec/authsec/bindings-go v0.0.0-00010101000000-000000000000

require (
	github.com/authsec/authsec/bindings-go/lib/linux_amd64 v0.1.0 // indirect
	github.com/authsec/authsec/bindings-go/lib/linux_amd64_testing v0.1.0 // indirect
	github.com/authsec/authsec/bindings-go/lib/linux_arm64 v0.1.0 // indirect
	github.com/authsec/authsec/bindings-go/lib/linux_arm64_testing v0.1.0 // indirect
	golang.org/x/oauth2 v0.35.0 // indirect
)

// The Go module of this checkout and its per-platform library modules (lib/linux_amd64/libauthsec_capi.a, ...,
// which bindings-go/build.sh builds).
replace (
	github.com/authsec/authsec/bindings-go => ../../bindings-go
	github.com/authsec/authsec/bindings-go/lib/linux_amd64 => ../../bindings-go/lib/linux_amd64
	github.com/authsec/authsec/bindings-go/lib/linux_amd64_testing => ../../bindings-go/lib/linux_amd64_testing
	github.com/authsec/authsec/bindings-go/lib/linux_arm64 => ../../bindings-go/lib/linux_arm64
	github.com/authsec/authsec/bindings-go/lib/linux_arm64_testing => ../../bindings-go/lib/linux_arm64_testing
)
