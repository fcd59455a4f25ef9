package verify

// The static library for linux/amd64 comes from its own module (lib/linux_amd64): only the
// platform's library is downloaded, and each module stays far below the 500 MiB module zip limit.
import _ "github.com/authsec/authsec/bindings-go/lib/linux_amd64"
