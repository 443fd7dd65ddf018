//! fogg's integration tests: one binary, one module per theme.

mod alloc;
mod architecture;
mod attribute;
mod browser;
mod calibrate;
mod capacity;
mod cli;
mod compare;
mod deploy;
mod exact;
mod examples;
mod extremes;
mod faults;
mod fit;
mod forecast;
mod import;
mod load;
mod metrics;
mod mutations;
mod props;
mod reports;
mod scenario_errors;
mod schema;
mod sessions;
mod shards;
mod simulate;
mod thresholds;
mod whatif;

use fogg_engine::sim::{Progress, SimOutcome, SimPlan, simulate_on_pool};
use fogg_model::Model;
use fogg_result::SimResult;
use fogg_scenario::Scenario;

/// Two pages, 20 ms apart: 1.6 requests per customer, so the request rate
/// follows the arrival rate within a fraction of a second.
pub const SHORT_JOURNEYS: &str = r#"
[scenario]
name = "two pages"
[[channel]]
id = "web"
kind = "online"
[entry]
home = 1
[[state]]
id = "home"
stage = "awareness"
channel = "web"
next = { product = 6, exit = 4 }
[[state]]
id = "product"
stage = "purchase"
channel = "web"
conversion = true
value = { dist = "constant", value = 10.0 }
next = { exit = 1 }
[load]
think_time = { dist = "constant", value = "20ms" }
patience = { dist = "constant", value = "1h" }
[[load.request]]
state = "home"
path = "/"
[[load.request]]
state = "product"
path = "/product/{product}"
"#;

/// Writes [`SHORT_JOURNEYS`] as `two-pages.toml` in `dir`.
pub fn short_journeys(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("two-pages.toml");
    std::fs::write(&path, SHORT_JOURNEYS).expect("write scenario");
    path
}

/// The `fogg` binary, ready to take arguments.
pub fn fogg() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("fogg").expect("the fogg binary is built for tests")
}

/// A loopback port that refuses every connection: a socket bound but not
/// listening holds it, so no other test can take it while the socket
/// lives. Keep the socket until the run is over.
pub fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let socket = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.bind(std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0))).expect("bind");
        socket
    });
    let port = socket.local_addr().expect("addr").port();
    (socket, port)
}

/// Runs `fogg ARGS --out DIR` (a run far too long to finish), sends it
/// SIGTERM once it catches SIGTERM (bit 15 − 1 of SigCgt in /proc: a
/// signal before that would meet the default action, not fogg's handler;
/// readiness, never a fixed wait), and checks that it exits 2 saying it
/// was interrupted. Returns its saved result `FILE` and that JSON.
#[cfg(target_os = "linux")]
pub fn interrupted_run(
    args: &[&str],
    dir: &std::path::Path,
    file: &str,
) -> (std::path::PathBuf, serde_json::Value) {
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("fogg"))
        .args(args)
        .arg("--out")
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    sigterm_once_caught(child.id());
    let output = exits_after_a_signal(child);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("interrupted by a signal"), "{stderr}");
    let saved = dir.join(file);
    let v = serde_json::from_str(&std::fs::read_to_string(&saved).expect("report")).expect("JSON");
    (saved, v)
}

/// Waits for `child`, which was signalled: it must stop within two
/// minutes (it takes milliseconds; a run that never stops is killed and
/// fails the test rather than hanging the suite).
#[cfg(target_os = "linux")]
pub fn exits_after_a_signal(mut child: std::process::Child) -> std::process::Output {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().expect("waits").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not stop after the signal");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("exits")
}

