//! Documents larger than one gRPC message: `kyso sign --server` streams them
//! through `SignStream`, and the server's memory grows by little more than
//! the document (measured from its own /proc status), never by two copies.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use support::server::{KysoServer, UNIT};
use support::{pdfsig_validate, require_tool};

/// A valid PDF of about `size` bytes: one page, plus an unreferenced stream
/// object holding the bulk (as a scanned attachment would).
fn large_pdf(path: &Path, size: usize) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let mut offsets = Vec::new();
    let mut written = 0usize;
    let mut put = |file: &mut std::io::BufWriter<std::fs::File>, bytes: &[u8]| {
        file.write_all(bytes).expect("write");
        written += bytes.len();
        written
    };
    let mut at = put(&mut file, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
    for body in [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ] {
        offsets.push(at);
        let number = offsets.len();
        at = put(
            &mut file,
            format!("{number} 0 obj\n{body}\nendobj\n").as_bytes(),
        );
    }
    offsets.push(at);
    put(
        &mut file,
        format!("4 0 obj\n<< /Length {size} >>\nstream\n").as_bytes(),
    );
    let block = vec![b'k'; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(block.len());
        put(&mut file, &block[..n]);
        left -= n;
    }
    let xref = put(&mut file, b"\nendstream\nendobj\n");
    let mut table = String::from("xref\n0 5\n0000000000 65535 f \n");
    for offset in &offsets {
        table.push_str(&format!("{offset:010} 00000 n \n"));
    }
    table.push_str(&format!(
        "trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ));
    put(&mut file, table.as_bytes());
    file.flush().expect("flush");
}

/// A field of /proc/PID/status in bytes (VmRSS, VmHWM).
fn memory(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a number of kB");
    kib * 1024
}

#[test]
fn a_96_mib_document_is_streamed_and_the_server_holds_it_about_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let sign = |input: &Path, output: &Path, id: &str| {
        Command::new(env!("CARGO_BIN_EXE_kyso"))
            .args([
                "sign",
                "--server",
                &server.url,
                "--unit",
                UNIT,
                "--as",
                "organisation",
            ])
            .args(["--document-id", id, "-o"])
            .arg(output)
            .arg(input)
            .output()
            .expect("run kyso sign")
    };
    // Warm up: keys, database, runtime threads.
    let small = dir.path().join("small.pdf");
    large_pdf(&small, 1 << 20);
    let warm = sign(&small, &dir.path().join("small-signed.pdf"), "warm-up");
    assert!(
        warm.status.success(),
        "{}",
        String::from_utf8_lossy(&warm.stderr)
    );

    let size = 96usize << 20;
    let input = dir.path().join("large.pdf");
    large_pdf(&input, size);
    let document = std::fs::metadata(&input).expect("size").len();
    let before = memory(server.pid(), "VmRSS:");
    let output = dir.path().join("large-signed.pdf");
    let signed = sign(&input, &output, "large-1");
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
    let peak = memory(server.pid(), "VmHWM:");
    let growth = peak.saturating_sub(before);
    let allowed = document + (16 << 20);
    eprintln!(
        "document {} MiB, server RSS before {} MiB, peak {} MiB, growth {} MiB (allowed {} MiB)",
        document >> 20,
        before >> 20,
        peak >> 20,
        growth >> 20,
        allowed >> 20
    );
    assert!(
        growth <= allowed,
        "the server grew by {growth} bytes signing a {document}-byte document (allowed {allowed})"
    );

    // The signed file is the input, unchanged, followed by the signature.
    let signed_len = std::fs::metadata(&output).expect("signed").len();
    assert!(signed_len > document && signed_len < document + (1 << 20));
    let mut head = vec![0u8; 1 << 20];
    let mut original = vec![0u8; 1 << 20];
    use std::io::Read;
    std::fs::File::open(&output)
        .expect("open")
        .read_exact(&mut head)
        .expect("read");
    std::fs::File::open(&input)
        .expect("open")
        .read_exact(&mut original)
        .expect("read");
    assert_eq!(head, original);
    if require_tool("pdfsig").is_some() {
        let report = pdfsig_validate(&output, &server.root_pem()).expect("pdfsig");
        assert!(
            report.signatures.len() == 1
                && report.signatures[0].signature_valid
                && report.signatures[0].total_document_signed,
            "{}",
            report.raw
        );
    }
}

#[test]
fn a_stream_that_lies_about_its_size_or_starts_without_a_header_is_refused() {
    use kyso::api::proto::signing_service_client::SigningServiceClient;
    use kyso::api::proto::{
        SignRequest, SignStreamHeader, SignStreamRequest, SignerRole, sign_stream_request::Part,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let server = KysoServer::start(&dir.path().join("data"), &[]);
    let header = |size: u64| SignStreamRequest {
        part: Some(Part::Header(SignStreamHeader {
            request: Some(SignRequest {
                unit_code: UNIT.to_string(),
                role: SignerRole::Organisation as i32,
                document_id: "streamed".to_string(),
                ..SignRequest::default()
            }),
            pdf_size: size,
        })),
    };
    let chunk = |bytes: &[u8]| SignStreamRequest {
        part: Some(Part::Chunk(bytes.to_vec())),
    };
    let pdf = kyso::sign::sample::one_page_pdf();
    let cases = [
        (
            "short",
            vec![header(pdf.len() as u64 + 10), chunk(&pdf)],
            "ended after",
        ),
        (
            "long",
            vec![header(10), chunk(&pdf)],
            "more than the declared",
        ),
        (
            "no header",
            vec![chunk(&pdf)],
            "first message must be the header",
        ),
        ("empty", vec![header(0)], "is empty"),
    ];
    support::server::runtime().block_on(async {
        for (name, messages, expected) in cases {
            let mut client = SigningServiceClient::connect(server.url.clone())
                .await
                .expect("connect");
            let status = client
                .sign_stream(tokio_stream::iter(messages))
                .await
                .expect_err(name);
            assert_eq!(
                status.code(),
                tonic::Code::InvalidArgument,
                "{name}: {status:?}"
            );
            assert!(
                status.message().contains(expected),
                "{name}: {}",
                status.message()
            );
        }
        // The honest stream signs.
        let mut client = SigningServiceClient::connect(server.url.clone())
            .await
            .expect("connect");
        let mut answer = client
            .sign_stream(tokio_stream::iter(vec![
                header(pdf.len() as u64),
                chunk(&pdf),
            ]))
            .await
            .expect("sign")
            .into_inner();
        let mut signed = Vec::new();
        let mut summary = None;
        while let Some(message) = answer.message().await.expect("message") {
            match message.part {
                Some(kyso::api::proto::sign_stream_response::Part::Chunk(bytes)) => {
                    signed.extend(bytes)
                }
                Some(kyso::api::proto::sign_stream_response::Part::Summary(s)) => summary = Some(s),
                None => {}
            }
        }
        assert!(signed.starts_with(&pdf));
        assert_eq!(summary.expect("summary").document_id, "streamed");
    });
}
