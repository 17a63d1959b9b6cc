//! `cargo xtask fuzz [--seconds N]`: every cargo-fuzz target in `fuzz/` for N seconds
//! (default 30), each from a fresh corpus seeded with `fuzz/seeds/<target>`, then a table
//! of executions, speed, coverage, corpus size and crashes. Fails if any target crashed.
//!
//! `fuzz/` is its own workspace built with nightly into `fuzz/target`; the nightly
//! toolchain and cargo-fuzz are installed first when missing. The committed seeds live in
//! `fuzz/seeds/` because `fuzz/corpus/` and `fuzz/artifacts/` are ignored by git.

use std::fs;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

use crate::util::{cargo, root};

/// Every fuzz target, with the longest input libFuzzer may generate for it.
const TARGETS: &[(&str, usize)] = &[
    // A header is at most 14 bytes; a little more shows that trailing bytes are left alone.
    ("frame_header", 64),
    // Past the 2 KiB head limit, so that 431 is reachable.
    ("server_handshake", 4096),
    ("client_response", 4096),
    ("connection_server", 4096),
    ("connection_client", 4096),
    // Compressed messages: a bomb of a few KB inflates past the 64 KiB limit.
    ("connection_deflate", 4096),
];

const DEFAULT_SECONDS: u64 = 30;

pub fn run(args: &[String]) -> Result<(), String> {
    let seconds = parse_seconds(args)?;
    setup()?;
    let fuzz_dir = root().join("fuzz");

    let started = Instant::now();
    crate::util::run(nightly().args(["fuzz", "build", "--fuzz-dir"]).arg(&fuzz_dir))?;
    let build_secs = started.elapsed().as_secs_f64();
    eprintln!("fuzz: targets built in {build_secs:.1} s");

    let mut results = Vec::new();
    for &(target, max_len) in TARGETS {
        results.push(fuzz_one(&fuzz_dir, target, max_len, seconds)?);
    }

    println!("\nfuzz: {seconds} s per target (build {build_secs:.1} s)\n");
    print_table(&results);
    let crashed: Vec<&str> = results.iter().filter(|r| !r.passed()).map(|r| r.target).collect();
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!("fuzz: {} failed; inputs are in fuzz/artifacts/", crashed.join(", ")))
    }
}

fn parse_seconds(args: &[String]) -> Result<u64, String> {
    let usage = || "usage: cargo xtask fuzz [--seconds N]".to_string();
    match args {
        [] => Ok(DEFAULT_SECONDS),
        [flag, n] if flag == "--seconds" => n.parse().map_err(|_| usage()),
        [arg] => arg.strip_prefix("--seconds=").and_then(|n| n.parse().ok()).ok_or_else(usage),
        _ => Err(usage()),
    }
}

/// `cargo +nightly`, through the rustup proxy: the `CARGO` that runs xtask is a stable
/// toolchain's own binary, which does not understand `+toolchain`.
fn nightly() -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg("+nightly");
    cmd
}

