//! `kyso bench sign`: a load generator. N clients sign small documents
//! through a running server for a while; the command reports documents per
//! second, latency percentiles and, measured in the same run on this
//! machine, the raw rate of the key operation alone, so the two can be
//! compared. On a shared machine the load generator takes cores from the
//! server; it reports its own CPU time so the comparison can allow for it.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand, ValueEnum};

use super::{CliError, client_error};
use crate::api::client;
use crate::api::proto::{self, SignRequest, SignerRole};
use crate::crypto::{RsaPadding, SigningKey};

/// Arguments of `kyso bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    command: BenchCommand,
}

/// The `kyso bench` subcommands.
#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Sign small documents through a server with concurrent clients.
    Sign(SignBenchArgs),
}

/// A key type for the raw-rate measurement (and `--issue`).
#[derive(Debug, Clone, Copy, ValueEnum)]
enum KeyTypeArg {
    /// ECDSA on P-256.
    P256,
    /// ECDSA on P-384.
    P384,
    /// RSA, 2048-bit modulus.
    Rsa2048,
    /// RSA, 3072-bit modulus.
    Rsa3072,
}

/// How the load generator calls the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RpcArg {
    /// One unary Sign call per document; each client waits for its answer
    /// before the next.
    Sign,
    /// One SignMany stream per client, with up to --window documents
    /// unanswered on it.
    SignMany,
}

/// Arguments of `kyso bench sign`.
#[derive(Debug, Args)]
#[command(
    after_help = "Every document is a real Sign call: it is signed and recorded in the \
server's ledger under the unit (document ids bench-<run>-<client>-<n>). Run it against a \
test deployment.\nThe raw rate is this machine's rate of the key operation alone (a fresh \
key of --key-type, one thread per core), measured right before and right after the load and \
averaged, so a machine whose speed drifts (a shared VM) skews the ratio less; compare it with \
the server's rate only when client and server share the machine.\nThe load generator reports its \
own CPU time per document and its share of the machine's cores during the run; the second ratio \
compares the server's rate with the raw rate on the cores left to it."
)]
pub struct SignBenchArgs {
    /// The kyso server.
    #[arg(long, env = "KYSO_SERVER", default_value = "http://127.0.0.1:50051")]
    server: String,
    /// The unit whose organisation key signs.
    #[arg(long, default_value = "000.00.01.H23")]
    unit: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// The call each client makes.
    #[arg(long, value_enum, default_value = "sign")]
    rpc: RpcArg,
    /// With --rpc sign-many: documents each client keeps unanswered on its
    /// stream.
    #[arg(long, default_value_t = 32)]
    window: usize,
    /// How long to measure, in seconds (after a one-second warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The key type the server's signer uses, for the raw rate.
    #[arg(long, value_enum, default_value = "rsa2048")]
    key_type: KeyTypeArg,
    /// First issue the unit a new organisation certificate with a key of
    /// --key-type (kyso's CA; test deployments only).
    #[arg(long)]
    issue: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: BenchArgs) -> Result<(), CliError> {
    match args.command {
        BenchCommand::Sign(args) => sign(args),
    }
}

/// What one measurement found.
#[derive(Debug, serde::Serialize)]
struct SignBenchReport {
    rpc: String,
    clients: usize,
    seconds: f64,
    documents: u64,
    failures: u64,
    documents_per_second: f64,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    latency_max_ms: f64,
    key_type: String,
    raw_threads: usize,
    /// The mean of the raw rates measured before and after the load.
    raw_signatures_per_second: f64,
    raw_before_per_second: f64,
    raw_after_per_second: f64,
    ratio_to_raw: f64,
    /// CPU time the load generator itself spent per document, when the
    /// platform tells (Linux).
    client_cpu_ms_per_document: Option<f64>,
    /// The load generator's share of the machine's cores during the run.
    client_share_of_cores: Option<f64>,
    /// The server's rate against the raw rate scaled to the cores the load
    /// generator left.
    ratio_to_raw_on_cores_left: Option<f64>,
}

