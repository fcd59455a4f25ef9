//! Contract §3: a secret or key read from a file is read again when the token endpoint answers
//! `invalid_client`; a changed file means one more request with the new credentials, an
//! unchanged one means the error stands. Never a loop, never the secret in an error.

mod support;
use authsec_core::config::FileReader;
use futures::executor::block_on;
use support::*;

const OLD: &str = "old-s3cret-from-file";
const NEW: &str = "new-s3cret-from-file";

/// Files in memory, with a count of reads.
#[derive(Default)]
struct Files {
    files: Mutex<std::collections::HashMap<String, String>>,
    reads: Mutex<usize>,
}

impl Files {
    fn with(path: &str, text: &str) -> Arc<Files> {
        let f = Arc::new(Files::default());
        f.write(path, text);
        f
    }
    fn write(&self, path: &str, text: &str) {
        self.files.lock().insert(path.into(), text.into());
    }
    fn reads(&self) -> usize {
        *self.reads.lock()
    }
}

impl FileReader for Files {
    fn read_file(&self, path: &str) -> std::result::Result<String, String> {
        *self.reads.lock() += 1;
        self.files
            .lock()
            .get(path)
            .cloned()
            .ok_or_else(|| "no such file".into())
    }
}

/// The same files as the configuration's environment.
struct Env(Arc<Files>);
impl ConfigEnv for Env {
    fn var(&self, name: &str) -> Option<String> {
        match name {
            "AUTHSEC_CLIENT_ID" => Some("agent-1".into()),
            "AUTHSEC_CLIENT_SECRET_FILE" => Some("/run/secrets/env".into()),
            "AUTHSEC_TOKEN_URL" => Some(TOKEN_URL.into()),
            _ => None,
        }
    }
    fn read_file(&self, path: &str) -> std::result::Result<String, String> {
        self.0.read_file(path)
    }
}

/// The basic-auth secret a token request carried.
fn secret_of(r: &HttpRequest) -> String {
    let basic = r.header("authorization").unwrap().strip_prefix("Basic ").unwrap();
    let raw = String::from_utf8(authsec_core::util::b64_std_decode(basic).unwrap()).unwrap();
    raw.split_once(':').unwrap().1.to_string()
}

/// A token endpoint that accepts only `accepted`, and says which secret it refused.
fn endpoint(clock: &ManualClock, accepted: &'static str) -> Arc<Fake> {
    Fake::new(clock, move |r, n| {
        let got = secret_of(r);
        Ok(if got == accepted {
            token_json(&format!("tok-{n}"), 3600)
        } else {
            oauth_error(401, "invalid_client", &format!("secret {got} is not valid"))
        })
    })
}

fn file_client(fake: &Arc<Fake>, files: &Arc<Files>) -> TokenClient {
    let cfg = ClientConfig::from_value(
        &json!({"client_id": "agent-1", "client_secret_file": "/run/secrets/s", "token_url": TOKEN_URL}),
        Env(files.clone()),
    )
    .unwrap();
    assert_eq!(cfg.client_secret_file.as_deref(), Some("/run/secrets/s"));
    let clock = Arc::new(ManualClock::new(T0));
    TokenClient::new(cfg, fake.clone(), clock.clone(), clock)
        .unwrap()
        .with_file_reader(files.clone())
        .unwrap()
}

#[test]
fn a_rotated_secret_file_is_read_again_and_the_request_sent_once_more() {
    let clock = ManualClock::new(T0);
    let fake = endpoint(&clock, NEW);
    let files = Files::with("/run/secrets/s", &format!("{OLD}\n"));
    let c = file_client(&fake, &files);
    files.write("/run/secrets/s", &format!("{NEW}\n"));
    let t = block_on(c.get_token()).unwrap();
    assert_eq!(tok(&t), "tok-1");
    assert_eq!(fake.count(), 2);
    assert_eq!(secret_of(&fake.request(0)), OLD);
    assert_eq!(secret_of(&fake.request(1)), NEW);
    // The new secret stays: the next token request uses it at once.
    c.invalidate();
    assert_eq!(tok(&block_on(c.get_token()).unwrap()), "tok-2");
    assert_eq!(fake.count(), 3);
    assert_eq!(secret_of(&fake.request(2)), NEW);
}

