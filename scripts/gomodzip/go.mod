module github.com/authsec/authsec/scripts/gomodzip

go 1.25.0

require golang.org/x/mod v0.28.0
