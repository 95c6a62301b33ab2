//! A response body that holds a semaphore permit until it has been handed to the connection:
//! a cap on concurrent responses then also bounds the memory their unsent bytes hold, even
//! when clients read slowly.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use bytes::Bytes;
use tokio::sync::OwnedSemaphorePermit;

/// Actix takes the next chunk only when its write buffer has room, so the permit is released
/// once (nearly) everything has been written to the socket.
const CHUNK: usize = 64 * 1024;

pub struct PermitBody {
    rest: Bytes,
    size: u64,
    _permit: OwnedSemaphorePermit,
}

impl PermitBody {
    pub fn new(body: Bytes, permit: OwnedSemaphorePermit) -> Self {
        Self { size: body.len() as u64, rest: body, _permit: permit }
    }
}

impl MessageBody for PermitBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.size)
    }

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Bytes, Infallible>>> {
        let this = self.get_mut();
        if this.rest.is_empty() {
            return Poll::Ready(None);
        }
        let chunk = this.rest.split_to(this.rest.len().min(CHUNK));
        Poll::Ready(Some(Ok(chunk)))
    }
}
