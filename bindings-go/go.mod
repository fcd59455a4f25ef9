module github.com/authsec/authsec/bindings-go

go 1.25.0

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/lestrrat-go/jwx/v3 v3.3.0
	github.com/modelcontextprotocol/go-sdk v1.8.0
	golang.org/x/oauth2 v0.35.0
)

require (
	github.com/decred/dcrd/dcrec/secp256k1/v4 v4.4.1 // indirect
	github.com/goccy/go-json v0.10.6 // indirect
	github.com/google/jsonschema-go v0.4.3 // indirect
	github.com/lestrrat-go/blackmagic v1.0.4 // indirect
	github.com/lestrrat-go/dsig v1.4.0 // indirect
	github.com/lestrrat-go/dsig-secp256k1 v1.0.0 // indirect
	github.com/lestrrat-go/httpcc v1.0.1 // indirect
	github.com/lestrrat-go/httprc/v3 v3.0.6 // indirect
	github.com/lestrrat-go/option/v2 v2.0.0 // indirect
	github.com/segmentio/asm v1.2.1 // indirect
	github.com/segmentio/encoding v0.5.4 // indirect
	github.com/valyala/fastjson v1.6.10 // indirect
	github.com/yosida95/uritemplate/v3 v3.0.2 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sync v0.20.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

// The prebuilt libraries, one module per platform (lib/*/go.mod), tagged with this module's version.
require (
	github.com/authsec/authsec/bindings-go/lib/linux_amd64 v0.1.0
	github.com/authsec/authsec/bindings-go/lib/linux_amd64_testing v0.1.0
	github.com/authsec/authsec/bindings-go/lib/linux_arm64 v0.1.0
	github.com/authsec/authsec/bindings-go/lib/linux_arm64_testing v0.1.0
)

// In a checkout they are the folders next to this file (build.sh puts the libraries there). A
// module that depends on this one ignores these lines and downloads its platform's module.
replace (
	github.com/authsec/authsec/bindings-go/lib/linux_amd64 => ./lib/linux_amd64
	github.com/authsec/authsec/bindings-go/lib/linux_amd64_testing => ./lib/linux_amd64_testing
	github.com/authsec/authsec/bindings-go/lib/linux_arm64 => ./lib/linux_arm64
	github.com/authsec/authsec/bindings-go/lib/linux_arm64_testing => ./lib/linux_arm64_testing
)
