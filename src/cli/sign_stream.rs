//! `kyso sign --server` for large files: the PDF goes to `SignStream` in
//! chunks read from disk and the signed PDF is written as it comes back, so
//! neither side holds more than the document once. A progress line shows on
//! a terminal.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::Instant;

use super::CliError;
use crate::api::client;
use crate::api::proto::{
    SignRequest, SignStreamHeader, SignStreamRequest, SignatureSummary, sign_stream_request,
    sign_stream_response,
};

/// Files at least this large are streamed (smaller ones go in one `Sign`).
pub const STREAM_FROM_BYTES: u64 = 16 * 1024 * 1024;

/// Bytes per chunk sent.
const CHUNK: usize = 1024 * 1024;

/// Signs the PDF at `input` through `SignStream`, writing the signed PDF to
/// `output`; `request` is everything but the PDF.
pub(super) fn sign_streamed(
    server: &str,
    request: SignRequest,
    input: &Path,
    output: &Path,
) -> Result<SignatureSummary, CliError> {
    let mut file = std::fs::File::open(input)
        .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", input.display())))?;
    let size = file
        .metadata()
        .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", input.display())))?
        .len();
    let progress = Progress::new(size);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failure(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let mut client = client::signing(server).await.map_err(super::client_error)?;
        let (sender, receiver) = tokio::sync::mpsc::channel::<SignStreamRequest>(2);
        let header = SignStreamRequest {
            part: Some(sign_stream_request::Part::Header(SignStreamHeader {
                request: Some(request),
                pdf_size: size,
            })),
        };
        let progress_reader = progress.clone();
        // Reading the file runs beside the call, a chunk or two ahead.
        let reader = tokio::task::spawn_blocking(move || -> Result<(), CliError> {
            if sender.blocking_send(header).is_err() {
                return Ok(());
            }
            let mut sent = 0u64;
            loop {
                let mut chunk = vec![0u8; CHUNK];
                let mut filled = 0;
                while filled < CHUNK {
                    let read = file
                        .read(&mut chunk[filled..])
                        .map_err(|e| CliError::Failure(format!("cannot read the PDF: {e}")))?;
                    if read == 0 {
                        break;
                    }
                    filled += read;
                }
                if filled == 0 {
                    return Ok(());
                }
                chunk.truncate(filled);
                sent += filled as u64;
                let message = SignStreamRequest {
                    part: Some(sign_stream_request::Part::Chunk(chunk)),
                };
                if sender.blocking_send(message).is_err() {
                    // The call ended early; its status says why.
                    return Ok(());
                }
                progress_reader.show("sending", sent);
            }
        });
        let response = client
            .sign_stream(tokio_stream::wrappers::ReceiverStream::new(receiver))
            .await
            .map_err(|status| super::client_error(status.into()))?;
        reader
            .await
            .map_err(|e| CliError::Failure(format!("the reading task failed: {e}")))??;
        let mut incoming = response.into_inner();
        let partial = output.with_extension("pdf.part");
        let mut out = std::fs::File::create(&partial)
            .map_err(|e| CliError::Failure(format!("cannot write {}: {e}", partial.display())))?;
        let mut received = 0u64;
        let mut summary = None;
        while let Some(message) = incoming
            .message()
            .await
            .map_err(|status| super::client_error(status.into()))?
        {
            match message.part {
                Some(sign_stream_response::Part::Chunk(chunk)) => {
                    out.write_all(&chunk).map_err(|e| {
                        CliError::Failure(format!("cannot write {}: {e}", partial.display()))
                    })?;
                    received += chunk.len() as u64;
                    progress.show("receiving", received.min(size));
                }
                Some(sign_stream_response::Part::Summary(s)) => summary = Some(s),
                None => {}
            }
        }
        progress.finish();
        let summary = summary.ok_or_else(|| {
            CliError::Failure("the server ended the answer without a summary".to_string())
        })?;
        out.sync_all()
            .and_then(|()| std::fs::rename(&partial, output))
            .map_err(|e| CliError::Failure(format!("cannot write {}: {e}", output.display())))?;
        Ok(summary)
    })
}

/// A one-line progress display on standard error, shown only on a terminal.
#[derive(Debug, Clone)]
struct Progress {
    total: u64,
    on_terminal: bool,
    started: Instant,
}

impl Progress {
    fn new(total: u64) -> Self {
        Self {
            total,
            on_terminal: std::io::stderr().is_terminal(),
            started: Instant::now(),
        }
    }

    fn show(&self, what: &str, done: u64) {
        if !self.on_terminal || self.total == 0 {
            return;
        }
        let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        eprint!(
            "\r{what} {:>3}%  {:.0}/{:.0} MiB  {:.0} MiB/s   ",
            done * 100 / self.total,
            mib(done),
            mib(self.total),
            mib(done) / seconds
        );
    }

    fn finish(&self) {
        if self.on_terminal {
            eprintln!();
        }
    }
}
