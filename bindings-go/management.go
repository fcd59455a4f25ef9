package authsec

/*
#include <stdlib.h>
#include "authsec.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"runtime"
	"time"
	"unsafe"

	"github.com/authsec/authsec/bindings-go/internal/native"
)

// ManagementConfig configures a Management client: where the server is (BaseURL, or Domain for
// https://{Domain}) and how it authenticates: a management client's ClientID with ClientSecret,
// ClientSecretFile, PrivateKey or PrivateKeyFile, or, to bootstrap the first management client,
// the server's AdminToken (accepted only while no management client exists). The core reads and
// checks the settings (ManagementConfig::from_value, as for the Python and Node packages).
// ClientSecret, PrivateKey and AdminToken never appear in fmt output.
type ManagementConfig struct {
	BaseURL string
	Domain  string

	ClientID     string
	ClientSecret string
	// ClientSecretFile is read at start, and again when the token endpoint answers
	// invalid_client (a rotated secret is picked up without a new Management).
	ClientSecretFile string
	PrivateKey       string
	PrivateKeyFile   string
	PrivateKeyAlg    string
	// KeyID is the kid of the private key's registered public key.
	KeyID string

	// AdminToken (or AdminTokenFile) is the server's bootstrap token.
	AdminToken     string
	AdminTokenFile string

	// Scopes the management token asks for (nil = every management scope the client holds).
	Scopes []string
	// TokenURL is the token endpoint ("" = {BaseURL}/oauth/token).
	TokenURL string
	// Allow plain http:// to a non-loopback host (loopback http is always allowed).
	AllowInsecureHTTP bool
	// Timeout bounds each HTTP request (0 = the transport's default).
	Timeout time.Duration
}

// Format hides the secrets from every fmt verb.
func (c ManagementConfig) Format(f fmt.State, verb rune) {
	type plain ManagementConfig
	p := plain(c)
	p.ClientSecret, p.PrivateKey, p.AdminToken = redacted(p.ClientSecret), redacted(p.PrivateKey), redacted(p.AdminToken)
	fmt.Fprintf(f, fmt.FormatString(f, verb), p)
}

func redacted(s string) string {
	if s == "" {
		return ""
	}
	return "[REDACTED]"
}

// settings is the config as the core's settings map (set fields only).
func (c ManagementConfig) settings() map[string]any {
	m := map[string]any{}
	for k, v := range map[string]string{
		"base_url": c.BaseURL, "domain": c.Domain, "client_id": c.ClientID, "client_secret": c.ClientSecret,
		"client_secret_file": c.ClientSecretFile, "private_key": c.PrivateKey, "private_key_file": c.PrivateKeyFile,
		"private_key_alg": c.PrivateKeyAlg, "key_id": c.KeyID, "admin_token": c.AdminToken,
		"admin_token_file": c.AdminTokenFile, "token_url": c.TokenURL,
	} {
		if v != "" {
			m[k] = v
		}
	}
	if c.Scopes != nil {
		m["scopes"] = c.Scopes
	}
	if c.AllowInsecureHTTP {
		m["allow_insecure_http"] = true
	}
	if c.Timeout != 0 {
		m["timeout"] = c.Timeout.Seconds()
	}
	return m
}

// Management is a client of an authsec server's management API ({BaseURL}/admin): clients and
// their secrets, scopes, roles, the audit log and signing keys. Tokens (cached, refreshed, one
// retry after a refused one), argument checks, requests, Retry-After and error mapping are the
// core's. Safe for concurrent use; Close frees it (a finalizer does too).
type Management struct {
	h native.Handle

	Clients *ManagementClients
	Scopes  *ManagementScopes
	Roles   *ManagementRoles
	Logs    *ManagementLogs
	Keys    *ManagementKeys
}

// NewManagement creates a management client.
func NewManagement(cfg ManagementConfig) (*Management, error) {
	b, err := json.Marshal(cfg.settings())
	if err != nil {
		return nil, &Error{Code: CodeConfigError, Message: err.Error()}
	}
	cs := cString(string(b))
	defer free(cs)
	var h *C.AuthsecManagement
	var e *C.char
	if code := C.authsec_management_new(cs, &h, &e); code != 0 {
		return nil, errorFrom(code, e)
	}
	m := &Management{h: native.Handle{Ptr: unsafe.Pointer(h), Free: func(p unsafe.Pointer) { C.authsec_management_free((*C.AuthsecManagement)(p)) }}}
	m.Clients, m.Scopes, m.Roles, m.Logs, m.Keys = &ManagementClients{m}, &ManagementScopes{m}, &ManagementRoles{m}, &ManagementLogs{m}, &ManagementKeys{m}
	runtime.SetFinalizer(m, (*Management).Close)
	return m, nil
}

// Close frees the native client (once calls in flight return); closing twice is fine.
func (m *Management) Close() error {
	m.h.Close()
	runtime.SetFinalizer(m, nil)
	return nil
}

// ManagementOperations lists the core's management operations ("clients.create", ...).
func ManagementOperations() []string {
	var ops []string
	_ = json.Unmarshal([]byte(goString(C.authsec_management_operations())), &ops)
	return ops
}

// Call runs one management operation by name with its arguments (an object; nil for none) and
// decodes the result into out (nil to drop it). The typed methods are built on it; use it for an
// operation or argument they do not cover. ctx's deadline bounds the call and cancelling ctx
// returns ctx.Err() at once.
func (m *Management) Call(ctx context.Context, operation string, args any, out any) error {
	var a []byte
	if args != nil {
		var err error
		if a, err = json.Marshal(args); err != nil {
			return &Error{Code: CodeConfigError, Message: operation + ": " + err.Error()}
		}
	}
	ms := timeoutMs(ctx)
	run := func() ([]byte, error) {
		h := m.h.Acquire()
		if h == nil {
			return nil, errClosed
		}
		defer m.h.Release()
		co := cString(operation)
		defer free(co)
		var ca *C.char
		if a != nil {
			ca = cString(string(a))
			defer free(ca)
		}
		var res, e *C.char
		code := C.authsec_management_call((*C.AuthsecManagement)(h), co, ca, ms, &res, &e)
		runtime.KeepAlive(m)
		if code != 0 {
			return nil, errorFrom(code, e)
		}
		return []byte(goString(res)), nil
	}
	var res []byte
	var err error
	if ctx.Done() == nil {
		if err = ctx.Err(); err == nil {
			res, err = run()
		}
	} else {
		res, err = native.Blocking(ctx, run)
	}
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(res, out); err != nil {
		return &Error{Code: CodeInvalidResponse, Message: "cannot read the result of " + operation + ": " + err.Error()}
	}
	return nil
}

// page is a list result, as the core normalises every list.
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// list is an iterator over a list operation's pages, fetched lazily: args plus limit and cursor.
// An error is yielded once, last.
func list[T any](ctx context.Context, m *Management, operation string, args map[string]any, pageSize int) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		a := map[string]any{}
		for k, v := range args {
			a[k] = v
		}
		if pageSize > 0 {
			a["limit"] = pageSize
		}
		for {
			var p page[T]
			if err := m.Call(ctx, operation, a, &p); err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range p.Items {
				if !yield(it, nil) {
					return
				}
			}
			if p.NextCursor == nil {
				return
			}
			a["cursor"] = *p.NextCursor
		}
	}
}

// ManagementClients manages clients (Management.Clients).
type ManagementClients struct{ m *Management }

// Create registers a client. When the server generated its secret, the result's ClientSecret
// holds it (only here) and SecretID names it.
func (c *ManagementClients) Create(ctx context.Context, spec ClientSpec) (*ManagedClient, error) {
	var out ManagedClient
	if err := c.m.Call(ctx, "clients.create", fieldsOf(spec, spec.Extra), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get is one client (ErrNotFound when there is none).
func (c *ManagementClients) Get(ctx context.Context, clientID string) (*ManagedClient, error) {
	var out ManagedClient
	if err := c.m.Call(ctx, "clients.get", map[string]any{"client_id": clientID}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ClientListOptions filters and pages Clients.List.
type ClientListOptions struct {
	// Type keeps one client type ("" = every type).
	Type string
	// PageSize is how many clients each request asks for (0 = the server's default).
	PageSize int
}

// List iterates over the clients ordered by client_id, fetching pages as it goes. An error ends
// it (yielded with a nil client).
func (c *ManagementClients) List(ctx context.Context, opts ClientListOptions) iter.Seq2[*ManagedClient, error] {
	args := map[string]any{}
	if opts.Type != "" {
		args["type"] = opts.Type
	}
	return list[*ManagedClient](ctx, c.m, "clients.list", args, opts.PageSize)
}

// Update changes the fields changes sets (nil fields are left as they are) and returns the client.
func (c *ManagementClients) Update(ctx context.Context, clientID string, changes ClientChanges) (*ManagedClient, error) {
	args := fieldsOf(changes, changes.Extra)
	args["client_id"] = clientID
	var out ManagedClient
	if err := c.m.Call(ctx, "clients.update", args, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete removes a client.
func (c *ManagementClients) Delete(ctx context.Context, clientID string) error {
	return c.m.Call(ctx, "clients.delete", map[string]any{"client_id": clientID}, nil)
}

// RotateOptions tunes Clients.RotateSecret.
type RotateOptions struct {
	// Overlap is how long the old secrets keep working (whole seconds, rounded up; 0 = the
	// server's default, one day; at most 30 days).
	Overlap time.Duration
	// NoOverlap ends the old secrets now (an overlap of 0).
	NoOverlap bool
}

// RotateSecret gives the client a new secret; the old ones keep working for the overlap.
func (c *ManagementClients) RotateSecret(ctx context.Context, clientID string, opts RotateOptions) (*NewSecret, error) {
	args := map[string]any{"client_id": clientID}
	switch {
	case opts.NoOverlap:
		args["overlap"] = 0
	case opts.Overlap != 0:
		secs := opts.Overlap / time.Second
		if opts.Overlap%time.Second > 0 {
			secs++
		}
		args["overlap"] = int64(secs) // negative: the core refuses it
	}
	var out NewSecret
	if err := c.m.Call(ctx, "clients.rotate_secret", args, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeSecret ends one of the client's secrets now ("" = every secret but the newest) and
// returns those left. Revoking the last usable one is ErrConflict (rotate first).
func (c *ManagementClients) RevokeSecret(ctx context.Context, clientID, secretID string) ([]ClientSecretInfo, error) {
	args := map[string]any{"client_id": clientID}
	if secretID != "" {
		args["secret_id"] = secretID
	}
	var out struct {
		Secrets []ClientSecretInfo `json:"secrets"`
	}
	if err := c.m.Call(ctx, "clients.revoke_secret", args, &out); err != nil {
		return nil, err
	}
	return out.Secrets, nil
}

// ManagementScopes manages the scope registry (Management.Scopes).
type ManagementScopes struct{ m *Management }

// Create registers a scope (ErrConflict if it exists).
func (s *ManagementScopes) Create(ctx context.Context, name, description string) (*Scope, error) {
	args := map[string]any{"name": name}
	if description != "" {
		args["description"] = description
	}
	var out Scope
	if err := s.m.Call(ctx, "scopes.create", args, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ScopeListOptions pages Scopes.List.
type ScopeListOptions struct {
	PageSize int
}

// List iterates over the registered scopes ordered by name.
func (s *ManagementScopes) List(ctx context.Context, opts ScopeListOptions) iter.Seq2[Scope, error] {
	return list[Scope](ctx, s.m, "scopes.list", nil, opts.PageSize)
}

// Delete removes a scope (ErrConflict, naming them, while clients or roles use it).
func (s *ManagementScopes) Delete(ctx context.Context, name string) error {
	return s.m.Call(ctx, "scopes.delete", map[string]any{"name": name}, nil)
}

// ManagementRoles manages roles (Management.Roles).
type ManagementRoles struct{ m *Management }

// RoleSpec is a role's scopes and audiences (nil = none on Create, unchanged on Update).
type RoleSpec struct {
	Scopes    []string
	Audiences []string
}

func (r RoleSpec) args(name string) map[string]any {
	a := map[string]any{"name": name}
	if r.Scopes != nil {
		a["scopes"] = r.Scopes
	}
	if r.Audiences != nil {
		a["audiences"] = r.Audiences
	}
	return a
}

// Create adds a role.
func (r *ManagementRoles) Create(ctx context.Context, name string, spec RoleSpec) (*Role, error) {
	var out Role
	if err := r.m.Call(ctx, "roles.create", spec.args(name), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get is one role.
func (r *ManagementRoles) Get(ctx context.Context, name string) (*Role, error) {
	var out Role
	if err := r.m.Call(ctx, "roles.get", map[string]any{"name": name}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// List iterates over the roles.
func (r *ManagementRoles) List(ctx context.Context) iter.Seq2[Role, error] {
	return list[Role](ctx, r.m, "roles.list", nil, 0)
}

// Update changes what spec sets (a nil field keeps the role's).
func (r *ManagementRoles) Update(ctx context.Context, name string, spec RoleSpec) (*Role, error) {
	var out Role
	if err := r.m.Call(ctx, "roles.update", spec.args(name), &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete removes a role.
func (r *ManagementRoles) Delete(ctx context.Context, name string) error {
	return r.m.Call(ctx, "roles.delete", map[string]any{"name": name}, nil)
}

// ManagementLogs reads the audit log (Management.Logs).
type ManagementLogs struct{ m *Management }

// LogQuery filters Logs.List (zero fields filter nothing).
type LogQuery struct {
	ClientID string
	// Events keeps these event names (e.g. "token").
	Events []string
	// Outcome is "success" or "failure".
	Outcome string
	// Since and Until bound the events' time.
	Since, Until time.Time
	PageSize     int
}

// List iterates over the audit events, newest first, fetching pages as it goes.
func (l *ManagementLogs) List(ctx context.Context, q LogQuery) iter.Seq2[AuditEvent, error] {
	args := map[string]any{}
	if q.ClientID != "" {
		args["client_id"] = q.ClientID
	}
	if len(q.Events) > 0 {
		args["event"] = q.Events
	}
	if q.Outcome != "" {
		args["outcome"] = q.Outcome
	}
	if !q.Since.IsZero() {
		args["since"] = unixSeconds(q.Since)
	}
	if !q.Until.IsZero() {
		args["until"] = unixSeconds(q.Until)
	}
	return list[AuditEvent](ctx, l.m, "logs.list", args, q.PageSize)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// ManagementKeys manages the server's signing keys (Management.Keys).
type ManagementKeys struct{ m *Management }

// List is the server's signing keys.
func (k *ManagementKeys) List(ctx context.Context) ([]SigningKey, error) {
	var p page[SigningKey]
	if err := k.m.Call(ctx, "keys.list", nil, &p); err != nil {
		return nil, err
	}
	return p.Items, nil
}

// KeyRotateOptions tunes Keys.Rotate.
type KeyRotateOptions struct {
	// Alg of the new key ("" = the server's).
	Alg string
	// ActivateIn delays signing with the new key (whole seconds), so verifiers fetch it first.
	ActivateIn time.Duration
}

// Rotate creates a new signing key.
func (k *ManagementKeys) Rotate(ctx context.Context, opts KeyRotateOptions) (*SigningKey, error) {
	args := map[string]any{}
	if opts.Alg != "" {
		args["alg"] = opts.Alg
	}
	if opts.ActivateIn != 0 {
		args["activate_in"] = int64(opts.ActivateIn / time.Second)
	}
	var out SigningKey
	if err := k.m.Call(ctx, "keys.rotate", args, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
