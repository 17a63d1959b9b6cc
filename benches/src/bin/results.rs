//! Writes `benches/RESULTS.md`, and the receive chart it shows (`benches/throughput.svg`),
//! from criterion's estimates of the last benchmark run:
//!
//! ```text
//! cargo bench -p benches -- --warm-up-time 0.5 --measurement-time 1.5 --sample-size 10
//! cargo run -p benches --bin results
//! ```
//!
//! It reads `target/criterion/**/new/{benchmark,estimates}.json` (or under
//! `$CARGO_TARGET_DIR`), keeps the benchmarks this crate defines, and reports throughput
//! from criterion's median time per iteration, with ratios taken within the run.

// Beside this file's name, not in `src/bin/`, where Cargo would take it for a binary.
#[path = "results/chart.rs"]
mod chart;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::SystemTime;

use benches::{
    chop_label, receive_group, send_group, size_label, Kind, CHOPS, HANDSHAKE_GROUP, IMPLS, PEERS,
    RECEIVE_STREAM_BYTES, SEND_STREAM_BYTES, SIZES, TEXT_CHOPS, UTF8_CHECK,
};
use serde_json::Value;

/// One benchmark's result.
struct Estimate {
    /// Median nanoseconds per iteration.
    ns: f64,
    /// Bytes (criterion's `Throughput::Bytes`) or messages (`Throughput::Elements`) per
    /// iteration.
    bytes: f64,
    /// When criterion wrote it.
    written: SystemTime,
}

impl Estimate {
    fn gib_per_s(&self) -> f64 {
        self.bytes / self.ns * 1e9 / f64::from(1u32 << 30)
    }
}

/// Results by (group, function).
type Results = HashMap<(String, String), Estimate>;

/// The receive chart, beside RESULTS.md (which links it by this relative path).
const CHART: &str = "throughput.svg";

fn main() -> ExitCode {
    match run() {
        Ok(path) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("results: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<PathBuf, String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| manifest.join("../target"), PathBuf::from);
    let root = target.join("criterion");
    let mut results = Results::new();
    collect(&root, &mut results)?;
    if results.is_empty() {
        return Err(format!("no estimates under {}: run `cargo bench -p benches` first", root.display()));
    }
    chart::write(&results, &manifest.join(CHART))?;
    let report = report(&results);
    let path = manifest.join("RESULTS.md");
    std::fs::write(&path, report).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Finds every `new/` directory holding a benchmark's description and estimates.
fn collect(dir: &Path, results: &mut Results) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            if let Some((key, estimate)) = read_estimate(&path) {
                results.insert(key, estimate);
            }
        } else {
            collect(&path, results)?;
        }
    }
    Ok(())
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn read_estimate(dir: &Path) -> Option<((String, String), Estimate)> {
    let benchmark = read_json(&dir.join("benchmark.json"))?;
    let estimates_path = dir.join("estimates.json");
    let estimates = read_json(&estimates_path)?;
    let group = benchmark.get("group_id")?.as_str()?.to_owned();
    let function = benchmark.get("function_id")?.as_str()?.to_owned();
    let throughput = benchmark.get("throughput")?;
    let bytes = throughput.get("Bytes").or_else(|| throughput.get("Elements"))?.as_f64()?;
    let ns = estimates.get("median")?.get("point_estimate")?.as_f64()?;
    let written = std::fs::metadata(&estimates_path).ok()?.modified().ok()?;
    Some(((group, function), Estimate { ns, bytes, written }))
}

/// A command's trimmed output, or `unknown`.
fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown".to_owned(), |s| s.trim().to_owned())
}

fn lscpu_field(lscpu: &str, field: &str) -> String {
    lscpu
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|rest| rest.strip_prefix(':')))
        .map_or_else(|| "unknown".to_owned(), |v| v.trim().to_owned())
}

fn utc(time: SystemTime) -> String {
    let secs = time.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    command_output("date", &["-u", "-d", &format!("@{secs}"), "+%Y-%m-%d %H:%M:%S UTC"])
}

fn fmt_gib(estimate: Option<&Estimate>) -> String {
    estimate.map_or_else(|| "–".to_owned(), |e| format!("{:.3}", e.gib_per_s()))
}

