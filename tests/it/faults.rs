//! The loopback fault suite: `fogg load` as a user runs it, against
//! servers that misbehave in every way a real one can. Each fault must
//! land in its error class, every request must be accounted for, the
//! report must be written, the exit code must say the run failed its
//! threshold (or that nothing answered), and memory must stay bounded
//! (peak RSS read from /proc while the run lasts).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Ways a server misbehaves.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    /// Resets the connection as soon as it is accepted.
    ResetBeforeRequest,
    /// Reads the request, then resets the connection.
    ResetAfterRequest,
    /// Answers with bytes that are not HTTP.
    Garbage,
    /// Sends a status line, then nothing.
    SlowHeaders,
    /// Reads the request and never answers.
    Stall,
    /// A chunked body that never ends.
    EndlessBody,
    /// A 200 MB body: fine, if read as it streams.
    HugeBody,
    /// Promises 1,000 bytes, sends 500 and closes.
    CloseMidBody,
    /// Redirects every request to itself.
    RedirectLoop,
    /// Redirects to another origin (which counts what reaches it).
    CrossOriginRedirect,
    /// Answers 500.
    ServerError,
    /// A 1 MB response header.
    HugeHeaders,
}

/// Reads one request head (up to the blank line); false when the peer
/// closed first.
fn read_head(stream: &mut TcpStream) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    true
}

fn reset(stream: TcpStream) {
    // SO_LINGER 0: closing sends RST rather than FIN.
    let socket = socket2::SockRef::from(&stream);
    let _ = socket.set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// Serves one connection with `fault`; `elsewhere` is the other origin's
/// port for cross-origin redirects.
fn serve_connection(mut stream: TcpStream, fault: Fault, elsewhere: u16) {
    use Fault::*;
    if fault == ResetBeforeRequest {
        return reset(stream);
    }
    loop {
        if !read_head(&mut stream) {
            return;
        }
        let answer: Vec<u8> = match fault {
            ResetBeforeRequest | ResetAfterRequest => return reset(stream),
            Garbage => b"HELLO THERE\r\n\r\n".to_vec(),
            SlowHeaders => {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n");
                std::thread::sleep(Duration::from_secs(30));
                return;
            }
            Stall => {
                std::thread::sleep(Duration::from_secs(30));
                return;
            }
            EndlessBody => {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                let chunk = [b"10000\r\n".as_slice(), &[b'x'; 0x10000], b"\r\n"].concat();
                while stream.write_all(&chunk).is_ok() {}
                return;
            }
            HugeBody => {
                let size = 200 * 1024 * 1024;
                let _ = stream.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n").as_bytes());
                let chunk = [b'x'; 0x10000];
                for _ in 0..size / chunk.len() {
                    if stream.write_all(&chunk).is_err() {
                        return;
                    }
                }
                continue;
            }
            CloseMidBody => {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
                let _ = stream.write_all(&[b'x'; 500]);
                return;
            }
            RedirectLoop => b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n".to_vec(),
            CrossOriginRedirect => format!(
                "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{elsewhere}/stolen\r\nContent-Length: 0\r\n\r\n"
            )
            .into_bytes(),
            ServerError => b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_vec(),
            HugeHeaders => {
                let big = "a".repeat(1024 * 1024);
                format!("HTTP/1.1 200 OK\r\nX-Big: {big}\r\nContent-Length: 0\r\n\r\n").into_bytes()
            }
        };
        if stream.write_all(&answer).is_err() {
            return;
        }
        if fault == Garbage {
            return;
        }
    }
}

/// Starts a server with `fault` on a free loopback port, one thread per
/// connection (the suite's servers live as long as the test process).
fn fault_server(fault: Fault, elsewhere: u16) -> u16 {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve_connection(stream, fault, elsewhere));
        }
    });
    port
}

/// A server that counts the connections it gets and answers nothing.
fn counting_server() -> (u16, Arc<AtomicU64>) {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::Relaxed);
            drop(stream);
        }
    });
    (port, count)
}

/// One page per customer, with a request timeout of `{TIMEOUT}`.
const ONE_PAGE: &str = r#"
[scenario]
name = "fault"
[[channel]]
id = "web"
kind = "online"
[entry]
page = 1
[[state]]
id = "page"
stage = "awareness"
channel = "web"
next = { exit = 1 }
[load]
timeout = "{TIMEOUT}"
patience = { dist = "constant", value = "1h" }
[[load.request]]
state = "page"
path = "/page"
"#;

/// What one faulty run gave.
struct FaultRun {
    code: Option<i32>,
    stderr: String,
    report: serde_json::Value,
    peak_rss_kb: u64,
}

