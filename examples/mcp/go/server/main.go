// Command server runs the example MCP server (package files) alone, configured by environment
// variables, for an outside client such as the MCP conformance suite:
//
//	MCP_PORT=8000 MCP_ISSUER=http://127.0.0.1:9000 go run ./server      (in examples/mcp/go)
//
//	MCP_PORT             the port it listens on, on 127.0.0.1 (default 8000; 0 = any free one)
//	MCP_RESOURCE         its URL as clients reach it (default http://127.0.0.1:$MCP_PORT/mcp)
//	MCP_ISSUER           the authorization server whose tokens it accepts (required)
//	MCP_JWKS_URI         the issuer's JWKS URL (optional; default: discovered from the issuer)
//	MCP_AUDIENCE_MATCH   exact (default), trailing_slash or path_prefix
//
// It prints "server: URL ..." once it listens and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/examples/mcp/go/files"
)

func main() {
	log.SetFlags(0)
	port := os.Getenv("MCP_PORT")
	if port == "" {
		port = "8000"
	}
	issuer := os.Getenv("MCP_ISSUER")
	if issuer == "" {
		log.Fatal("server: set MCP_ISSUER to the authorization server's issuer URL")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		log.Fatal(err)
	}
	resource := os.Getenv("MCP_RESOURCE")
	if resource == "" {
		resource = "http://" + ln.Addr().String() + "/mcp"
	}
	srv, err := files.New(resource, issuer, authsec.VerifierConfig{
		JWKSURI: os.Getenv("MCP_JWKS_URI"), AudienceMatch: os.Getenv("MCP_AUDIENCE_MATCH")})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Auth.Close()
	hs := &http.Server{Handler: srv.Handler, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	fmt.Printf("server: %s (metadata %s, issuer %s)\n", resource, srv.Auth.Auth().MetadataURL(), issuer)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.Shutdown(shutdown)
}