fn fmt_ratio(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "–".to_owned(), |r| format!("{r:.2}"))
}

/// Throughput of `a` over throughput of `b` (same bytes per iteration in one group).
fn ratio(a: Option<&Estimate>, b: Option<&Estimate>) -> Option<f64> {
    Some(a?.gib_per_s() / b?.gib_per_s())
}

/// The fastest peer in a group, by name.
fn best_peer<'r>(results: &'r Results, group: &str) -> Option<(&'static str, &'r Estimate)> {
    PEERS
        .iter()
        .filter_map(|&p| results.get(&(group.to_owned(), p.to_owned())).map(|e| (p, e)))
        .max_by(|a, b| a.1.gib_per_s().total_cmp(&b.1.gib_per_s()))
}

fn get<'r>(results: &'r Results, group: &str, function: &str) -> Option<&'r Estimate> {
    results.get(&(group.to_owned(), function.to_owned()))
}

fn report(results: &Results) -> String {
    let lscpu = command_output("lscpu", &[]);
    let mut used: Vec<SystemTime> = Vec::new();
    // Rows measured against the best peer (receive counting the copy, send, handshake),
    // and those behind it, for the Targets section.
    let mut tally = Tally::default();
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmark results\n");
    let _ = writeln!(out, "Generated {} by `cargo run -p benches --bin results`.\n", utc(SystemTime::now()));
    let _ = writeln!(
        out,
        "Machine: {}, {} CPUs ({} threads per core), {}.\n",
        lscpu_field(&lscpu, "Model name"),
        lscpu_field(&lscpu, "CPU(s)"),
        lscpu_field(&lscpu, "Thread(s) per core"),
        command_output("rustc", &["-V"]),
    );
    let manifest = env!("CARGO_MANIFEST_DIR");
    let commit = command_output("git", &["-C", manifest, "log", "-1", "--format=%h %s", "--", "../ws-proto"]);
    let dirty = command_output("git", &["-C", manifest, "status", "--porcelain", "--", "../ws-proto"]);
    let _ = writeln!(
        out,
        "ws-proto: last changed in {commit}{}.\n",
        if dirty.is_empty() { "" } else { ", with uncommitted changes to ws-proto" }
    );
    let _ = writeln!(
        out,
        "Run: `cargo bench -p benches -- --warm-up-time 0.5 --measurement-time 1.5 --sample-size 10`, \
         then `cargo run -p benches --bin results`. Throughput is from criterion's median time \
         per iteration; compare ratios within this run, not figures across machines or runs \
         (the machine is shared, so single figures are noisy).\n"
    );
    let _ = writeln!(
        out,
        "What is timed (see `benches/ws.rs`): **ws-proto** receives masked client frames in place \
         from a buffer refilled in an untimed setup (`Connection::receive`, every byte delivered at \
         once); **ws-proto+copy** reads each chop from the same in-memory stream into a \
         `ReadBuffer` of ws-io's default 16 KiB, as a socket read does (whole input arrives in \
         reads that fill it), and receives with `ReadBuffer::receive`, which holds the middle of \
         a payload back until half the buffer has arrived or its frame ends; **tungstenite**, **fastwebsockets** and **yawc** \
         read messages from an in-memory stream whose reads return one chop each (that copy is \
         theirs; tungstenite's read buffer is sized to the chop, see below for its default; yawc \
         reads with `WebSocket::next_frame`, its text check, simdutf8, turned on and its frame \
         limit raised for the 1 MiB messages); \
         **embedded-websocket** runs its codec `read(from, to)` on slices of the stream, \
         reassembling messages and validating text with `str::from_utf8`; **memcpy** copies each \
         chop into a buffer (for whole input, one copy of the stream). Receive throughput counts \
         wire bytes, {} MiB of frames per iteration; send throughput counts payload bytes, {} MiB \
         per iteration.\n",
        RECEIVE_STREAM_BYTES >> 20,
        SEND_STREAM_BYTES >> 20,
    );

    // Receive.
    let _ = writeln!(out, "## Receive (server side: decode, unmask, UTF-8 check for text), GiB/s\n");
    let _ = writeln!(
        out,
        "![Receive throughput against bytes per read: binary 64 KiB, binary 125 B and text \
         64 KiB frames, each implementation and memcpy]({CHART})\n"
    );
    let mut header = String::from("| frames | fed |");
    for name in IMPLS {
        let _ = write!(header, " {name} |");
    }
    header.push_str(" ws-proto ÷ memcpy | ws-proto ÷ best peer | +copy ÷ best peer |");
    let _ = writeln!(out, "{header}");
    let _ = writeln!(out, "|{}", " --- |".repeat(IMPLS.len() + 5));
    for (kind, chops) in [(Kind::Binary, &CHOPS[..]), (Kind::Text, &TEXT_CHOPS[..])] {
        for size in SIZES {
            for &chop in chops {
                let group = receive_group(kind, size, chop);
                let mut row = format!("| {} {} | {} |", kind.name(), size_label(size), chop_label(chop));
                for name in IMPLS {
                    let estimate = get(results, &group, name);
                    used.extend(estimate.map(|e| e.written));
                    let _ = write!(row, " {} |", fmt_gib(estimate));
                }
                let ours = get(results, &group, "ws-proto");
                let copy = get(results, &group, "ws-proto+copy");
                let best = best_peer(results, &group);
                let copy_ratio = ratio(copy, best.map(|b| b.1));
                tally.count(copy_ratio, || {
                    format!("{} {} {}", kind.name(), size_label(size), chop_label(chop))
                });
                let _ = write!(
                    row,
                    " {} | {} | {} |",
                    fmt_ratio(ratio(ours, get(results, &group, "memcpy"))),
                    fmt_ratio(ratio(ours, best.map(|b| b.1))).to_owned() + &best_name(best),
                    fmt_ratio(copy_ratio),
                );
                let _ = writeln!(out, "{row}");
            }
        }
    }

    // tungstenite's default read buffer.
    let _ = writeln!(
        out,
        "\ntungstenite with its default 128 KiB read buffer (`WebSocketConfig::default()`), which \
         it zero-fills up to 128 KiB before every read, against the tuned one above:\n"
    );
    let _ =
        writeln!(out, "| frames | fed | tungstenite (default) | tungstenite (tuned) | ws-proto ÷ default |");
    let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
    for size in SIZES {
        for chop in [Some(536), Some(1460)] {
            let group = receive_group(Kind::Binary, size, chop);
            let default = get(results, &group, "tungstenite-default");
            used.extend(default.map(|e| e.written));
            let _ = writeln!(
                out,
                "| binary {} | {} | {} | {} | {} |",
                size_label(size),
                chop_label(chop),
                fmt_gib(default),
                fmt_gib(get(results, &group, "tungstenite")),
                fmt_ratio(ratio(get(results, &group, "ws-proto"), default)),
            );
        }
    }

    // Send.
    let send_impls = ["ws-proto", "tungstenite", "embedded-websocket", "fastwebsockets", "yawc", "memcpy"];
    let _ = writeln!(out, "\n## Send (client side: encode and mask one binary frame per message), GiB/s\n");
    let mut header = String::from("| payload |");
    for name in send_impls {
        let _ = write!(header, " {name} |");
    }
    header.push_str(" ws-proto ÷ memcpy | ws-proto ÷ best peer |");
    let _ = writeln!(out, "{header}");
    let _ = writeln!(out, "|{}", " --- |".repeat(send_impls.len() + 3));
    for size in SIZES {
        let group = send_group(size);
        let mut row = format!("| {} |", size_label(size));
        for name in send_impls {
            let estimate = get(results, &group, name);
            used.extend(estimate.map(|e| e.written));
            let _ = write!(row, " {} |", fmt_gib(estimate));
        }
        let ours = get(results, &group, "ws-proto");
        let best = best_peer(results, &group);
        let ours_ratio = ratio(ours, best.map(|b| b.1));
        tally.count(ours_ratio, || format!("send {}", size_label(size)));
        let _ = write!(
            row,
            " {} | {} |",
            fmt_ratio(ratio(ours, get(results, &group, "memcpy"))),
            fmt_ratio(ours_ratio).to_owned() + &best_name(best),
        );
        let _ = writeln!(out, "{row}");
    }

    // Handshake.
    let _ = writeln!(out, "\n## Opening handshake (server: parse the request, write the 101)\n");
    let _ = writeln!(out, "| implementation | handshakes/s | ws-proto ÷ this |");
    let _ = writeln!(out, "| --- | --- | --- |");
    let ours = get(results, HANDSHAKE_GROUP, "ws-proto");
    tally.count(ratio(ours, best_peer(results, HANDSHAKE_GROUP).map(|b| b.1)), || "handshake".to_owned());
    for name in ["ws-proto", "tungstenite", "embedded-websocket"] {
        let estimate = get(results, HANDSHAKE_GROUP, name);
        used.extend(estimate.map(|e| e.written));
        let rate = estimate.map_or_else(|| "–".to_owned(), |e| format!("{:.0}k", 1e6 / e.ns));
        let _ = writeln!(out, "| {name} | {rate} | {} |", fmt_ratio(ratio(ours, estimate)));
    }
    let _ = writeln!(
        out,
        "\nfastwebsockets and yawc are not measured here: their server handshakes \
         (fastwebsockets' `upgrade::upgrade`, yawc's `WebSocket::upgrade`) take a hyper request, \
         so the HTTP parsing measured would be hyper's."
    );

    // Echo over loopback TCP.
    let _ = writeln!(
        out,
        "\n## Echo over loopback TCP (`benches/net.rs`)\n\n\
         One client's round trip of a 16-byte text message, each library at both ends; and ten \
         clients at once (the same minimal raw-frame clients for every server), 1,000 echoes each.\n"
    );
    let _ = writeln!(
        out,
        "| server (and client) | round trip, µs | ÷ tungstenite | ten clients, messages/s | ÷ tungstenite |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
    let tung_rt = get(results, "round_trip", "tungstenite");
    let tung_many = get(results, "ten_clients", "tungstenite");
    for name in ["ws-io tokio", "ws-io echo_server", "tungstenite", "tokio-tungstenite"] {
        let rt = get(results, "round_trip", name);
        let many = get(results, "ten_clients", name);
        used.extend(rt.map(|e| e.written));
        used.extend(many.map(|e| e.written));
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} |",
            rt.map_or_else(|| "–".to_owned(), |e| format!("{:.1}", e.ns / 1e3)),
            // Time over tungstenite's time: below 1 is faster.
            fmt_ratio(ratio(tung_rt, rt)),
            many.map_or_else(|| "–".to_owned(), |e| format!("{:.0}k", e.bytes / e.ns * 1e6)),
            fmt_ratio(ratio(many, tung_many)),
        );
    }
    let _ = writeln!(
        out,
        "\nRound trip ÷ tungstenite is time over tungstenite's time (below 1 is faster); messages/s \
         ÷ tungstenite is rate over its rate (above 1 is more)."
    );

    // permessage-deflate.
    let _ = writeln!(
        out,
        "\n## permessage-deflate (`benches/deflate.rs`)\n\n\
         JSON-like text messages, 1 MiB of them per iteration, a 32 KiB window with context \
         takeover. Inflate: a server `Connection` receiving zlib level 6 output through \
         ws-proto's `Inflater`, beside zlib (flate2, zlib-rs backend) on the same bytes; MiB/s \
         of inflated text. Deflate: ws-proto's own `Compressor` (fixed Huffman codes, window \
         exact: the device's), miniz_oxide level 4 (what ws-io sends with at 32 KiB) and zlib \
         level 6; MiB/s of message text, and the compressed size over the message size.\n"
    );
    let _ = writeln!(
        out,
        "| message | inflate ws-proto | inflate zlib | ÷ zlib | deflate ws-proto | deflate miniz_oxide | deflate zlib | ratio ws-proto | ratio miniz_oxide | ratio zlib |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mib = |e: Option<&Estimate>| {
        e.map_or_else(|| "–".to_owned(), |e| format!("{:.0}", e.bytes / e.ns * 1e9 / f64::from(1u32 << 20)))
    };
    for size in benches::DEFLATE_SIZES {
        let label = size_label(size);
        let inflate = format!("inflate/{label}");
        let deflate = format!("deflate/{label}");
        let (ours, zlib) = (get(results, &inflate, "ws-proto"), get(results, &inflate, "zlib"));
        let (small, miniz, zlib6) = (
            get(results, &deflate, "ws-proto"),
            get(results, &deflate, "miniz_oxide"),
            get(results, &deflate, "zlib"),
        );
        for e in [ours, zlib, small, miniz, zlib6].into_iter().flatten() {
            used.push(e.written);
        }
        let [r_small, r_miniz, r_zlib] = ratios(size);
        let _ = writeln!(
            out,
            "| {label} | {} | {} | {} | {} | {} | {} | {r_small:.3} | {r_miniz:.3} | {r_zlib:.3} |",
            mib(ours),
            mib(zlib),
            fmt_ratio(ratio(ours, zlib)),
            mib(small),
            mib(miniz),
            mib(zlib6)
        );
    }

    // Targets.
    let _ = writeln!(out, "\n## Targets\n");
    let whole = receive_group(Kind::Binary, 64 << 10, None);
    let ours_whole = get(results, &whole, "ws-proto");
    let target = |met: Option<bool>| match met {
        Some(true) => "met",
        Some(false) => "**missed**",
        None => "not measured",
    };
    let r = ratio(ours_whole, get(results, &whole, "memcpy"));
    let _ = writeln!(
        out,
        "- 64 KiB binary frames fed whole at ≥ 50 % of memcpy: {} ({} of memcpy).",
        target(r.map(|r| r >= 0.5)),
        fmt_pct(r)
    );
    for size in [4 << 10, 64 << 10, 1 << 20] {
        let whole = receive_group(Kind::Binary, size, None);
        let chop64 = receive_group(Kind::Binary, size, Some(64));
        let through = |name| ratio(get(results, &chop64, name), get(results, &whole, name));
        let (buffered, in_place) = (through("ws-proto+copy"), through("ws-proto"));
        // Nanoseconds per 64 wire bytes: one read's worth.
        let per_read = |group: &str, name| get(results, group, name).map(|e| e.ns * 64.0 / e.bytes);
        let allowed = per_read(&whole, "ws-proto+copy").map(|ns| 2.0 * ns);
        // What bounds it: each read's copy of the chop (memcpy's own per-chop time) and
        // receiving its 64 bytes (at the whole in-place rate: unmasking, and the frame
        // headers among them) come first; the read call and the buffer's bookkeeping get
        // what is left.
        let copy = per_read(&chop64, "memcpy");
        let in_place_whole = per_read(&whole, "ws-proto");
        let left = allowed.zip(copy).zip(in_place_whole).map(|((a, c), r)| a - c - r);
        let _ = writeln!(
            out,
            "- {} binary frames in 64-byte chops at ≥ half the whole-buffer figure: {} through a \
             `ReadBuffer` ({} of it, ws-proto+copy: {} per read; half the whole figure allows {}, \
             of which copying the chop alone, memcpy's, takes {} and receiving its 64 bytes at the \
             whole in-place rate {}, leaving {} for the read call and the buffer's bookkeeping); \
             {} in place ({}, `Connection::receive`).",
            size_label(size),
            target(buffered.map(|r| r >= 0.5)),
            fmt_pct(buffered),
            fmt_ns(per_read(&chop64, "ws-proto+copy")),
            fmt_ns(allowed),
            fmt_ns(copy),
            fmt_ns(in_place_whole),
            fmt_ns(left),
            target(in_place.map(|r| r >= 0.5)),
            fmt_pct(in_place),
        );
    }
    let text_whole = receive_group(Kind::Text, 64 << 10, None);
    let ours_text = get(results, &text_whole, "ws-proto");
    let check = get(results, &text_whole, UTF8_CHECK);
    let r = ratio(ours_text, ours_whole);
    let _ = writeln!(
        out,
        "- Text 64 KiB fed whole at ≥ 40 % of binary 64 KiB fed whole, in place: {} ({}). \
         simdutf8's check of the same messages alone (the build ws-proto's `simd` feature uses, \
         AVX-512 where the CPU has it) runs at {} GiB/s, {} of binary: the most a receiver \
         validating with it could reach. ws-proto runs at {} of the check alone.",
        target(r.map(|r| r >= 0.4)),
        fmt_pct(r),
        fmt_gib(check),
        fmt_pct(ratio(check, ours_whole)),
        fmt_pct(ratio(ours_text, check)),
    );
    let _ = writeln!(
        out,
        "- Ahead of the best peer in every receive row (+copy), send row and the handshake: {} \
         ({} of {} rows{}{}).",
        target((tally.rows > 0).then_some(tally.behind.is_empty())),
        tally.rows - tally.behind.len(),
        tally.rows,
        if tally.behind.is_empty() { "" } else { "; behind: " },
        tally.behind.join(", "),
    );
    for kind in [Kind::Binary, Kind::Text] {
        let group = receive_group(kind, 125, None);
        let r = ratio(get(results, &group, "ws-proto"), get(results, &group, "tungstenite"));
        let _ = writeln!(
            out,
            "- 125-byte {} frames (fed whole) ≥ 2× tungstenite: {} ({}×).",
            kind.name(),
            target(r.map(|r| r >= 2.0)),
            fmt_ratio(r)
        );
    }
    if let (Some(first), Some(last)) = (used.iter().min(), used.iter().max()) {
        let _ = writeln!(out, "\nEstimates written between {} and {}.", utc(*first), utc(*last));
    }
    out
}

