package testserver

// The testing library for linux/amd64 comes from its own module (lib/linux_amd64_testing).
import _ "github.com/authsec/authsec/bindings-go/lib/linux_amd64_testing"
