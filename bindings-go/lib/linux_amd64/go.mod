module github.com/authsec/authsec/bindings-go/lib/linux_amd64

go 1.25.0
