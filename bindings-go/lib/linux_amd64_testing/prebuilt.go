//go:build linux && amd64

// Package prebuilt links the authsec testing library for linux/amd64 (libauthsec_capi_testing.so:
// the local authorization server of package authsectest, found at run time through an rpath to
// this folder). Only tests import it, through authsectest: production programs neither link nor
// download it.
package prebuilt

/*
#cgo LDFLAGS: -L${SRCDIR} -Wl,-rpath,${SRCDIR} -lauthsec_capi_testing
*/
import "C"
