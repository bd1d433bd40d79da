//! A cap on open MCP sessions, so a client that opens sessions in a loop cannot exhaust memory.
//!
//! rmcp's `LocalSessionManager` keeps every session until the client deletes it or it has
//! been idle for its keep-alive time (5 minutes by default). [`BoundedSessions`] delegates to
//! it and refuses new sessions while every slot of its [`SessionSlots`] is taken. The SSE
//! transport takes its slots from the same [`SessionSlots`], so the cap counts both.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_core::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError,
};
use rmcp::transport::streamable_http_server::session::{
    EventStore, RestoreOutcome, ServerSseMessage, SessionId,
};

/// Sessions open at once when `--max-sessions` is not given.
pub const DEFAULT_MAX_SESSIONS: usize = 1000;

/// Errors of the bounded session manager.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    #[error("too many open MCP sessions ({0}): close idle sessions or raise --max-sessions")]
    Limit(usize),
    #[error(transparent)]
    Local(#[from] LocalSessionManagerError),
}

/// A counter of open MCP sessions with a maximum, shared by every transport.
#[derive(Debug)]
pub struct SessionSlots {
    open: AtomicUsize,
    max: usize,
}

impl SessionSlots {
    pub fn new(max: usize) -> SessionSlots {
        SessionSlots {
            open: AtomicUsize::new(0),
            max,
        }
    }

    /// Maximum number of sessions open at once.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Number of sessions open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Takes a slot, or returns false when all are taken.
    fn try_reserve(&self) -> bool {
        let reserved = self
            .open
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |open| {
                (open < self.max).then_some(open + 1)
            });
        if reserved.is_err() {
            tracing::warn!(
                max = self.max,
                "rejected a new MCP session: the session limit is reached"
            );
        }
        reserved.is_ok()
    }

    fn release(&self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }

    /// Takes a slot that is given back when the returned guard is dropped, or returns
    /// `None` when all are taken.
    pub fn acquire(self: &Arc<Self>) -> Option<SessionSlot> {
        self.try_reserve().then(|| SessionSlot(self.clone()))
    }
}

/// One taken session slot, given back on drop.
#[derive(Debug)]
pub struct SessionSlot(Arc<SessionSlots>);

impl Drop for SessionSlot {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// rmcp's in-memory session manager with a maximum number of open sessions.
pub struct BoundedSessions {
    inner: LocalSessionManager,
    slots: Arc<SessionSlots>,
}

impl BoundedSessions {
    pub fn new(max: usize) -> BoundedSessions {
        BoundedSessions::sharing(Arc::new(SessionSlots::new(max)))
    }

    /// Creates a session manager that takes its slots from `slots`.
    pub fn sharing(slots: Arc<SessionSlots>) -> BoundedSessions {
        BoundedSessions {
            inner: LocalSessionManager::default(),
            slots,
        }
    }

    /// Maximum number of sessions open at once.
    pub fn max(&self) -> usize {
        self.slots.max()
    }
}

impl SessionManager for BoundedSessions {
    type Error = SessionError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        if !self.slots.try_reserve() {
            return Err(SessionError::Limit(self.slots.max()));
        }
        self.inner
            .create_session()
            .await
            .inspect_err(|_| self.slots.release())
            .map_err(SessionError::from)
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        Ok(self.inner.initialize_session(id, message).await?)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        Ok(self.inner.has_session(id).await?)
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        // rmcp closes a session both on DELETE and when its worker ends, so only the call
        // that finds it open releases its slot.
        let existed = self.inner.sessions.read().await.contains_key(id);
        self.inner.close_session(id).await?;
        if existed {
            self.slots.release();
        }
        Ok(())
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_stream(id, message).await?)
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        Ok(self.inner.accept_message(id, message).await?)
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.create_standalone_stream(id).await?)
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        Ok(self.inner.resume(id, last_event_id).await?)
    }

    async fn restore_session(
        &self,
        id: SessionId,
    ) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        Ok(self.inner.restore_session(id).await?)
    }

    fn event_store(&self) -> Option<Arc<dyn EventStore>> {
        self.inner.event_store()
    }
}
