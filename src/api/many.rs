//! `SignMany`: many documents on one stream. Each request is signed and
//! recorded exactly as `Sign` would; a document that fails is answered with
//! its own failure and the stream goes on.
//!
//! Why a stream: a unary call costs each document a new HTTP/2 stream, its
//! headers, a task and several thread wake-ups on both ends. On one stream
//! the documents travel as messages, many to a socket read, and one task
//! drives all of a stream's documents, so on a small machine more of the
//! cores go to the key operation.

use std::pin::Pin;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};

use super::proto::{SignFailure, SignManyResponse, SignRequest, sign_many_response};
use super::signing::SigningApi;

/// The answer stream of `SignMany`.
pub type SignedMany = Pin<Box<dyn Stream<Item = Result<SignManyResponse, Status>> + Send>>;

/// Most documents of one stream worked on at once: enough to keep every
/// core busy and the group commit's transactions large, few enough that one
/// stream cannot queue unbounded work.
pub const WINDOW: usize = 64;

/// Most PDF bytes of one stream held at once, counting requests being
/// worked on; one document larger than this is still taken, alone.
pub const BYTES_IN_FLIGHT: usize = 64 * 1024 * 1024;

/// Answers waiting for the client to read them before the stream stops
/// taking requests.
const ANSWERS_QUEUED: usize = 16;

impl SigningApi {
    /// Signs each request of `incoming` as it arrives, up to [`WINDOW`]
    /// documents and [`BYTES_IN_FLIGHT`] at once, and answers each as it is
    /// done. A broken request stream ends the answers with its status after
    /// the documents already taken are answered.
    pub(super) fn sign_each(&self, mut incoming: Streaming<SignRequest>) -> SignedMany {
        let api = self.clone();
        let (answers, answered) = mpsc::channel(ANSWERS_QUEUED);
        tokio::spawn(async move {
            let mut in_flight = FuturesUnordered::new();
            let mut bytes = 0usize;
            let mut index = 0u64;
            let mut broken = None;
            let mut open = true;
            loop {
                let room =
                    in_flight.is_empty() || (in_flight.len() < WINDOW && bytes < BYTES_IN_FLIGHT);
                tokio::select! {
                    next = incoming.next(), if open && room => match next {
                        Some(Ok(request)) => {
                            bytes += request.pdf.len();
                            in_flight.push(answer(api.clone(), index, request));
                            index += 1;
                        }
                        Some(Err(status)) => {
                            broken = Some(status);
                            open = false;
                        }
                        None => open = false,
                    },
                    Some((response, size)) = in_flight.next(), if !in_flight.is_empty() => {
                        bytes -= size;
                        if answers.send(Ok(response)).await.is_err() {
                            // The client went away; what was signed is recorded.
                            return;
                        }
                    },
                    else => break,
                }
            }
            if let Some(status) = broken {
                let _ = answers.send(Err(status)).await;
            }
        });
        Box::pin(ReceiverStream::new(answered))
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
