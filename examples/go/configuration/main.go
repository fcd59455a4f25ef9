// Command configuration configures a client from AUTHSEC_* environment variables and from a
// config.yaml with ${VAR} interpolation.
//
//	go run ./configuration
//
// authsec.NewClientCredentialsFromEnv and authsec.NewClientCredentialsFromConfigFile are the
// core's readers, the same ones behind Python's ClientCredentials.from_env() / from_config() and
// Node's ClientCredentials.fromEnv() / fromConfigFile(). A missing variable is an error that names
// it. In production your deployment sets the variables; here they are set in-process to point at
// the local authorization server this example starts.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	authsec "github.com/authsec/authsec/bindings-go"
	"github.com/authsec/authsec/examples/go/internal/local"
)

func describe(ctx context.Context, source string, client *authsec.ClientCredentials) {
	token, err := client.Token(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: token for %v, expires in %.0f s\n", source, token.Scopes, time.Until(token.Expiry).Seconds())
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	auth, err := local.StartAuth(3600)
	if err != nil {
		log.Fatal(err)
	}
	defer auth.Close()

	// What a deployment would put in the agent's environment.
	for k, v := range map[string]string{
		"AUTHSEC_CLIENT_ID":     auth.ClientID,
		"AUTHSEC_CLIENT_SECRET": auth.ClientSecret,
		"AUTHSEC_TOKEN_URL":     auth.TokenURL,
		"AUTHSEC_SCOPES":        "read:data",
		"AUTHSEC_AUDIENCE":      local.APIAudience,
	} {
		os.Setenv(k, v)
	}

	// [START config_env]
	// AUTHSEC_CLIENT_ID, AUTHSEC_CLIENT_SECRET (or AUTHSEC_CLIENT_SECRET_FILE), AUTHSEC_TOKEN_URL
	// (or AUTHSEC_ISSUER to discover it), AUTHSEC_SCOPES, AUTHSEC_AUDIENCE, AUTHSEC_REFRESH_BUFFER, ...
	client, err := authsec.NewClientCredentialsFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	// [END config_env]
	describe(ctx, "from AUTHSEC_* variables", client)

	// [START config_yaml]
	// config.yaml's ${AUTHSEC_CLIENT_ID}, ${AUTHSEC_CLIENT_SECRET}, ... come from the environment.
	fromFile, err := authsec.NewClientCredentialsFromConfigFile("config.yaml")
	if err != nil {
		log.Fatal(err)
	}
	defer fromFile.Close()
	// [END config_yaml]
	describe(ctx, "from config.yaml", fromFile)

	// A variable the file needs is missing: the error names it (and never shows a value).
	os.Unsetenv("AUTHSEC_CLIENT_SECRET")
	var e *authsec.Error
	if _, err := authsec.NewClientCredentialsFromConfigFile("config.yaml"); errors.As(err, &e) {
		fmt.Printf("without AUTHSEC_CLIENT_SECRET: %s: %s\n", e.Code, e.Message)
	} else {
		log.Fatalf("expected a config error, got %v", err)
	}
	fmt.Println("done: configuration")
}