/// Rows with a ratio to the best peer, and the names of those behind it (with the ratio).
#[derive(Default)]
struct Tally {
    rows: usize,
    behind: Vec<String>,
}

impl Tally {
    fn count(&mut self, ratio: Option<f64>, name: impl FnOnce() -> String) {
        let Some(r) = ratio else { return };
        self.rows += 1;
        if r < 1.0 {
            self.behind.push(format!("{} ({r:.2})", name()));
        }
    }
}

/// Compressed size over message size for the benchmark's messages of `size` bytes:
/// ws-proto's `Compressor`, miniz_oxide level 4 and zlib level 6, each with a sync flush
/// per message (its 4-byte tail left off, as permessage-deflate sends it).
fn ratios(size: usize) -> [f64; 3] {
    use flate2::{Compress, Compression, FlushCompress};
    use miniz_oxide::deflate::core::{
        compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
    };
    use ws_proto::deflate::{Compress as _, Compressor};

    let messages: Vec<Vec<u8>> =
        (0..benches::DEFLATE_STREAM_BYTES / size).map(|i| benches::json_message(size, i as u64)).collect();
    let total: usize = messages.iter().map(Vec::len).sum();
    let mut out = vec![0u8; size * 2 + 1024];
    let mut storage = vec![0u8; Compressor::<&mut [u8]>::storage_len(15)];
    let mut small = Compressor::new(&mut storage[..], 15, false).expect("storage sized for the window");
    let mut miniz = Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(4, -15, 0)));
    let mut zlib = Compress::new(Compression::new(6), false);
    let mut sizes = [0usize; 3];
    for m in &messages {
        sizes[0] += small.compress(m, &mut out, true).map_or(0, |d| d.written);
        sizes[1] += compress(&mut miniz, m, &mut out, TDEFLFlush::Sync).2.saturating_sub(4);
        let before = zlib.total_out();
        let _ = zlib.compress(m, &mut out, FlushCompress::Sync);
        sizes[2] += (zlib.total_out() - before) as usize - 4;
    }
    sizes.map(|n| n as f64 / total as f64)
}

fn best_name(best: Option<(&str, &Estimate)>) -> String {
    best.map_or_else(String::new, |(name, _)| format!(" ({name})"))
}

fn fmt_ns(ns: Option<f64>) -> String {
    ns.map_or_else(|| "–".to_owned(), |ns| format!("{ns:.1} ns"))
}

fn fmt_pct(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "–".to_owned(), |r| format!("{:.0} %", r * 100.0))
}