#[test]
fn an_unchanged_file_leaves_the_error_after_one_request() {
    let clock = ManualClock::new(T0);
    let fake = endpoint(&clock, NEW);
    let files = Files::with("/run/secrets/s", OLD);
    let c = file_client(&fake, &files);
    let reads_before = files.reads();
    let e = block_on(c.get_token()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClient);
    assert_eq!(fake.count(), 1);
    assert_eq!(files.reads(), reads_before + 1, "read once more, found unchanged");
    assert!(!e.message().contains(OLD), "{e}");
    // A file that cannot be read: the same.
    files.files.lock().clear();
    let e = block_on(c.get_token()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClient);
    assert_eq!(fake.count(), 2);
}

#[test]
fn a_changed_but_still_refused_secret_is_an_error_after_exactly_two_requests() {
    let clock = ManualClock::new(T0);
    let fake = endpoint(&clock, "the-one-the-server-wants");
    let files = Files::with("/run/secrets/s", OLD);
    let c = file_client(&fake, &files);
    files.write("/run/secrets/s", NEW);
    let e = block_on(c.get_token()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClient);
    assert_eq!(fake.count(), 2, "no loop");
    assert_eq!(secret_of(&fake.request(1)), NEW);
    // The server echoed the secret it refused: neither the old nor the new one is shown.
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(NEW) && !shown.contains(OLD), "{shown}");
}

#[test]
fn the_authsec_client_secret_file_variable_is_read_again_too() {
    let clock = ManualClock::new(T0);
    let fake = endpoint(&clock, NEW);
    let files = Files::with("/run/secrets/env", OLD);
    let cfg = ClientConfig::from_env_with(Env(files.clone())).unwrap();
    assert_eq!(cfg.client_secret_file.as_deref(), Some("/run/secrets/env"));
    let c = TokenClient::new(cfg, fake.clone(), Arc::new(clock.clone()), Arc::new(clock.clone()))
        .unwrap()
        .with_file_reader(files.clone())
        .unwrap();
    files.write("/run/secrets/env", NEW);
    assert_eq!(tok(&block_on(c.get_token()).unwrap()), "tok-1");
}

#[test]
fn a_secret_given_inline_is_not_read_again() {
    let clock = ManualClock::new(T0);
    let fake = endpoint(&clock, NEW);
    let files = Files::with("/run/secrets/s", NEW);
    let c = client_with(cfg(), &fake, RetryPolicy::default())
        .with_file_reader(files.clone())
        .unwrap();
    let e = block_on(c.get_token()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidClient);
    assert_eq!((fake.count(), files.reads()), (1, 0));
}

#[test]
fn a_rotated_private_key_file_is_read_again() {
    let old = SigningKey::generate(Alg::ES256, None).unwrap();
    let new = SigningKey::generate(Alg::ES256, None).unwrap();
    // A PEM's kid is its key's thumbprint: the server accepts assertions naming the new key.
    let new_kid = SigningKey::from_pem(new.to_pem().expose(), None, None)
        .unwrap()
        .kid()
        .to_string();
    assert_ne!(
        SigningKey::from_pem(old.to_pem().expose(), None, None).unwrap().kid(),
        new_kid
    );
    let clock = ManualClock::new(T0);
    let fake = Fake::new(&clock, move |r, n| {
        let form: Vec<(String, String)> = form_urlencoded::parse(&r.body).into_owned().collect();
        let assertion = &form.iter().find(|(k, _)| k == "client_assertion").unwrap().1;
        let header = authsec_core::util::b64url_decode(assertion.split('.').next().unwrap()).unwrap();
        let header: Value = serde_json::from_slice(&header).unwrap();
        Ok(if header["kid"] == new_kid.as_str() {
            token_json(&format!("tok-{n}"), 3600)
        } else {
            oauth_error(401, "invalid_client", "unknown key")
        })
    });
    let files = Files::with("/run/keys/k.pem", old.to_pem().expose());
    let cfg = ClientConfig::from_value(
        &json!({"client_id": "agent-1", "private_key_file": "/run/keys/k.pem", "token_url": TOKEN_URL}),
        Env(files.clone()),
    )
    .unwrap();
    assert_eq!(cfg.private_key_file.as_deref(), Some("/run/keys/k.pem"));
    let c = TokenClient::new(cfg, fake.clone(), Arc::new(clock.clone()), Arc::new(clock.clone()))
        .unwrap()
        .with_file_reader(files.clone())
        .unwrap();
    assert_eq!(c.client_auth().method(), "private_key_jwt");
    files.write("/run/keys/k.pem", new.to_pem().expose());
    assert_eq!(tok(&block_on(c.get_token()).unwrap()), "tok-1");
    assert_eq!(fake.count(), 2);
}
