//! `SignStream`: signing documents larger than one gRPC message. The server
//! receives the PDF once into a buffer of its declared size, signs it in
//! place (the signature revision is the only new allocation of note) and
//! streams the input back followed by the revision, so memory stays near the
//! document's size whatever it is.

use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use tokio_stream::Stream;
use tonic::{Status, Streaming};

use super::ApiError;
use super::proto::{self, SignStreamRequest, SignStreamResponse, sign_stream_request};
use super::signing::{SigningApi, parse_common, sign_options, summary_to_proto};
use crate::sign::{self, SignedParts};

/// Bytes per answered chunk.
pub const STREAM_CHUNK: usize = 1024 * 1024;

/// The answer stream of `SignStream`.
pub type SignedStream = Pin<Box<dyn Stream<Item = Result<SignStreamResponse, Status>> + Send>>;

fn invalid(field: &'static str, reason: impl ToString) -> ApiError {
    ApiError::InvalidField {
        field,
        reason: reason.to_string(),
    }
}

impl SigningApi {
    pub(super) async fn sign_streamed(
        &self,
        mut incoming: Streaming<SignStreamRequest>,
    ) -> Result<SignedStream, ApiError> {
        let header = match incoming.message().await.map_err(status_error)? {
            Some(SignStreamRequest {
                part: Some(sign_stream_request::Part::Header(header)),
            }) => header,
            Some(_) => return Err(invalid("header", "the first message must be the header")),
            None => return Err(invalid("header", "the stream ended before the header")),
        };
        let request = header.request.unwrap_or_default();
        if !request.pdf.is_empty() {
            return Err(invalid(
                "header.request.pdf",
                "must be empty: the PDF follows in chunks",
            ));
        }
        let size = usize::try_from(header.pdf_size).unwrap_or(usize::MAX);
        let (unit, role, document_id) = parse_common(
            size,
            self.max_streamed_pdf_bytes(),
            &request.unit_code,
            request.role,
            &request.leader_id,
            &request.document_id,
        )?;
        let options = sign_options(
            request.field_name,
            request.page,
            request.reason,
            request.location,
        );
        let signer = self.signer_for(&unit, &role)?;
        // Refused before a large upload; checked again when recorded.
        self.check_signer_not_revoked(&signer).await?;
        let fingerprint = signer.profile().fingerprint().to_string();

        let mut pdf = Vec::new();
        pdf.try_reserve_exact(size)
            .map_err(|_| ApiError::TaskFailed(format!("cannot hold a {size}-byte PDF")))?;
        while let Some(message) = incoming.message().await.map_err(status_error)? {
            match message.part {
                Some(sign_stream_request::Part::Chunk(chunk)) => {
                    if pdf.len() + chunk.len() > size {
                        return Err(invalid(
                            "chunk",
                            format!(
                                "the chunks hold more than the declared pdf_size of {size} bytes"
                            ),
                        ));
                    }
                    pdf.extend_from_slice(&chunk);
                }
                Some(sign_stream_request::Part::Header(_)) => {
                    return Err(invalid("header", "only the first message is a header"));
                }
                None => {
                    return Err(invalid(
                        "part",
                        "a message carries neither header nor chunk",
                    ));
                }
            }
        }
        if pdf.len() != size {
            return Err(invalid(
                "chunk",
                format!(
                    "the stream ended after {} of the declared {size} bytes",
                    pdf.len()
                ),
            ));
        }
        let pdf = Arc::new(pdf);
        let signed: SignedParts = self
            .cpu
            .run(move || sign::sign_pdf_shared(pdf, &signer, &options, SystemTime::now()))
            .await?
            .map_err(ApiError::from)?;
        // Recorded before the answer, as for Sign.
        self.record_signature(
            unit,
            role,
            &document_id,
            &signed.summary,
            &signed.signature_value_sha256,
            &fingerprint,
            None,
        )
        .await?;
        Ok(answer(signed, document_id))
    }
}

/// The signed PDF as chunks, read from the shared input and the revision
/// only as the transport asks for them, then the summary.
fn answer(signed: SignedParts, document_id: crate::records::DocumentId) -> SignedStream {
    let SignedParts {
        input,
        revision,
        summary,
        ..
    } = signed;
    let input_chunks = input.len().div_ceil(STREAM_CHUNK);
    let chunks = (0..input_chunks).map(move |index| {
        let start = index * STREAM_CHUNK;
        let end = (start + STREAM_CHUNK).min(input.len());
        Ok(SignStreamResponse {
            part: Some(proto::sign_stream_response::Part::Chunk(
                input[start..end].to_vec(),
            )),
        })
    });
    let tail = [
        Ok(SignStreamResponse {
            part: Some(proto::sign_stream_response::Part::Chunk(revision)),
        }),
        Ok(SignStreamResponse {
            part: Some(proto::sign_stream_response::Part::Summary(
                summary_to_proto(summary, &document_id),
            )),
        }),
    ];
    Box::pin(tokio_stream::iter(chunks.chain(tail)))
}

fn status_error(status: Status) -> ApiError {
    invalid(
        "stream",
        format!("the request stream failed: {}", status.message()),
    )
}
