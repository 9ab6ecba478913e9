//! `/ping`'s answer: busy while any invocation or registered background task is in flight.
//!
//! AgentCore reads `HealthyBusy` as "do not reclaim this session's microVM", so work that
//! outlives its request (a background job an invocation started) must hold a [`BusyGuard`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    Healthy,
    HealthyBusy,
}

/// Shared by the server and the agent; cheap to clone.
#[derive(Clone)]
pub struct Health {
    inner: Arc<Inner>,
}

struct Inner {
    in_flight: AtomicUsize,
    /// Unix seconds of the last change between idle and busy.
    last_update: AtomicU64,
}

impl Default for Health {
    fn default() -> Health {
        Health {
            inner: Arc::new(Inner {
                in_flight: AtomicUsize::new(0),
                last_update: AtomicU64::new(now()),
            }),
        }
    }
}

impl Health {
    /// Marks one unit of work as running until the guard is dropped.
    pub fn busy(&self) -> BusyGuard {
        if self.inner.in_flight.fetch_add(1, Ordering::SeqCst) == 0 {
            self.inner.last_update.store(now(), Ordering::SeqCst);
        }
        BusyGuard {
            health: self.clone(),
        }
    }

    /// Runs `task` in the background, keeping the agent busy until it ends.
    pub fn spawn_background<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let guard = self.busy();
        tokio::spawn(async move {
            let out = task.await;
            drop(guard);
            out
        })
    }

    pub fn status(&self) -> (Status, u64) {
        let status = if self.inner.in_flight.load(Ordering::SeqCst) > 0 {
            Status::HealthyBusy
        } else {
            Status::Healthy
        };
        (status, self.inner.last_update.load(Ordering::SeqCst))
    }
}

/// Keeps the agent `HealthyBusy` while it lives.
pub struct BusyGuard {
    health: Health,
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        let inner = &self.health.inner;
        if inner.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            inner.last_update.store(now(), Ordering::SeqCst);
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_while_any_guard_lives() {
        let health = Health::default();
        assert_eq!(health.status().0, Status::Healthy);
        let a = health.busy();
        let b = health.busy();
        drop(a);
        assert_eq!(health.status().0, Status::HealthyBusy);
        drop(b);
        assert_eq!(health.status().0, Status::Healthy);
    }

    #[tokio::test]
    async fn a_background_task_keeps_it_busy_until_it_ends() {
        let health = Health::default();
        let (finish, finished) = tokio::sync::oneshot::channel::<()>();
        let task = health.spawn_background(async move {
            let _ = finished.await;
        });
        assert_eq!(health.status().0, Status::HealthyBusy);
        finish.send(()).unwrap();
        task.await.unwrap();
        assert_eq!(health.status().0, Status::Healthy);
    }
}