fn sign(args: SignBenchArgs) -> Result<(), CliError> {
    if args.clients == 0 || args.seconds == 0 || args.window == 0 {
        return Err(CliError::BadInput(
            "--clients, --seconds and --window must be at least 1".to_string(),
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failure(format!("cannot start the async runtime: {e}")))?;
    if args.issue {
        let request = proto::IssueCertificateRequest {
            unit_code: args.unit.clone(),
            role: proto::CertificateRole::Organisation as i32,
            leader_id: String::new(),
            key: Some(proto::issue_certificate_request::Key::Generate(
                key_type_to_proto(args.key_type) as i32,
            )),
        };
        runtime
            .block_on(async {
                let mut client = client::certificate_authority(&args.server).await?;
                Ok::<_, client::ClientError>(client.issue_certificate(request).await?)
            })
            .map_err(client_error)?;
    }
    let pdf = Arc::new(crate::sign::sample::one_page_pdf());
    let run_id = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    // One call first: a server that refuses is reported, not measured.
    runtime
        .block_on(async {
            let mut client = client::signing(&args.server).await?;
            let request = sign_request(&pdf, &args.unit, format!("bench-{run_id}-check"));
            Ok::<_, client::ClientError>(client.sign(request).await?)
        })
        .map_err(client_error)?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let raw_span = Duration::from_secs(args.seconds.min(4)) / 2;
    let raw_before = raw_rate(args.key_type, threads, raw_span)?;
    let warm_up = Duration::from_secs(1);
    let measured = Duration::from_secs(args.seconds);
    let load = Load {
        server: args.server.clone(),
        unit: args.unit.clone(),
        pdf,
        run_id,
        start: Instant::now() + warm_up,
        end: Instant::now() + warm_up + measured,
    };
    let (latencies, failures, client_cpu) = runtime.block_on(async {
        let meter = tokio::spawn(meter_cpu(load.start, load.end));
        let (latencies, failures) = match args.rpc {
            RpcArg::Sign => load.unary(args.clients).await?,
            RpcArg::SignMany => load.streamed(args.clients, args.window).await?,
        };
        let client_cpu = meter.await.ok().flatten();
        Ok::<_, CliError>((latencies, failures, client_cpu))
    })?;
    let elapsed = measured;
    drop(runtime);
    let raw_after = raw_rate(args.key_type, threads, raw_span)?;
    let raw = (raw_before + raw_after) / 2.0;
    let mut sorted = latencies;
    sorted.sort_unstable();
    let documents = sorted.len() as u64;
    let per_second = documents as f64 / elapsed.as_secs_f64();
    let client_share = client_cpu
        .map(|cpu| cpu.as_secs_f64() / (elapsed.as_secs_f64() * threads as f64))
        .filter(|share| *share < 1.0);
    let report = SignBenchReport {
        rpc: match args.rpc {
            RpcArg::Sign => "Sign".to_string(),
            RpcArg::SignMany => format!("SignMany (window {})", args.window),
        },
        clients: args.clients,
        seconds: elapsed.as_secs_f64(),
        documents,
        failures,
        documents_per_second: per_second,
        latency_p50_ms: percentile(&sorted, 50.0),
        latency_p99_ms: percentile(&sorted, 99.0),
        latency_max_ms: sorted.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        key_type: format!("{:?}", args.key_type).to_lowercase(),
        raw_threads: threads,
        raw_signatures_per_second: raw,
        raw_before_per_second: raw_before,
        raw_after_per_second: raw_after,
        ratio_to_raw: if raw > 0.0 { per_second / raw } else { 0.0 },
        client_cpu_ms_per_document: client_cpu
            .filter(|_| documents > 0)
            .map(|cpu| cpu.as_secs_f64() * 1e3 / documents as f64),
        client_share_of_cores: client_share,
        ratio_to_raw_on_cores_left: client_share
            .filter(|_| raw > 0.0)
            .map(|share| per_second / (raw * (1.0 - share))),
    };
    if args.json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| CliError::Failure(format!("cannot write JSON: {e}")))?;
        println!("{text}");
    } else {
        println!(
            "signed {} documents in {:.1} s with {} clients calling {}: {:.0} documents/s",
            report.documents,
            report.seconds,
            report.clients,
            report.rpc,
            report.documents_per_second
        );
        println!(
            "latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} failed",
            report.latency_p50_ms, report.latency_p99_ms, report.latency_max_ms, report.failures
        );
        println!(
            "raw {} signatures on {} threads: {:.0}/s (before {:.0}/s, after {:.0}/s); \
             server rate / raw rate = {:.2}",
            report.key_type,
            report.raw_threads,
            report.raw_signatures_per_second,
            report.raw_before_per_second,
            report.raw_after_per_second,
            report.ratio_to_raw
        );
        if let (Some(per_document), Some(share), Some(ratio)) = (
            report.client_cpu_ms_per_document,
            report.client_share_of_cores,
            report.ratio_to_raw_on_cores_left,
        ) {
            println!(
                "this load generator: {per_document:.3} ms CPU per document, {:.0} % of the \
                 cores; on the cores left, server rate / raw rate = {ratio:.2}",
                share * 100.0
            );
        }
    }
    if report.failures > 0 {
        return Err(CliError::Failure(format!(
            "{} Sign calls failed during the run",
            report.failures
        )));
    }
    Ok(())
}

