//! The gRPC client the CLI uses to talk to a running `kyso serve`.

use super::proto::certificate_authority_service_client::CertificateAuthorityServiceClient;
use super::proto::records_service_client::RecordsServiceClient;
use super::proto::signing_service_client::SigningServiceClient;
use super::proto::{SignRequest, SignResponse};

/// Why a call to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server address is malformed or unreachable.
    #[error("cannot connect to {server}: {reason}")]
    Connect {
        /// The address given.
        server: String,
        /// The transport's error.
        reason: String,
    },
    /// The server answered with an error status.
    #[error("the server refused the request ({code:?}): {message}")]
    Refused {
        /// The gRPC status code.
        code: tonic::Code,
        /// The server's message.
        message: String,
    },
}

impl ClientError {
    /// True when the server judged the input itself bad (CLI exit code 2).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            ClientError::Refused {
                code: tonic::Code::InvalidArgument
                    | tonic::Code::NotFound
                    | tonic::Code::AlreadyExists,
                ..
            }
        )
    }
}

/// Connects to `server` (e.g. `http://127.0.0.1:50051`).
pub async fn connect(server: &str) -> Result<tonic::transport::Channel, ClientError> {
    let connect_error = |reason: String| ClientError::Connect {
        server: server.to_string(),
        reason,
    };
    let endpoint = tonic::transport::Endpoint::from_shared(server.to_string())
        .map_err(|e| connect_error(e.to_string()))?;
    endpoint
        .connect()
        .await
        .map_err(|e| connect_error(e.to_string()))
}

/// A client of the records service on `server`.
pub async fn records(
    server: &str,
) -> Result<RecordsServiceClient<tonic::transport::Channel>, ClientError> {
    Ok(RecordsServiceClient::new(connect(server).await?)
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20))
}

/// A client of the signing service on `server`.
pub async fn signing(
    server: &str,
) -> Result<SigningServiceClient<tonic::transport::Channel>, ClientError> {
    Ok(SigningServiceClient::new(connect(server).await?)
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20))
}

/// A client of the certificate authority service on `server`.
pub async fn certificate_authority(
    server: &str,
) -> Result<CertificateAuthorityServiceClient<tonic::transport::Channel>, ClientError> {
    Ok(
        CertificateAuthorityServiceClient::new(connect(server).await?)
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20),
    )
}

impl From<tonic::Status> for ClientError {
    fn from(status: tonic::Status) -> Self {
        ClientError::Refused {
            code: status.code(),
            message: status.message().to_string(),
        }
    }
}

/// Sends one `Sign` call to `server` (e.g. `http://127.0.0.1:50051`).
pub async fn sign(
    server: &str,
    request: SignRequest,
    max_message_bytes: usize,
) -> Result<SignResponse, ClientError> {
    let connect_error = |reason: String| ClientError::Connect {
        server: server.to_string(),
        reason,
    };
    let endpoint = tonic::transport::Endpoint::from_shared(server.to_string())
        .map_err(|e| connect_error(e.to_string()))?;
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| connect_error(e.to_string()))?;
    let mut client = SigningServiceClient::new(channel)
        .max_decoding_message_size(max_message_bytes)
        .max_encoding_message_size(max_message_bytes);
    client
        .sign(request)
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| ClientError::Refused {
            code: status.code(),
            message: status.message().to_string(),
        })
}
