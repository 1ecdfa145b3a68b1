//! Long-lived responses (log follow streams today; exec, terminals and watches later) end
//! when the caller's access does.
//!
//! A request is authorized once, when it starts; a stream outlives that moment. So every
//! stream runs under a [`StreamGuard`]: it takes one of the caller's stream slots (at most
//! [`Settings::max_streams_per_user`] at a time, the next is refused with `TooManyStreams`,
//! 429), and while the stream runs it checks the caller's access again every
//! [`RECHECK_INTERVAL`]: the token (signature, expiry, the user still exists, is enabled and
//! has the token generation the token carries, which a password change or a revocation
//! bumps) and the authorization the handler granted at the start (a role unbound or
//! narrowed). It ends the stream at the first failure, after
//! [`Settings::stream_max_duration`], or when the server shuts down, whichever comes first.
//!
//! The authorizer comes from [`AppState::policy`], cached for `policy_ttl`: a change made
//! through this server applies at once (it invalidates the cache), one made elsewhere within
//! `RECHECK_INTERVAL + policy_ttl`. A check that cannot be made (the cluster is unreachable)
//! ends the stream too: access that cannot be confirmed is not assumed.
//!
//! [`Settings::max_streams_per_user`]: crate::Settings::max_streams_per_user
//! [`Settings::stream_max_duration`]: crate::Settings::stream_max_duration

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::{Stream, StreamExt};
use kubemate_core::Code;
use tokio::time::{Instant, MissedTickBehavior};

use crate::{
    auth::{self, AuthUser},
    error::{ApiError, ApiResult},
    state::AppState,
};

/// How often a running stream checks the caller's access again.
pub const RECHECK_INTERVAL: Duration = Duration::from_secs(1);

/// The authorization a stream's handler granted at its start, run again on every check.
pub type Check = Box<dyn Fn(&AuthUser) -> ApiResult<()> + Send + Sync>;

/// Why a guard ended a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The caller lost access: the reason, as the API would answer a new request.
    AccessLost(String),
    /// The stream reached the longest duration allowed.
    MaxDuration(Duration),
    /// The server is shutting down.
    ShuttingDown,
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            End::AccessLost(why) => write!(f, "access lost: {why}"),
            End::MaxDuration(d) => write!(
                f,
                "the longest stream allowed ({} s) is over; open a new one",
                d.as_secs()
            ),
            End::ShuttingDown => f.write_str("the server is shutting down"),
        }
    }
}

/// An item of a guarded stream: the inner stream's, or, last, why the guard ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guarded<T> {
    /// An item of the inner stream.
    Item(T),
    /// The guard ended the stream (not emitted when the inner stream ends by itself).
    Ended(End),
}

/// The number of open streams of each user.
#[derive(Debug, Default)]
pub struct Slots(Mutex<HashMap<String, usize>>);

/// One open stream of a user; frees its slot when dropped.
#[derive(Debug)]
struct Slot {
    slots: Arc<Slots>,
    user: String,
}

impl Slots {
    /// The streams `user` has open.
    pub fn open(&self, user: &str) -> usize {
        let counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        counts.get(user).copied().unwrap_or(0)
    }

    fn take(self: &Arc<Self>, user: &str, limit: usize) -> ApiResult<Slot> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let open = counts.entry(user.to_owned()).or_insert(0);
        if *open >= limit {
            return Err(ApiError::new(
                Code::TooManyStreams,
                format!(
                    "user \"{user}\" already has {open} open streams, the most allowed; close one \
                     first"
                ),
            ));
        }
        *open += 1;
        Ok(Slot {
            slots: Arc::clone(self),
            user: user.to_owned(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.slots.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = counts.get_mut(&self.user) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                counts.remove(&self.user);
            }
        }
    }
}

/// The guard of one stream: its slot, and what to check again while it runs.
pub struct StreamGuard {
    state: AppState,
    user: AuthUser,
    check: Check,
    deadline: Instant,
    _slot: Slot,
}

impl fmt::Debug for StreamGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamGuard")
            .field("user", &self.user.name)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl StreamGuard {
    /// Takes one of `user`'s stream slots (`TooManyStreams` when they have none left) for a
    /// stream whose start `check` authorized. Call it after authorization and before opening
    /// the stream upstream, so that a refused stream costs the cluster nothing.
    pub fn open(
        state: &AppState,
        user: &AuthUser,
        check: impl Fn(&AuthUser) -> ApiResult<()> + Send + Sync + 'static,
    ) -> ApiResult<StreamGuard> {
        let slot = state
            .streams
            .take(&user.name, state.settings.max_streams_per_user)?;
        Ok(StreamGuard {
            state: state.clone(),
            user: user.clone(),
            check: Box::new(check),
            deadline: Instant::now() + state.settings.stream_max_duration,
            _slot: slot,
        })
    }

    /// Checks the caller's access again: the token against the current users and roles, then
    /// the authorization of the stream's start.
    pub async fn recheck(&self) -> Result<(), String> {
        let fresh = auth::authenticate(&self.state, self.user.token().clone())
            .await
            .map_err(|e| reason(&e))?;
        (self.check)(&fresh).map_err(|e| reason(&e))
    }

    /// Resolves when the stream must end (and never before): for streams that are not a
    /// [`Stream`] (a socket loop), to `select!` on.
    pub async fn ended(&self) -> End {
        let shutdown = self.state.shutdown.clone();
        let mut ticks =
            tokio::time::interval_at(Instant::now() + RECHECK_INTERVAL, RECHECK_INTERVAL);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let end = loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break End::ShuttingDown,
                () = tokio::time::sleep_until(self.deadline) => {
                    break End::MaxDuration(self.state.settings.stream_max_duration);
                }
                _ = ticks.tick() => {
                    if let Err(why) = self.recheck().await {
                        break End::AccessLost(why);
                    }
                }
            }
        };
        tracing::info!(user = %self.user.name, reason = %end, "a stream was ended");
        end
    }

    /// `inner` under this guard: its items until it ends by itself or the guard ends it, in
    /// which case the last item says why. The slot is freed when the stream is dropped.
    pub fn run<S>(self, inner: S) -> impl Stream<Item = Guarded<S::Item>> + Send + 'static
    where
        S: Stream + Send + Unpin + 'static,
        S::Item: Send,
    {
        let ended = Box::pin(async move { self.ended().await });
        futures::stream::unfold(Some((inner, ended)), |running| async move {
            let (mut inner, mut ended) = running?;
            tokio::select! {
                biased;
                end = &mut ended => Some((Guarded::Ended(end), None)),
                item = inner.next() => {
                    item.map(|item| (Guarded::Item(item), Some((inner, ended))))
                }
            }
        })
    }
}

fn reason(e: &ApiError) -> String {
    if e.status().is_server_error() {
        format!("access could not be checked ({})", e.code())
    } else {
        e.message().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_user_and_freed_on_drop() {
        let slots = Arc::new(Slots::default());
        let a1 = slots.take("alice", 2).expect("first");
        let a2 = slots.take("alice", 2).expect("second");
        let refused = slots.take("alice", 2).expect_err("third");
        assert_eq!(refused.code(), Code::TooManyStreams);
        assert_eq!(refused.status().as_u16(), 429);
        let _b = slots.take("bob", 2).expect("another user's own limit");
        drop(a1);
        assert_eq!(slots.open("alice"), 1);
        let _a3 = slots.take("alice", 2).expect("a freed slot");
        drop(a2);
        assert_eq!(slots.open("alice"), 1);
    }
}
