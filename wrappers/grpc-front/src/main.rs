//! seldon-grpc-front serves the Seldon gRPC contract on behalf of a wrapper process.
//!
//! A Python (or R) gRPC server spends most of each call in its own machinery; this front
//! terminates HTTP/2 (tonic, on hyper's h2) and hands every call to the wrapper's workers over a
//! local Unix socket (link.rs): the method's name, the trace headers and the request message's
//! protobuf bytes go as one frame, many calls at once on one connection, and the worker answers
//! with a gRPC status code followed by the reply message's bytes, or by a UTF-8 error message
//! when the code is not OK. The front never parses the messages, so it cannot disagree with the
//! wrapper about them; it only needs the descriptors (asked for on the same socket) to know
//! which methods the wrapper serves (the Seldon protocol's, the Open Inference Protocol's, or
//! both) and to answer server reflection.

mod args;
mod forward;
mod link;
mod raw_codec;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use prost::Message;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;

use args::Args;
use forward::{Forward, Relay};
use link::Link;

/// The flow-control windows, fixed at 16 MiB (grpc-go's servers grow theirs to that at most):
/// a large message then streams without waiting on window updates, and small calls never
/// wait on a bandwidth estimate.
const FLOW_CONTROL_WINDOW: u32 = 16 << 20;
const DESCRIPTORS_WAIT: Duration = Duration::from_secs(120);

fn main() {
    let args = args::parse(std::env::args().skip(1).collect());
    // One CPU: a single thread does the work with no hand-offs between threads.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = if threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().enable_all().build()
    };
    let runtime = runtime.unwrap_or_else(|err| fatal(&format!("cannot start: {err}")));
    if let Err(err) = runtime.block_on(serve(args)) {
        fatal(&err);
    }
}

async fn serve(args: Args) -> Result<(), String> {
    // Listen before the workers are ready: early clients wait in the backlog instead of being
    // refused, and are served as soon as the descriptors (so the workers) are there.
    let address = resolve(&args.listen).await?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", args.listen))?;
    let link = Link::new(args.backend.clone().into(), args.workers, args.max_bytes);
    let descriptors = link
        .describe(DESCRIPTORS_WAIT)
        .await
        .map_err(|err| format!("cannot load the service descriptors: {err}"))?;
    let served = methods(&descriptors)?;
    let forward = Forward::new(Relay {
        link,
        served,
        pass_headers: args.pass_headers,
        max_bytes: args.max_bytes,
    });

    // grpc.health.v1, for a Kubernetes gRPC probe: SERVING from here on (the workers answered
    // with their descriptors, so the model is loaded), NOT_SERVING once stopping. Answered by
    // the front itself, it is not held up by a worker busy in a long call.
    let (health, health_service) = tonic_health::server::health_reporter();
    // Reflection lists the wrapper's services only, as the descriptors declare them.
    let descriptors: &'static [u8] = Vec::leak(descriptors.to_vec());
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(descriptors)
            .include_reflection_service(false)
    };
    let reflection_v1 = reflection().build_v1().map_err(|err| format!("reflection: {err}"))?;
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .map_err(|err| format!("reflection: {err}"))?;
    let routes = Routes::new(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);
    let routes = Routes::from(routes.into_axum_router().fallback_service(forward)).prepare();

    let grace = args.grace;
    let stopping = async move {
        stop_signal().await;
        health.set_service_status("", ServingStatus::NotServing).await;
    };
    log_line("INFO", &format!("serving gRPC on {} for {}", args.listen, args.backend));
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let server = tonic::transport::Server::builder()
        .initial_stream_window_size(FLOW_CONTROL_WINDOW)
        .initial_connection_window_size(FLOW_CONTROL_WINDOW)
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, stopping);
    // Calls in progress at SIGTERM may finish within the grace period; then the front exits.
    let grace_over = async {
        stop_signal().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server => result.map_err(|err| err.to_string()),
        _ = grace_over => Ok(()),
    }
}

async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut interrupt = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = interrupt.recv() => {}
    }
}

/// The address to listen on, written as Go's net.Listen takes it: host:port, [v6]:port, or
/// :port for every (IPv4) interface.
async fn resolve(listen: &str) -> Result<SocketAddr, String> {
    let spelled = if listen.starts_with(':') {
        format!("0.0.0.0{listen}")
    } else {
        listen.to_string()
    };
    // The resolver's own words: a malformed address and a name that does not resolve differ.
    let mut found = tokio::net::lookup_host(&spelled)
        .await
        .map_err(|error| format!("cannot listen on {listen}: {error}"))?;
    found
        .next()
        .ok_or_else(|| format!("cannot listen on {listen}: the name has no address"))
}

/// The full names ("/package.Service/Method") of the methods of every service the
/// descriptors declare.
fn methods(descriptors: &[u8]) -> Result<HashSet<String>, String> {
    let set = prost_types::FileDescriptorSet::decode(descriptors)
        .map_err(|err| format!("cannot load the service descriptors: {err}"))?;
    let mut served = HashSet::new();
    for file in &set.file {
        let package = file.package.as_deref().unwrap_or_default();
        for service in &file.service {
            let service_name = service.name.as_deref().unwrap_or_default();
            let full = if package.is_empty() {
                service_name.to_string()
            } else {
                format!("{package}.{service_name}")
            };
            for method in &service.method {
                served.insert(format!("/{full}/{}", method.name.as_deref().unwrap_or_default()));
            }
        }
    }
    Ok(served)
}

/// Writes one line of the log as the python wrapper's workers write theirs: plain text, or
/// under LOG_FORMAT=json one JSON object with the same fields (time, level, logger, pid, message).
pub fn log_line(level: &str, message: &str) {
    let json = std::env::var("LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    if !json {
        eprintln!("grpc-front: {message}");
        return;
    }
    eprintln!(
        r#"{{"time":"{}","level":"{level}","logger":"grpc-front","pid":{},"message":{}}}"#,
        utc_now(),
        std::process::id(),
        json_string(message)
    );
}

pub fn fatal(message: &str) -> ! {
    log_line("ERROR", message);
    std::process::exit(1);
}

/// The time as the workers' JSON lines write it: 2006-01-02T15:04:05.000Z.
fn utc_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let (days, seconds) = (now.as_secs() / 86400, now.as_secs() % 86400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        now.subsec_millis()
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_794), (2026, 12, 7));
    }

    #[test]
    fn json_strings_escape_quotes_and_controls() {
        assert_eq!(json_string("a \"b\"\n\u{1}"), r#""a \"b\"\n\u0001""#);
    }
}