fn sign_request(pdf: &[u8], unit: &str, document_id: String) -> SignRequest {
    SignRequest {
        pdf: pdf.to_vec(),
        unit_code: unit.to_string(),
        role: SignerRole::Organisation as i32,
        document_id,
        ..SignRequest::default()
    }
}

/// What every client of one run sends, and when the measured span is.
struct Load {
    server: String,
    unit: String,
    pdf: Arc<Vec<u8>>,
    run_id: u128,
    /// Calls that began before this are warm-up.
    start: Instant,
    /// No call begins after this; calls that finish after it are not counted.
    end: Instant,
}

/// Latencies of the calls that began and finished in the measured span,
/// and how many of those failed.
type Measured = (Vec<Duration>, u64);

impl Load {
    fn request(&self, client: usize, sequence: u64) -> SignRequest {
        sign_request(
            &self.pdf,
            &self.unit,
            format!("bench-{}-{client}-{sequence}", self.run_id),
        )
    }

    fn measured(&self, began: Instant, finished: Instant) -> bool {
        began >= self.start && finished <= self.end
    }

    /// `clients` loops of unary Sign calls.
    async fn unary(self, clients: usize) -> Result<Measured, CliError> {
        let load = Arc::new(self);
        let mut tasks = Vec::with_capacity(clients);
        for index in 0..clients {
            let mut client = client::signing(&load.server).await.map_err(client_error)?;
            let load = load.clone();
            tasks.push(tokio::spawn(async move {
                let mut measured: Measured = (Vec::new(), 0);
                let mut sequence = 0u64;
                while Instant::now() < load.end {
                    sequence += 1;
                    let request = load.request(index, sequence);
                    let began = Instant::now();
                    let result = client.sign(request).await;
                    let finished = Instant::now();
                    if load.measured(began, finished) {
                        match result {
                            Ok(_) => measured.0.push(finished - began),
                            Err(_) => measured.1 += 1,
                        }
                    }
                }
                Ok(measured)
            }));
        }
        gather(tasks).await
    }

    /// `clients` SignMany streams, each keeping up to `window` documents
    /// unanswered.
    async fn streamed(self, clients: usize, window: usize) -> Result<Measured, CliError> {
        let load = Arc::new(self);
        let mut tasks = Vec::with_capacity(clients);
        for index in 0..clients {
            let mut client = client::signing(&load.server).await.map_err(client_error)?;
            let load = load.clone();
            tasks.push(tokio::spawn(async move {
                // The send instant of each unanswered request, by its
                // position on the stream.
                let sent = Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
                let room = Arc::new(tokio::sync::Semaphore::new(window));
                let (requests, outgoing) = tokio::sync::mpsc::channel(window);
                let sender = {
                    let (load, sent, room) = (load.clone(), sent.clone(), room.clone());
                    tokio::spawn(async move {
                        let mut position = 0u64;
                        while Instant::now() < load.end {
                            let Ok(permit) = room.acquire().await else {
                                break;
                            };
                            permit.forget();
                            let request = load.request(index, position);
                            if let Ok(mut sent) = sent.lock() {
                                sent.insert(position, Instant::now());
                            }
                            if requests.send(request).await.is_err() {
                                break;
                            }
                            position += 1;
                        }
                    })
                };
                let mut answers = client
                    .sign_many(tokio_stream::wrappers::ReceiverStream::new(outgoing))
                    .await
                    .map_err(|status| CliError::Failure(format!("SignMany refused: {status}")))?
                    .into_inner();
                let mut measured: Measured = (Vec::new(), 0);
                while let Some(answer) = answers
                    .message()
                    .await
                    .map_err(|status| CliError::Failure(format!("SignMany broke: {status}")))?
                {
                    let finished = Instant::now();
                    room.add_permits(1);
                    let began = sent
                        .lock()
                        .ok()
                        .and_then(|mut sent| sent.remove(&answer.index));
                    let Some(began) = began else {
                        return Err(CliError::Failure(format!(
                            "SignMany answered position {} twice or unasked",
                            answer.index
                        )));
                    };
                    if load.measured(began, finished) {
                        match answer.result {
                            Some(proto::sign_many_response::Result::Signed(_)) => {
                                measured.0.push(finished - began);
                            }
                            _ => measured.1 += 1,
                        }
                    }
                }
                room.close();
                let _ = sender.await;
                Ok(measured)
            }));
        }
        gather(tasks).await
    }
}

