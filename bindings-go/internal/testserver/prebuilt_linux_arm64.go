package testserver

// The testing library for linux/arm64 comes from its own module (lib/linux_arm64_testing).
import _ "github.com/authsec/authsec/bindings-go/lib/linux_arm64_testing"