/// Runs `fogg load` for 2 s at 10 customers/s against port `port`, with
/// `error_rate < 1%` as its threshold and `timeout` as both the request
/// timeout and the grace period (a request still in flight after the
/// grace period is a timeout), reading its peak RSS as it runs.
fn run_against(port: u16, dir: &std::path::Path, timeout: &str) -> FaultRun {
    let scenario = dir.join("fault.toml");
    std::fs::write(&scenario, ONE_PAGE.replace("{TIMEOUT}", timeout)).expect("write scenario");
    let out = dir.join("out");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fogg"))
        .arg("load")
        .arg(&scenario)
        .args(["--duration", "2s", "--grace", timeout, "--rate", "10", "--threshold", "error_rate < 1%"])
        .args(["--target", &format!("http://127.0.0.1:{port}"), "--quiet", "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let status = format!("/proc/{}/status", child.id());
    let mut peak_rss_kb = 0;
    // VmHWM is the peak so far; the last reading before exit is the run's.
    // Until the child has exec'd fogg it is a fork of this test process,
    // whose memory (other tests' included) is not the run's: skip those.
    while let Ok(text) = std::fs::read_to_string(&status) {
        let hwm = text.lines().find_map(|l| l.strip_prefix("VmHWM:"));
        let Some(kb) = hwm.and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok()) else {
            break; // exited: a zombie has no memory lines
        };
        if text.lines().find_map(|l| l.strip_prefix("Name:")).map(str::trim) == Some("fogg") {
            peak_rss_kb = peak_rss_kb.max(kb);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("exits");
    let text = std::fs::read_to_string(out.join("load-fault.json")).expect("the report is written");
    FaultRun {
        code: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        report: serde_json::from_str(&text).expect("the report is JSON"),
        peak_rss_kb,
    }
}

#[test]
fn every_fault_lands_in_its_class_with_the_report_written_and_memory_bounded() {
    use Fault::*;
    let (elsewhere, stolen) = counting_server();
    let cases = [
        (ResetBeforeRequest, Some("other")),
        (ResetAfterRequest, Some("other")),
        (Garbage, Some("other")),
        (SlowHeaders, Some("timeout")),
        (Stall, Some("timeout")),
        (EndlessBody, Some("timeout")),
        // Read to its end, and never kept.
        (HugeBody, None),
        (CloseMidBody, Some("other")),
        (RedirectLoop, Some("other")),
        (CrossOriginRedirect, Some("other")),
        (ServerError, Some("status_5xx")),
        (HugeHeaders, Some("other")),
    ];
    // Two at a time: the machine has two cores and each run is timed.
    let mut results = Vec::new();
    for pair in cases.chunks(2) {
        let runs: Vec<_> = pair
            .iter()
            .map(|&(fault, class)| {
                let port = fault_server(fault, elsewhere);
                std::thread::spawn(move || {
                    let dir = tempfile::tempdir().expect("temp dir");
                    // A fault that must time out gets a short timeout; the
                    // huge body gets a timeout and a grace period no busy
                    // machine can reach, so that what it checks (read to
                    // its end, never kept) does not depend on how fast the
                    // body is read: the run ends when every body has been.
                    let timeout = if class.is_some() { "1s" } else { "1h" };
                    (fault, class, run_against(port, dir.path(), timeout))
                })
            })
            .collect();
        results.extend(runs.into_iter().map(|r| r.join().expect("run")));
    }
    for (fault, class, run) in &results {
        let r = &run.report;
        let requests = r["requests"].as_u64().expect("requests");
        let errors = &r["errors"];
        let failed: u64 = errors.as_object().expect("errors").values().map(|v| v.as_u64().unwrap_or(0)).sum();
        assert!(requests > 0, "{fault:?}: some requests were sent");
        let unfinished = r["requests_unfinished"].as_u64().unwrap_or(0);
        // The figures docs/reliability.md records (`--nocapture` shows them).
        eprintln!(
            "| {fault:?} | {} | {requests} | {unfinished} | {:?} | {:.1} |",
            class.unwrap_or("none"),
            run.code,
            run.peak_rss_kb as f64 / 1024.0
        );
        match class {
            Some(class) => {
                // Every request is accounted for: failed in this class, or
                // cut short by the end of the run.
                let in_class = errors[class].as_u64().unwrap_or(0);
                assert_eq!(in_class + unfinished, requests, "{fault:?}: {errors}");
                assert_eq!(failed, in_class, "{fault:?}: one class only: {errors}");
                assert_eq!(run.code, Some(1), "{fault:?}: the threshold fails the run: {}", run.stderr);
                assert_eq!(r["verdict"], "fail", "{fault:?}");
            }
            None => {
                assert_eq!(failed, 0, "{fault:?}: {errors}");
                assert_eq!(run.code, Some(0), "{fault:?}: {}", run.stderr);
            }
        }
        assert!(
            run.peak_rss_kb > 0 && run.peak_rss_kb < 150 * 1024,
            "{fault:?}: peak RSS {} kB",
            run.peak_rss_kb
        );
    }
    assert_eq!(stolen.load(Ordering::Relaxed), 0, "no connection reached the other origin");

    // Nothing listening: every request fails to connect, and the run says
    // the target did not answer (exit 2), with its report still written.
    let (_held, port) = crate::refusing_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let run = run_against(port, dir.path(), "1s");
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("did not answer"), "{}", run.stderr);
    let requests = run.report["requests"].as_u64().expect("requests");
    assert!(requests > 0);
    assert_eq!(run.report["errors"]["connect"].as_u64(), Some(requests));
}

/// `https://` to a port that speaks plain HTTP: the run says so, with the
/// fix, rather than "did not answer (is it running?)", and its report's
/// failures name the TLS problem.
#[test]
fn https_to_a_plain_http_port_is_named() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        // What any HTTP server answers to bytes it cannot parse (a TLS
        // ClientHello), as nginx and gunicorn do.
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let _ = std::io::Write::write_all(
                &mut stream,
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
            );
        }
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let run = crate::fogg()
        .arg("load")
        .arg(crate::short_journeys(dir.path()))
        .args(["--customers", "3", "--rate", "10", "--format", "json", "--target"])
        .arg(format!("https://127.0.0.1:{port}"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("answered no request: TLS handshake failed")
            && stderr.contains("for plain HTTP, give an http:// target"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    let reasons = &report["failures"][0]["reasons"];
    assert!(
        reasons.as_object().expect("reasons").keys().all(|r| r.contains("does not speak TLS")),
        "{reasons}"
    );
}
