//! `SignMany`: many documents on one stream. Each request is signed and
//! recorded exactly as `Sign` would; a document that fails is answered with
//! its own failure and the stream goes on.
//!
//! Why a stream: a unary call costs each document a new HTTP/2 stream, its
//! headers, a task and several thread wake-ups on both ends. On one stream
//! the documents travel as messages, many to a socket read, and the answer
//! stream itself drives all of a stream's documents: no task or channel of
//! its own between the signing and the socket, so on a small machine more
//! of the cores go to the key operation.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, Stream, StreamExt};
use tonic::{Status, Streaming};

use super::proto::{SignFailure, SignManyResponse, SignRequest, sign_many_response};
use super::signing::SigningApi;

/// Most documents of one stream worked on at once: enough to keep every
/// core busy and the group commit's transactions large, few enough that one
/// stream cannot queue unbounded work.
pub const WINDOW: usize = 64;

/// Most PDF bytes of one stream held at once, counting requests being
/// worked on; one document larger than this is still taken, alone.
pub const BYTES_IN_FLIGHT: usize = 64 * 1024 * 1024;

/// The answer stream of `SignMany`: takes requests while there is room,
/// signs them concurrently and yields each answer as it is done. Work goes
/// on while the transport polls for answers; a client that stops reading
/// stops taking new requests, and one that leaves drops what was not
/// answered (nothing unanswered was acknowledged).
pub struct SignedMany {
    api: SigningApi,
    incoming: Streaming<SignRequest>,
    in_flight: FuturesUnordered<BoxFuture<'static, (SignManyResponse, usize)>>,
    /// PDF bytes of the requests in flight.
    bytes: usize,
    /// The position of the next request.
    index: u64,
    /// False once the request stream ended or broke.
    open: bool,
    /// How the request stream broke, answered after the documents taken.
    broken: Option<Status>,
}

impl SigningApi {
    /// Signs each request of `incoming` as it arrives, up to [`WINDOW`]
    /// documents and [`BYTES_IN_FLIGHT`] at once, and answers each as it is
    /// done. A broken request stream ends the answers with its status after
    /// the documents already taken are answered.
    pub(super) fn sign_each(&self, incoming: Streaming<SignRequest>) -> SignedMany {
        SignedMany {
            api: self.clone(),
            incoming,
            in_flight: FuturesUnordered::new(),
            bytes: 0,
            index: 0,
            open: true,
            broken: None,
        }
    }
}

impl SignedMany {
    fn has_room(&self) -> bool {
        self.in_flight.is_empty() || (self.in_flight.len() < WINDOW && self.bytes < BYTES_IN_FLIGHT)
    }

    /// Takes requests while there is room and they are ready.
    fn take_requests(&mut self, cx: &mut Context<'_>) {
        while self.open && self.has_room() {
            match self.incoming.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(request))) => {
                    self.bytes += request.pdf.len();
                    let work = answer(self.api.clone(), self.index, request);
                    self.in_flight.push(Box::pin(work));
                    self.index += 1;
                }
                Poll::Ready(Some(Err(status))) => {
                    self.broken = Some(status);
                    self.open = false;
                }
                Poll::Ready(None) => self.open = false,
                Poll::Pending => break,
            }
        }
    }
}

impl Stream for SignedMany {
    type Item = Result<SignManyResponse, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        this.take_requests(cx);
        match this.in_flight.poll_next_unpin(cx) {
            Poll::Ready(Some((response, size))) => {
                this.bytes -= size;
                // Room again: take what waits now, so its work starts
                // while this answer is sent.
                this.take_requests(cx);
                Poll::Ready(Some(Ok(response)))
            }
            // Nothing in flight: done once the requests ended (a request
            // that arrives meanwhile has woken this stream).
            Poll::Ready(None) if !this.open => Poll::Ready(this.broken.take().map(Err)),
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }
}

/// Signs one request of a stream; the answer and the PDF bytes it held.
async fn answer(api: SigningApi, index: u64, request: SignRequest) -> (SignManyResponse, usize) {
    let size = request.pdf.len();
    let document_id = request.document_id.clone();
    let result = match api.sign_document(request).await {
        Ok(signed) => sign_many_response::Result::Signed(signed),
        Err(error) => {
            let status = Status::from(error);
            sign_many_response::Result::Failure(SignFailure {
                code: status.code() as i32,
                message: status.message().to_string(),
            })
        }
    };
    (
        SignManyResponse {
            index,
            document_id,
            result: Some(result),
        },
        size,
    )
}