/// The measurements of every client task, together.
async fn gather(
    tasks: Vec<tokio::task::JoinHandle<Result<Measured, CliError>>>,
) -> Result<Measured, CliError> {
    let mut all: Measured = (Vec::new(), 0);
    for task in tasks {
        let (latencies, failures) = task
            .await
            .map_err(|e| CliError::Failure(format!("a client task failed: {e}")))??;
        all.0.extend(latencies);
        all.1 += failures;
    }
    Ok(all)
}

/// The CPU time this process spends between `start` and `end`.
async fn meter_cpu(start: Instant, end: Instant) -> Option<Duration> {
    tokio::time::sleep_until(start.into()).await;
    let before = process_cpu_time();
    tokio::time::sleep_until(end.into()).await;
    Some(process_cpu_time()?.saturating_sub(before?))
}

/// The CPU time (user and system) this process has used, from
/// `/proc/self/stat`; `None` where there is no such file.
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; the fields after it are plain.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime, fields 14 and 15 of proc(5), in clock ticks: 1/100 s
    // (USER_HZ) on every Linux kyso runs on.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// The `p`th percentile of sorted latencies, in milliseconds.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

/// Signatures per second of a fresh key of `key_type` on `threads` threads
/// signing 32-byte messages for `span`.
fn raw_rate(key_type: KeyTypeArg, threads: usize, span: Duration) -> Result<f64, CliError> {
    let key = fresh_key(key_type)?;
    let message = [0x5au8; 32];
    let counts: Vec<u64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let key = key.clone();
                scope.spawn(move || {
                    let end = Instant::now() + span;
                    let mut count = 0u64;
                    while Instant::now() < end {
                        if key.sign(&message).is_ok() {
                            count += 1;
                        }
                    }
                    count
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or(0))
            .collect()
    });
    Ok(counts.iter().sum::<u64>() as f64 / span.as_secs_f64())
}

fn fresh_key(key_type: KeyTypeArg) -> Result<Arc<dyn SigningKey>, CliError> {
    let algorithm = match key_type {
        KeyTypeArg::P256 => crate::ca::KeyAlgorithm::EcdsaP256,
        KeyTypeArg::P384 => crate::ca::KeyAlgorithm::EcdsaP384,
        KeyTypeArg::Rsa2048 => crate::ca::KeyAlgorithm::Rsa2048,
        KeyTypeArg::Rsa3072 => crate::ca::KeyAlgorithm::Rsa3072,
    };
    let pkcs8 = crate::ca::generate_pkcs8(algorithm)
        .map_err(|e| CliError::Failure(format!("cannot generate a {algorithm} key: {e}")))?;
    crate::keyfile::private_key_from_pkcs8(
        &pkcs8,
        std::path::Path::new("bench key"),
        RsaPadding::Pkcs1,
    )
    .map_err(|e| CliError::Failure(e.to_string()))
}

fn key_type_to_proto(key_type: KeyTypeArg) -> proto::KeyType {
    match key_type {
        KeyTypeArg::P256 => proto::KeyType::EcdsaP256,
        KeyTypeArg::P384 => proto::KeyType::EcdsaP384,
        KeyTypeArg::Rsa2048 => proto::KeyType::Rsa2048,
        KeyTypeArg::Rsa3072 => proto::KeyType::Rsa3072,
    }
}