/// Installs the nightly toolchain and cargo-fuzz when they are missing.
fn setup() -> Result<(), String> {
    if !succeeds(nightly().arg("--version")) {
        crate::util::run(Command::new("rustup").args([
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
        ]))?;
    }
    if !succeeds(nightly().args(["fuzz", "--help"])) {
        crate::util::run(cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }
    Ok(())
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// What one target's run gave.
struct Outcome {
    target: &'static str,
    status: ExitStatus,
    stats: Stats,
}

impl Outcome {
    fn passed(&self) -> bool {
        self.status.success() && self.stats.artifact.is_none()
    }

    /// The crashes column: 0, the input libFuzzer kept, or how the run failed.
    fn crashes(&self) -> String {
        match (&self.stats.artifact, self.status.success()) {
            (Some(path), _) => {
                let path = Path::new(path);
                path.strip_prefix(root()).unwrap_or(path).display().to_string()
            }
            (None, true) => "0".into(),
            (None, false) => format!("failed ({})", self.status),
        }
    }
}

/// libFuzzer's statistics, read from its stderr.
#[derive(Default)]
struct Stats {
    runs: Option<u64>,
    /// libFuzzer finished its time (`Done N runs in S second(s)`) rather than stopping.
    done: bool,
    exec_per_sec: Option<u64>,
    cov: Option<u64>,
    ft: Option<u64>,
    /// `corp: <units>/<size>` of the last status line.
    corpus: Option<String>,
    /// Where libFuzzer wrote the input that crashed, leaked, ran out of memory or time.
    artifact: Option<String>,
    /// The first panic: where, and its message (the assertion's lines, joined).
    panic: Option<String>,
    /// Lines of the panic message still to collect.
    panic_lines: u8,
}

impl Stats {
    fn read(&mut self, line: &str) {
        if let Some(rest) = line.strip_prefix('#') {
            // `#4096\tpulse  cov: 310 ft: 1228 corp: 97/6427b lim: 4096 exec/s: 2048 rss: 41Mb`
            let mut words = rest.split_whitespace();
            self.runs = words.next().and_then(|n| n.parse().ok()).or(self.runs);
            let words: Vec<&str> = words.collect();
            let field = |name: &str| words.iter().position(|w| *w == name).and_then(|i| words.get(i + 1));
            let number = |name: &str| field(name).and_then(|v| v.parse().ok());
            self.cov = number("cov:").or(self.cov);
            self.ft = number("ft:").or(self.ft);
            self.exec_per_sec = number("exec/s:").or(self.exec_per_sec);
            if let Some(corp) = field("corp:") {
                self.corpus = Some((*corp).to_string());
            }
        } else if let Some(rest) = line.strip_prefix("Done ") {
            // `Done 123456 runs in 21 second(s)`
            let words: Vec<&str> = rest.split_whitespace().collect();
            if let [runs, "runs", "in", secs, ..] = words.as_slice() {
                self.done = true;
                self.runs = runs.parse().ok().or(self.runs);
                if let (Some(runs), Ok(secs)) = (self.runs, secs.parse::<u64>()) {
                    if self.exec_per_sec.is_none() && secs > 0 {
                        self.exec_per_sec = Some(runs / secs);
                    }
                }
            }
        } else if let Some((_, path)) = line.split_once("Test unit written to ") {
            self.artifact.get_or_insert_with(|| path.trim().to_string());
        } else if line.contains(" panicked at ") && self.panic.is_none() {
            self.panic = Some(line.trim().to_string());
            self.panic_lines = 3;
            return;
        } else if self.panic_lines > 0 && !line.starts_with("stack backtrace") && !line.starts_with("note:") {
            if let Some(panic) = self.panic.as_mut() {
                panic.push_str(" | ");
                panic.push_str(line.trim());
            }
            self.panic_lines -= 1;
            return;
        }
        self.panic_lines = 0;
    }

    /// Units in the corpus (`97` of `97/6427b`).
    fn corpus_units(&self) -> String {
        self.corpus.as_deref().and_then(|c| c.split('/').next()).unwrap_or("?").to_string()
    }
}

/// Runs one target for `seconds`, echoing libFuzzer's output except its many
/// new-coverage lines and its recommended dictionary.
fn fuzz_one(fuzz_dir: &Path, target: &'static str, max_len: usize, seconds: u64) -> Result<Outcome, String> {
    let seeds = fuzz_dir.join("seeds").join(target);
    let corpus = fuzz_dir.join("corpus").join(target);
    fresh_corpus(&seeds, &corpus)?;

    let mut cmd = nightly();
    cmd.args(["fuzz", "run", "--fuzz-dir"])
        .arg(fuzz_dir)
        .arg(target)
        .arg(&corpus)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-rss_limit_mb=1024")
        .arg(format!("-max_len={max_len}"))
        .current_dir(fuzz_dir)
        .stderr(Stdio::piped());
    let shown: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    eprintln!("$ cargo {}", shown.join(" "));

    let mut child = cmd.spawn().map_err(|e| format!("cargo +nightly fuzz run {target}: {e}"))?;
    let mut stats = Stats::default();
    if let Some(stderr) = child.stderr.take() {
        let mut out = std::io::stderr().lock();
        for line in BufReader::new(stderr).split(b'\n') {
            let line = line.map_err(|e| format!("reading the output of {target}: {e}"))?;
            let line = String::from_utf8_lossy(&line);
            if !(line.contains("\tNEW ") || line.contains("\tREDUCE ") || line.contains("# Uses: ")) {
                let _ = writeln!(out, "{line}");
            }
            stats.read(&line);
        }
    }
    let status = child.wait().map_err(|e| format!("cargo +nightly fuzz run {target}: {e}"))?;
    Ok(Outcome { target, status, stats })
}

/// Empties `corpus` and fills it with the committed seeds.
fn fresh_corpus(seeds: &Path, corpus: &Path) -> Result<(), String> {
    let io = |what: &str, path: &Path, e: std::io::Error| format!("{what} {}: {e}", path.display());
    if corpus.exists() {
        fs::remove_dir_all(corpus).map_err(|e| io("removing", corpus, e))?;
    }
    fs::create_dir_all(corpus).map_err(|e| io("creating", corpus, e))?;
    let entries = fs::read_dir(seeds).map_err(|e| io("reading", seeds, e))?;
    for entry in entries {
        let from: PathBuf = entry.map_err(|e| io("reading", seeds, e))?.path();
        if let Some(name) = from.file_name().filter(|_| from.is_file()) {
            fs::copy(&from, corpus.join(name)).map_err(|e| io("copying", &from, e))?;
        }
    }
    Ok(())
}

fn print_table(results: &[Outcome]) {
    let header = ["target", "executions", "exec/s", "cov", "ft", "corpus", "crashes"];
    let rows: Vec<[String; 7]> = results
        .iter()
        .map(|r| {
            let n = |v: Option<u64>| v.map_or("?".into(), |v| v.to_string());
            [
                r.target.to_string(),
                n(r.stats.runs),
                // A run cut short by a crash has no meaningful speed.
                if r.stats.done { n(r.stats.exec_per_sec) } else { "-".into() },
                n(r.stats.cov),
                n(r.stats.ft),
                r.stats.corpus_units(),
                r.crashes(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            // Text columns to the left, numbers to the right.
            .map(|(i, (c, w))| if i == 0 || i == 6 { format!("{c:<w$}") } else { format!("{c:>w$}") })
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(&header);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    println!("|-{}-|", rule.join("-|-"));
    for row in &rows {
        line(&row.each_ref().map(String::as_str));
    }
    for r in results.iter().filter(|r| r.stats.panic.is_some()) {
        println!("\n{}: {}", r.target, r.stats.panic.as_deref().unwrap_or_default());
    }
}
