//! The command line, spelled as the wrapper's supervisor writes it (seldon_serve/supervisor.py):
//! `-name value` or `-name=value` (one dash or two), durations as Go writes them (`20s`, `1.5s`,
//! `1m30s`).

use std::time::Duration;

pub struct Args {
    pub listen: String,
    pub backend: String,
    pub max_bytes: usize,
    pub grace: Duration,
    pub pass_headers: Vec<String>,
    pub workers: usize,
}

const USAGE: &str = "usage: seldon-grpc-front -listen <address> -backend <unix socket> [options]

  -listen string             address to serve gRPC on, e.g. 0.0.0.0:5000 (the wrapper passes its gRPC port)
  -backend string            the wrapper's Unix socket
  -max-message-bytes int     largest message received or sent (default 104857600)
  -grace duration            how long calls in progress may finish after SIGTERM (default 20s)
  -pass-headers string       comma-separated metadata keys passed on to the wrapper as headers (the trace context)
  -workers int               how many worker processes share the socket (each call goes to the least busy) (default 1)
";

pub fn parse(words: Vec<String>) -> Args {
    let mut args = Args {
        listen: String::new(),
        backend: String::new(),
        max_bytes: 100 * 1024 * 1024,
        grace: Duration::from_secs(20),
        pass_headers: Vec::new(),
        workers: 1,
    };
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        let flag = word.trim_start_matches('-');
        if flag == word || flag.is_empty() {
            usage_error(&format!("unexpected argument {word:?}"));
        }
        if matches!(flag, "h" | "help") {
            eprint!("{USAGE}");
            std::process::exit(0);
        }
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name.to_string(), value.to_string()),
            None => (
                flag.to_string(),
                words
                    .next()
                    .unwrap_or_else(|| usage_error(&format!("flag needs an argument: -{flag}"))),
            ),
        };
        let invalid = |what: &str| -> ! { usage_error(&format!("invalid value {value:?} for flag -{name}: {what}")) };
        match name.as_str() {
            "listen" => args.listen = value.clone(),
            "backend" => args.backend = value.clone(),
            "max-message-bytes" => args.max_bytes = value.parse().unwrap_or_else(|_| invalid("not a byte count")),
            "grace" => args.grace = duration(&value).unwrap_or_else(|| invalid("not a duration")),
            "pass-headers" => {
                args.pass_headers = value
                    .split(',')
                    .filter(|key| !key.is_empty())
                    .map(str::to_ascii_lowercase)
                    .collect()
            }
            "workers" => args.workers = value.parse().unwrap_or_else(|_| invalid("not a count")),
            _ => usage_error(&format!("flag provided but not defined: -{name}")),
        }
    }
    if args.listen.is_empty() || args.backend.is_empty() {
        crate::fatal("-listen <address> and -backend <unix socket> are required");
    }
    args
}

fn usage_error(message: &str) -> ! {
    eprint!("{message}\n{USAGE}");
    std::process::exit(2);
}

/// A duration as Go's time.ParseDuration reads one, in the units a grace period needs.
fn duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut seconds = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number: f64 = rest[..number_end].parse().ok()?;
        let unit_end = rest[number_end..]
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .map_or(rest.len(), |end| number_end + end);
        let scale = match &rest[number_end..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        seconds += number * scale;
        rest = &rest[unit_end..];
    }
    Some(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_go_writes_them() {
        assert_eq!(duration("20s"), Some(Duration::from_secs(20)));
        assert_eq!(duration("20.0s"), Some(Duration::from_secs(20)));
        assert_eq!(duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(duration("0"), Some(Duration::ZERO));
        assert_eq!(duration("20"), None);
        assert_eq!(duration("soon"), None);
    }

    #[test]
    fn flags_take_either_spelling() {
        let words = [
            "-listen",
            "0.0.0.0:5000",
            "--backend=/tmp/s",
            "-grace",
            "2.5s",
            "-workers",
            "3",
            "-pass-headers",
            "Traceparent,tracestate",
        ];
        let args = parse(words.iter().map(|w| w.to_string()).collect());
        assert_eq!(
            (args.listen.as_str(), args.backend.as_str()),
            ("0.0.0.0:5000", "/tmp/s")
        );
        assert_eq!((args.grace, args.workers), (Duration::from_millis(2500), 3));
        assert_eq!(args.pass_headers, ["traceparent", "tracestate"]);
    }
}
