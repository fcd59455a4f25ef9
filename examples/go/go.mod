module github.com/authsec/authsec/examples/go

go 1.25.0

require github.com/authsec/authsec/bindings-go v0.0.0-00010101000000-000000000000

require golang.org/x/oauth2 v0.35.0 // indirect

// The Go module of this checkout (cgo over lib/<GOOS>_<GOARCH>/libauthsec_capi.a, which
// bindings-go/build.sh builds).
replace github.com/authsec/authsec/bindings-go => ../../bindings-go
