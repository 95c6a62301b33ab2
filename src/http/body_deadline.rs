//! A bound on reading a request body: a client that trickles its body (one byte a second)
//! would otherwise hold its connection, and a worker's attention, for as long as it likes.

use std::cell::{Cell, RefCell};
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, ResponseError, web};
use futures_util::StreamExt;
use tokio::time::{Instant, timeout_at};

use super::error::ApiError;
use super::pages::{PageError, answers_in_json};
use super::state::AppState;

/// Gives the request's body `BODY_READ_TIMEOUT` from now to arrive in full. Past it, the read
/// fails, and whatever the handler made of that failure becomes a 408.
///
/// A body not read to its end stays attached to the response: actix then closes the connection
/// after the response, where it would otherwise keep draining a chunked body for as long as the
/// client keeps sending it.
pub async fn bound_body_reads(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, KeepBody>>, actix_web::Error> {
    let Some(limit) = req.app_data::<web::Data<AppState>>().map(|state| state.settings.body_read_timeout) else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    let read = BodyRead::new(req.take_payload());
    req.set_payload(read.clone().with_deadline(Instant::now() + limit));
    let response = next.call(req).await?;
    match read.state.get() {
        ReadState::Done => Ok(response.map_into_left_body()),
        ReadState::Reading => Ok(response.map_body(|_, body| EitherBody::right(KeepBody::new(body, read)))),
        ReadState::TimedOut => {
            let (req, _) = response.into_parts();
            let mut answer = if answers_in_json(&req) {
                ApiError::RequestTimeout.error_response()
            } else {
                PageError::RequestTimeout.error_response()
            };
            answer.head_mut().set_connection_type(ConnectionType::Close);
            let answer = answer.map_body(|_, body| EitherBody::right(KeepBody::new(body, read)));
            Ok(ServiceResponse::new(req, answer))
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ReadState {
    Reading,
    Done,
    TimedOut,
}

/// The request's payload, shared between the handler (through [`BodyRead::with_deadline`]) and
/// the middleware, which keeps it until the response is sent.
struct BodyRead {
    payload: RefCell<Payload>,
    state: Cell<ReadState>,
}

impl BodyRead {
    fn new(payload: Payload) -> Rc<Self> {
        let state = if matches!(payload, Payload::None) { ReadState::Done } else { ReadState::Reading };
        Rc::new(Self { payload: RefCell::new(payload), state: Cell::new(state) })
    }

    /// The payload for the handler, failing once the deadline has passed.
    fn with_deadline(self: Rc<Self>, deadline: Instant) -> Payload {
        let stream = futures_util::stream::unfold(self, move |read| async move {
            if read.state.get() != ReadState::Reading {
                return None;
            }
            let next = futures_util::future::poll_fn(|cx| read.payload.borrow_mut().poll_next_unpin(cx));
            match timeout_at(deadline, next).await {
                Ok(Some(chunk)) => Some((chunk, read)),
                Ok(None) => {
                    read.state.set(ReadState::Done);
                    None
                }
                Err(_) => {
                    read.state.set(ReadState::TimedOut);
                    let error = io::Error::new(io::ErrorKind::TimedOut, "the request body was not sent in time");
                    Some((Err(PayloadError::Io(error)), read))
                }
            }
        });
        Payload::Stream { payload: Box::pin(stream) }
    }
}

/// A response body that holds on to an unfinished request body until it has been sent.
pub struct KeepBody {
    body: BoxBody,
    _read: Rc<BodyRead>,
}

impl KeepBody {
    fn new(body: impl MessageBody + 'static, read: Rc<BodyRead>) -> Self {
        Self { body: BoxBody::new(body), _read: read }
    }
}

impl MessageBody for KeepBody {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.body).poll_next(cx)
    }
}
