//! `WorkloadApiClient::from_env`, alone in its test binary: it changes the process's environment,
//! which must not happen while other threads read it.

use authsec_native::workload_api::WorkloadApiClient;
use authsec_native::ErrorCode;

/// Unset is a config error naming the variable; set, the endpoint is parsed.
#[test]
fn from_env_reads_spiffe_endpoint_socket() {
    std::env::remove_var("SPIFFE_ENDPOINT_SOCKET");
    let e = WorkloadApiClient::from_env().unwrap_err();
    assert_eq!(e.code(), ErrorCode::ConfigError);
    assert!(e.message().contains("SPIFFE_ENDPOINT_SOCKET"), "{e}");
    std::env::set_var("SPIFFE_ENDPOINT_SOCKET", "unix:///run/spire/agent.sock");
    assert_eq!(
        WorkloadApiClient::from_env().unwrap().endpoint(),
        "unix:///run/spire/agent.sock"
    );
    std::env::set_var("SPIFFE_ENDPOINT_SOCKET", "tcp://localhost:1");
    assert_eq!(
        WorkloadApiClient::from_env().unwrap_err().code(),
        ErrorCode::ConfigError
    );
    std::env::remove_var("SPIFFE_ENDPOINT_SOCKET");
}
