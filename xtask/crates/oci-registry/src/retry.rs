//! Retrying what a registry may fail for a moment: 5xx answers, 429, timeouts, refused or reset
//! connections. Anything else (401, 404, a bad manifest) fails at once: retrying cannot help.

use std::future::Future;
use std::time::Duration;

use oci_client::errors::{OciDistributionError, OciErrorCode};

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

/// Five attempts over about 6 s: long enough to ride out a registry restart or a load
/// balancer's hiccup, short enough that a registry that is really down fails the push soon.
pub const DEFAULT: Policy = Policy {
    attempts: 5,
    first_delay: Duration::from_millis(400),
    max_delay: Duration::from_secs(8),
};

/// Runs `op` until it succeeds, fails for good, or has failed `policy.attempts` times;
/// `on_retry` hears about each failure that will be retried.
pub async fn with_backoff<T, F, Fut>(
    policy: Policy,
    mut op: F,
    mut on_retry: impl FnMut(u32, &OciDistributionError),
) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, OciDistributionError>>,
{
    let mut delay = policy.first_delay;
    let attempts = policy.attempts.max(1);
    for attempt in 1..=attempts {
        match op().await {
            Ok(value) => return Ok(value),
            Err(err) if attempt < attempts && is_transient(&err) => {
                on_retry(attempt, &err);
                tokio::time::sleep(delay + jitter(delay)).await;
                delay = (delay * 2).min(policy.max_delay);
            }
            Err(err) => {
                return Err(Failure {
                    transient: is_transient(&err),
                    attempts: attempt,
                    error: err,
                });
            }
        }
    }
    unreachable!("the last attempt returns")
}

#[derive(Debug)]
pub struct Failure {
    pub error: OciDistributionError,
    pub attempts: u32,
    /// The last error was of a kind that may pass (the registry is down or overloaded).
    pub transient: bool,
}

pub fn is_transient(err: &OciDistributionError) -> bool {
    if speaks_no_tls(err) {
        return false;
    }
    match err {
        OciDistributionError::RequestError(e) => {
            e.is_timeout()
                || e.is_connect()
                || e.is_request()
                || e.is_body()
                || e.status()
                    .is_some_and(|s| s.is_server_error() || s.as_u16() == 429)
        }
        OciDistributionError::ServerError { code, .. } => *code >= 500 || *code == 429,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| e.code == OciErrorCode::Toomanyrequests),
        OciDistributionError::IoError(_) => true,
        _ => false,
    }
}

/// A TLS handshake with a server that answered in plain HTTP: retrying cannot help.
pub fn speaks_no_tls(err: &OciDistributionError) -> bool {
    let text = crate::one_line(err);
    text.contains("InvalidContentType") || text.contains("corrupt message")
}

/// Up to a quarter of `delay`, so that parallel pushes do not retry in lockstep.
fn jitter(delay: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    delay / 4 * (nanos % 1000) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_are_transient_and_client_errors_are_not() {
        let server = OciDistributionError::ServerError {
            code: 503,
            url: "u".into(),
            message: "m".into(),
        };
        let client = OciDistributionError::ServerError {
            code: 400,
            url: "u".into(),
            message: "m".into(),
        };
        assert!(is_transient(&server));
        assert!(!is_transient(&client));
        assert!(!is_transient(
            &OciDistributionError::RegistryNoLocationError
        ));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn gives_up_after_the_last_attempt() {
        let policy = Policy {
            attempts: 3,
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        };
        let mut calls = 0;
        let result: Result<(), Failure> = with_backoff(
            policy,
            || {
                calls += 1;
                async {
                    Err(OciDistributionError::ServerError {
                        code: 502,
                        url: "u".into(),
                        message: "bad gateway".into(),
                    })
                }
            },
            |_, _| {},
        )
        .await;
        let failure = result.unwrap_err();
        assert_eq!((calls, failure.attempts, failure.transient), (3, 3, true));
    }
}
