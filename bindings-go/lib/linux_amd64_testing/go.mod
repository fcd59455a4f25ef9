module github.com/authsec/authsec/bindings-go/lib/linux_amd64_testing

go 1.25.0
