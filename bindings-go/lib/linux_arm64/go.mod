module github.com/authsec/authsec/bindings-go/lib/linux_arm64

go 1.25.0
