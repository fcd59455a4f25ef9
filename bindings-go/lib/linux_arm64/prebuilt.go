//go:build linux && arm64

// Package prebuilt links the authsec static library for linux/arm64 (libauthsec_capi.a, next to
// this file in the module that release tags ship; bindings-go/build.sh builds it in a checkout).
// Package verify (and so package authsec) imports it on linux/arm64: a Go program needs only a C
// compiler, not Rust.
package prebuilt

/*
#cgo LDFLAGS: -L${SRCDIR} -lauthsec_capi -lm -ldl -lpthread
*/
import "C"
