module github.com/authsec/authsec/conformance/go

go 1.25.0

require github.com/authsec/authsec/bindings-go v0.0.0

require golang.org/x/oauth2 v0.30.0 // indirect

replace github.com/authsec/authsec/bindings-go => ../../bindings-go
