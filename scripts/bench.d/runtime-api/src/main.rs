//! A minimal Lambda Runtime API on loopback that starts ONE function process and times it,
//! for `scripts/bench` (DESIGN §8).
//!
//! ```text
//! bench-runtime-api --event FILE [--warm-event FILE] [--warm N] [--name NAME]
//!                   [--env-file FILE] [--log FILE] [--cwd DIR] [--timeout SECS]
//!                   -- PROGRAM [ARGS...]
//! ```
//!
//! It binds 127.0.0.1 on a free port, spawns PROGRAM itself (so the spawn and every request
//! share one monotonic clock) with exactly the variables of `--env-file` plus
//! `AWS_LAMBDA_RUNTIME_API`, answers the first `GET .../invocation/next` with `--event`, then
//! N more with `--warm-event`, and records each `POST .../invocation/{id}/response`. When the
//! process polls once more (idle, as Lambda would freeze it), it reads the process's peak RSS
//! (`VmHWM`), kills it and prints one JSON line:
//!
//! - `init_ns`: spawn to the first `next` request;
//! - `cold_total_ns`: spawn to the first response received in full;
//! - `invocations[i].latency_ns`: event `i` written to response `i` received in full;
//! - `vmhwm_kb`, `vmrss_kb`: from `/proc/PID/status` just before the kill.
//!
//! A posted error (`/init/error`, `/invocation/{id}/error`), an early exit or the timeout
//! prints `{"ok":false,"error":...}` and exits 1.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PREFIX: &str = "/2018-06-01/runtime";

struct Options {
    event: Vec<u8>,
    warm_event: Vec<u8>,
    warm: usize,
    name: String,
    env: Vec<(String, String)>,
    log: Option<String>,
    cwd: Option<String>,
    timeout: Duration,
    program: Vec<String>,
}

#[derive(Default)]
struct Invocation {
    sent: Option<Instant>,
    received: Option<Instant>,
    body: Vec<u8>,
}

#[derive(Default)]
struct State {
    first_next: Option<Instant>,
    /// Events handed out so far.
    handed: usize,
    invocations: Vec<Invocation>,
    /// The process polled again after the last event: time to measure and stop it.
    done: bool,
    error: Option<String>,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

fn main() {
    let opts = match parse_args(std::env::args().skip(1).collect()) {
        Ok(opts) => opts,
        Err(e) => {
            eprintln!("bench-runtime-api: {e}");
            std::process::exit(2);
        }
    };
    match run(opts) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            println!("{{\"ok\":false,\"error\":{}}}", json_string(e.as_bytes()));
            std::process::exit(1);
        }
    }
}

fn parse_args(args: Vec<String>) -> Result<Options, String> {
    let mut it = args.into_iter();
    let mut event = None;
    let mut warm_event = None;
    let mut opts = Options {
        event: Vec::new(),
        warm_event: Vec::new(),
        warm: 0,
        name: "bench".into(),
        env: Vec::new(),
        log: None,
        cwd: None,
        timeout: Duration::from_secs(60),
        program: Vec::new(),
    };
    let read = |path: &str| std::fs::read(path).map_err(|e| format!("{path}: {e}"));
    while let Some(arg) = it.next() {
        if arg == "--" {
            opts.program = it.by_ref().collect();
            break;
        }
        let value = it.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--event" => event = Some(read(&value)?),
            "--warm-event" => warm_event = Some(read(&value)?),
            "--warm" => opts.warm = value.parse().map_err(|_| "--warm: not a number")?,
            "--name" => opts.name = value,
            "--env-file" => opts.env = env_file(&String::from_utf8_lossy(&read(&value)?))?,
            "--log" => opts.log = Some(value),
            "--cwd" => opts.cwd = Some(value),
            "--timeout" => {
                let secs: u64 = value.parse().map_err(|_| "--timeout: not a number")?;
                opts.timeout = Duration::from_secs(secs);
            }
            _ => return Err(format!("unknown option {arg}")),
        }
    }
    opts.event = event.ok_or("--event is required")?;
    opts.warm_event = warm_event.unwrap_or_else(|| opts.event.clone());
    if opts.program.is_empty() {
        return Err("no program given after --".into());
    }
    Ok(opts)
}

/// `KEY=VALUE` lines; blank lines and `#` comments skipped; no quoting.
fn env_file(text: &str) -> Result<Vec<(String, String)>, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("env file line without '=': {l}"))
        })
        .collect()
}