/// Sends SIGTERM to process `pid` once it catches SIGTERM (bit 15 − 1 of
/// SigCgt in /proc): readiness, never a fixed wait.
#[cfg(target_os = "linux")]
pub fn sigterm_once_caught(pid: u32) {
    let caught = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .is_some_and(|mask| mask & (1 << 14) != 0)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !caught() {
        assert!(std::time::Instant::now() < deadline, "fogg never installed its signal handler");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    assert!(killed.expect("kill").success());
}

/// What a run against a dead target gave: its port, stdout, and the JSON
/// result it saved.
pub struct DeadTargetRun {
    pub port: u16,
    pub stdout: String,
    pub saved: serde_json::Value,
}

/// Runs `fogg ARGS --target http://127.0.0.1:PORT --out DIR` against a
/// port that refuses every connection, checks that it exits 2 saying the
/// target did not answer, and reads the result it still saved as `file`.
pub fn against_dead_target(args: &[&str], file: &str) -> DeadTargetRun {
    let (_held, port) = refusing_port();
    let out = tempfile::tempdir().expect("temp dir");
    let run = fogg()
        .args(args)
        .arg("--target")
        .arg(format!("http://127.0.0.1:{port}"))
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("did not answer") && stderr.contains("failed to connect"), "{stderr}");
    let saved = std::fs::read_to_string(out.path().join(file)).expect("report written");
    let saved = serde_json::from_str(&saved).expect("JSON");
    DeadTargetRun { port, stdout: String::from_utf8_lossy(&run.stdout).into_owned(), saved }
}

/// A bundled scenario, compiled.
pub fn bundled_scenario(name: &str) -> Scenario {
    fogg_scenario::bundled(name).expect("bundled scenario exists").expect("bundled scenario is valid")
}

/// The journey model of a bundled scenario.
pub fn bundled(name: &str) -> Model {
    bundled_scenario(name).model
}

/// Runs `plan` on `threads` workers; the result carries `scenario_text`
/// as `fogg simulate` does.
pub fn run_plan(
    model: &Model,
    scenario_text: &str,
    plan: &SimPlan,
    threads: usize,
) -> (SimResult, SimOutcome) {
    let run = simulate_on_pool(model, plan, Some(threads), &Progress::default()).expect("simulation runs");
    (SimResult::new(model, scenario_text, plan, &run), run.outcome)
}

/// Simulates customers `0..n` in-process.
pub fn simulate(model: &Model, n: u64, seed: u64, threads: usize, export: bool) -> (SimResult, SimOutcome) {
    let plan = SimPlan {
        seed,
        customers: 0..n,
        run_customers: n,
        export_paths: export,
        shard: fogg_core::shard::Shard::WHOLE,
    };
    run_plan(model, "", &plan, threads)
}

/// A result with the fields that vary between runs (timings) blanked.
pub fn without_run_info(mut r: SimResult) -> SimResult {
    r.run.elapsed_s = 0.0;
    r.run.steps_per_s = 0.0;
    r.run.threads = 0;
    r.run.shards = 1;
    r
}

/// A demo shop on loopback, served by a runtime of its own, for tests that
/// run `fogg` as a child process and need to know when it has started
/// sending (its counters) rather than guess with a sleep.
pub struct LiveShop {
    /// Base URL.
    pub url: String,
    /// The shop's counters.
    pub stats: std::sync::Arc<fogg_load::demo::DemoStats>,
    _runtime: tokio::runtime::Runtime,
    _server: fogg_load::demo::DemoServer,
}

impl LiveShop {
    /// Starts a shop with the given configuration on a free port.
    pub fn start(config: fogg_load::demo::DemoConfig) -> LiveShop {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let addr = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0));
        let server = runtime.block_on(fogg_load::demo::start(addr, config)).expect("demo shop");
        LiveShop {
            url: server.url(),
            stats: std::sync::Arc::clone(&server.stats),
            _runtime: runtime,
            _server: server,
        }
    }

    /// Waits until the shop has received at least `n` requests; panics
    /// after `limit` (a bound against a hang, not a timing assumption).
    pub fn wait_for_requests(&self, n: u64, limit: std::time::Duration) {
        let started = std::time::Instant::now();
        while self.stats.total() < n {
            assert!(
                started.elapsed() < limit,
                "the shop saw {} requests, waited for {n}",
                self.stats.total()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}
