package authsec

// Code generated from bindings-go/capi/src/lib.rs and core/src/error.rs; the tests fail when it drifts.

// Error codes (values are the C ABI's AuthsecCode; never reused).
const (
	CodeInvalidRequest            Code = 1
	CodeInvalidClient             Code = 2
	CodeInvalidGrant              Code = 3
	CodeUnauthorizedClient        Code = 4
	CodeUnsupportedGrantType      Code = 5
	CodeInvalidScope              Code = 6
	CodeInvalidTarget             Code = 7
	CodeOauthError                Code = 8
	CodeRateLimited               Code = 9
	CodeServerError               Code = 10
	CodeInvalidResponse           Code = 11
	CodeNetworkError              Code = 12
	CodeTimeout                   Code = 13
	CodeInsecureTransport         Code = 14
	CodeConfigError               Code = 15
	CodeInvalidKey                Code = 16
	CodeInvalidJwks               Code = 17
	CodeJwksUnavailable           Code = 18
	CodeMalformedToken            Code = 19
	CodeTokenTooLarge             Code = 20
	CodeUnsupportedAlgorithm      Code = 21
	CodeAlgorithmMismatch         Code = 22
	CodeKeyNotFound               Code = 23
	CodeInvalidSignature          Code = 24
	CodeTokenExpired              Code = 25
	CodeTokenNotYetValid          Code = 26
	CodeInvalidIssuer             Code = 27
	CodeInvalidAudience           Code = 28
	CodeInvalidTokenType          Code = 29
	CodeUnsupportedCriticalHeader Code = 30
	CodeInvalidClaim              Code = 31
	CodeInsufficientScope         Code = 32
	CodeInternalError             Code = 33
)

// codeNames is the stable snake_case name of every code, in the core's order.
var codeNames = map[Code]string{
	CodeInvalidRequest:            "invalid_request",
	CodeInvalidClient:             "invalid_client",
	CodeInvalidGrant:              "invalid_grant",
	CodeUnauthorizedClient:        "unauthorized_client",
	CodeUnsupportedGrantType:      "unsupported_grant_type",
	CodeInvalidScope:              "invalid_scope",
	CodeInvalidTarget:             "invalid_target",
	CodeOauthError:                "oauth_error",
	CodeRateLimited:               "rate_limited",
	CodeServerError:               "server_error",
	CodeInvalidResponse:           "invalid_response",
	CodeNetworkError:              "network_error",
	CodeTimeout:                   "timeout",
	CodeInsecureTransport:         "insecure_transport",
	CodeConfigError:               "config_error",
	CodeInvalidKey:                "invalid_key",
	CodeInvalidJwks:               "invalid_jwks",
	CodeJwksUnavailable:           "jwks_unavailable",
	CodeMalformedToken:            "malformed_token",
	CodeTokenTooLarge:             "token_too_large",
	CodeUnsupportedAlgorithm:      "unsupported_algorithm",
	CodeAlgorithmMismatch:         "algorithm_mismatch",
	CodeKeyNotFound:               "key_not_found",
	CodeInvalidSignature:          "invalid_signature",
	CodeTokenExpired:              "token_expired",
	CodeTokenNotYetValid:          "token_not_yet_valid",
	CodeInvalidIssuer:             "invalid_issuer",
	CodeInvalidAudience:           "invalid_audience",
	CodeInvalidTokenType:          "invalid_token_type",
	CodeUnsupportedCriticalHeader: "unsupported_critical_header",
	CodeInvalidClaim:              "invalid_claim",
	CodeInsufficientScope:         "insufficient_scope",
	CodeInternalError:             "internal_error",
}

// allCodes is every code in the core's order.
var allCodes = []Code{CodeInvalidRequest, CodeInvalidClient, CodeInvalidGrant, CodeUnauthorizedClient, CodeUnsupportedGrantType, CodeInvalidScope, CodeInvalidTarget, CodeOauthError, CodeRateLimited, CodeServerError, CodeInvalidResponse, CodeNetworkError, CodeTimeout, CodeInsecureTransport, CodeConfigError, CodeInvalidKey, CodeInvalidJwks, CodeJwksUnavailable, CodeMalformedToken, CodeTokenTooLarge, CodeUnsupportedAlgorithm, CodeAlgorithmMismatch, CodeKeyNotFound, CodeInvalidSignature, CodeTokenExpired, CodeTokenNotYetValid, CodeInvalidIssuer, CodeInvalidAudience, CodeInvalidTokenType, CodeUnsupportedCriticalHeader, CodeInvalidClaim, CodeInsufficientScope, CodeInternalError}

// Sentinel errors, one per code, for errors.Is.
var (
	ErrInvalidRequest            = &Error{Code: CodeInvalidRequest}
	ErrInvalidClient             = &Error{Code: CodeInvalidClient}
	ErrInvalidGrant              = &Error{Code: CodeInvalidGrant}
	ErrUnauthorizedClient        = &Error{Code: CodeUnauthorizedClient}
	ErrUnsupportedGrantType      = &Error{Code: CodeUnsupportedGrantType}
	ErrInvalidScope              = &Error{Code: CodeInvalidScope}
	ErrInvalidTarget             = &Error{Code: CodeInvalidTarget}
	ErrOauthError                = &Error{Code: CodeOauthError}
	ErrRateLimited               = &Error{Code: CodeRateLimited}
	ErrServerError               = &Error{Code: CodeServerError}
	ErrInvalidResponse           = &Error{Code: CodeInvalidResponse}
	ErrNetworkError              = &Error{Code: CodeNetworkError}
	ErrTimeout                   = &Error{Code: CodeTimeout}
	ErrInsecureTransport         = &Error{Code: CodeInsecureTransport}
	ErrConfigError               = &Error{Code: CodeConfigError}
	ErrInvalidKey                = &Error{Code: CodeInvalidKey}
	ErrInvalidJwks               = &Error{Code: CodeInvalidJwks}
	ErrJwksUnavailable           = &Error{Code: CodeJwksUnavailable}
	ErrMalformedToken            = &Error{Code: CodeMalformedToken}
	ErrTokenTooLarge             = &Error{Code: CodeTokenTooLarge}
	ErrUnsupportedAlgorithm      = &Error{Code: CodeUnsupportedAlgorithm}
	ErrAlgorithmMismatch         = &Error{Code: CodeAlgorithmMismatch}
	ErrKeyNotFound               = &Error{Code: CodeKeyNotFound}
	ErrInvalidSignature          = &Error{Code: CodeInvalidSignature}
	ErrTokenExpired              = &Error{Code: CodeTokenExpired}
	ErrTokenNotYetValid          = &Error{Code: CodeTokenNotYetValid}
	ErrInvalidIssuer             = &Error{Code: CodeInvalidIssuer}
	ErrInvalidAudience           = &Error{Code: CodeInvalidAudience}
	ErrInvalidTokenType          = &Error{Code: CodeInvalidTokenType}
	ErrUnsupportedCriticalHeader = &Error{Code: CodeUnsupportedCriticalHeader}
	ErrInvalidClaim              = &Error{Code: CodeInvalidClaim}
	ErrInsufficientScope         = &Error{Code: CodeInsufficientScope}
	ErrInternalError             = &Error{Code: CodeInternalError}
)