fn run(opts: Options) -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let shared: Shared = Arc::default();
    let opts = Arc::new(opts);

    let mut cmd = Command::new(&opts.program[0]);
    cmd.args(&opts.program[1..])
        .env_clear()
        .envs(opts.env.iter().map(|(k, v)| (k, v)))
        .env("AWS_LAMBDA_RUNTIME_API", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null());
    if let Some(dir) = &opts.cwd {
        cmd.current_dir(dir);
    }
    match &opts.log {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("{path}: {e}"))?;
            let copy = file.try_clone().map_err(|e| e.to_string())?;
            cmd.stdout(file).stderr(copy);
        }
        None => {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
    }

    {
        let shared = shared.clone();
        let opts = opts.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = shared.clone();
                let opts = opts.clone();
                std::thread::spawn(move || {
                    if let Err(e) = serve(stream, &shared, &opts) {
                        fail(&shared, format!("connection: {e}"));
                    }
                });
            }
        });
    }

    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", opts.program[0]))?;
    let pid = child.id();

    let (lock, cvar) = &*shared;
    let mut state = lock.lock().map_err(|_| "poisoned")?;
    let outcome = loop {
        if state.done {
            break Ok(());
        }
        if let Some(e) = state.error.take() {
            break Err(e);
        }
        if let Ok(Some(status)) = child.try_wait() {
            break Err(format!(
                "the process exited ({status}) after {} of {} events",
                state
                    .invocations
                    .iter()
                    .filter(|i| i.received.is_some())
                    .count(),
                opts.warm + 1
            ));
        }
        if start.elapsed() > opts.timeout {
            break Err(format!("timed out after {:?}", opts.timeout));
        }
        state = cvar
            .wait_timeout(state, Duration::from_millis(5))
            .map_err(|_| "poisoned")?
            .0;
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    outcome?;

    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let first = state.invocations.first().ok_or("no invocation")?;
    let nanos = |from: Instant, to: Option<Instant>| {
        to.map(|t| t.duration_since(from).as_nanos()).unwrap_or(0)
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "{{\"ok\":true,\"pid\":{pid},\"init_ns\":{},\"cold_total_ns\":{},\"vmhwm_kb\":{},\"vmrss_kb\":{},\"invocations\":[",
        nanos(start, state.first_next),
        nanos(start, first.received),
        kb("VmHWM:"),
        kb("VmRSS:"),
    );
    for (i, inv) in state.invocations.iter().enumerate() {
        let sent = inv.sent.ok_or("an event was never sent")?;
        let _ = write!(
            out,
            "{}{{\"latency_ns\":{},\"response\":{}}}",
            if i == 0 { "" } else { "," },
            nanos(sent, inv.received),
            json_string(&inv.body)
        );
    }
    out.push_str("]}");
    Ok(out)
}

fn fail(shared: &Shared, error: String) {
    let (lock, cvar) = &**shared;
    if let Ok(mut state) = lock.lock() {
        if !state.done && state.error.is_none() {
            state.error = Some(error);
        }
        cvar.notify_all();
    }
}

/// One connection: requests in sequence (keep-alive), until the client closes it.
fn serve(stream: TcpStream, shared: &Shared, opts: &Options) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let (lock, cvar) = &**shared;
    while let Some((method, path, headers)) = read_head(&mut reader)? {
        let now = Instant::now();
        let body = read_body(&mut reader, &headers)?;
        let mut state = lock.lock().map_err(|_| io::Error::other("poisoned"))?;
        if method == "GET" && path == format!("{PREFIX}/invocation/next") {
            state.first_next.get_or_insert(now);
            if state.handed > opts.warm || state.error.is_some() {
                // Idle again after the last event: measure and stop it (main thread). This
                // poll is never answered, as Lambda freezes an idle environment.
                state.done = true;
                cvar.notify_all();
                drop(state);
                loop {
                    std::thread::park();
                }
            }
            let i = state.handed;
            state.handed += 1;
            let event = if i == 0 {
                &opts.event
            } else {
                &opts.warm_event
            };
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() + 60_000)
                .unwrap_or(0);
            let mut reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                 lambda-runtime-aws-request-id: bench-{i}\r\n\
                 lambda-runtime-deadline-ms: {deadline}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:{}\r\n\
                 lambda-runtime-trace-id: Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=0\r\n\
                 content-length: {}\r\n\r\n",
                opts.name,
                event.len()
            )
            .into_bytes();
            reply.extend_from_slice(event);
            // Timed from just before the write (the function may answer before it returns).
            state.invocations.push(Invocation {
                sent: Some(Instant::now()),
                ..Invocation::default()
            });
            writer.write_all(&reply)?;
            continue;
        }
        let accepted = b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{\"status\":\"OK\"}";
        if let Some(rest) = path.strip_prefix(&format!("{PREFIX}/invocation/bench-")) {
            let (index, kind) = rest.split_once('/').unwrap_or((rest, ""));
            let index: usize = index.parse().unwrap_or(usize::MAX);
            match (method.as_str(), kind, state.invocations.get_mut(index)) {
                ("POST", "response", Some(inv)) if inv.received.is_none() => {
                    inv.received = Some(Instant::now());
                    inv.body = body;
                    writer.write_all(accepted)?;
                    cvar.notify_all();
                    continue;
                }
                ("POST", "error", Some(_)) => {
                    state.error = Some(format!(
                        "invocation {index} failed: {}",
                        String::from_utf8_lossy(&body)
                    ));
                    writer.write_all(accepted)?;
                    cvar.notify_all();
                    continue;
                }
                _ => {}
            }
        }
        if method == "POST" && path == format!("{PREFIX}/init/error") {
            state.error = Some(format!("init failed: {}", String::from_utf8_lossy(&body)));
            writer.write_all(accepted)?;
            cvar.notify_all();
            continue;
        }
        state.error = Some(format!("unexpected request {method} {path}"));
        cvar.notify_all();
        writer.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")?;
    }
    Ok(())
}

type Head = (String, String, HashMap<String, String>);

fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = HashMap::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    Ok(Some((method, path, headers)))
}

fn read_body(reader: &mut impl BufRead, headers: &HashMap<String, String>) -> io::Result<Vec<u8>> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        let mut body = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = line.trim().split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size, 16).map_err(|_| bad("chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        return Ok(body);
                    }
                }
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            line.clear();
            reader.read_line(&mut line)?;
        }
    }
    let len = match headers.get("content-length") {
        Some(v) => v.parse::<usize>().map_err(|_| bad("content-length"))?,
        None => 0,
    };
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    Ok(body)
}

fn json_string(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
