//! A bound on reading a request body: a client that trickles its body (one byte a second)
//! would otherwise hold its connection, and a worker's attention, for as long as it likes.

use std::cell::Cell;
use std::io;
use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use futures_util::StreamExt;
use tokio::time::{Instant, timeout_at};

use super::error::ApiError;
use super::pages::{PageError, answers_in_json};
use super::state::AppState;

/// Gives the request's body `BODY_READ_TIMEOUT` from now to arrive in full. Past it, the read
/// fails, and whatever the handler made of that failure becomes a 408 that closes the connection.
pub async fn bound_body_reads(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(limit) = req.app_data::<web::Data<AppState>>().map(|state| state.settings.body_read_timeout) else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    let timed_out = Rc::new(Cell::new(false));
    let payload = with_deadline(req.take_payload(), Instant::now() + limit, timed_out.clone());
    req.set_payload(payload);
    let response = next.call(req).await?;
    if !timed_out.get() {
        return Ok(response.map_into_left_body());
    }
    let (req, _) = response.into_parts();
    let mut answer = if answers_in_json(&req) {
        ApiError::RequestTimeout.error_response()
    } else {
        PageError::RequestTimeout.error_response()
    };
    answer.head_mut().set_connection_type(ConnectionType::Close);
    Ok(ServiceResponse::new(req, answer).map_into_right_body())
}

/// The payload, failing (and recording that it did) once the deadline has passed.
fn with_deadline(payload: Payload, deadline: Instant, timed_out: Rc<Cell<bool>>) -> Payload {
    let stream = futures_util::stream::unfold(Some(payload), move |rest| {
        let timed_out = timed_out.clone();
        async move {
            let mut payload = rest?;
            match timeout_at(deadline, payload.next()).await {
                Ok(Some(chunk)) => Some((chunk, Some(payload))),
                Ok(None) => None,
                Err(_) => {
                    timed_out.set(true);
                    let error = io::Error::new(io::ErrorKind::TimedOut, "the request body was not sent in time");
                    Some((Err(PayloadError::Io(error)), None))
                }
            }
        }
    });
    Payload::Stream { payload: Box::pin(stream) }
}
