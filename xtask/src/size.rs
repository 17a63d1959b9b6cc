//! `cargo xtask size`: builds the firmware (`ws-w5100/firmware`, release, thumbv6m) and
//! checks the echo server against the budget: flash ≤ 20 KiB, static RAM ≤ 6 KiB; and
//! again with its `deflate` feature (permessage-deflate, one inflater both connections
//! share): flash ≤ 36 KiB, static RAM and stack together ≤ 24 KiB.
//!
//! Sizes come from `llvm-size -A` (rustup's `llvm-tools`, installed here if missing).
//! Flash is every section the chip keeps in flash: `.vector_table`, `.text`, `.rodata`,
//! `.gnu.sgstubs` and the initial values of `.data`. Static RAM is `.data`, `.bss` and
//! `.uninit`; the stack comes on top, from the rest of the 32 KiB. The firmware records its
//! per-connection sizes in a symbol, `WS_FIRMWARE_SIZES`, read back from the ELF here.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{release_build_in, root};

/// The firmware's target.
const TARGET: &str = "thumbv6m-none-eabi";
/// The budgeted binary: the W5100 echo server.
const ECHO: &str = "echo";
/// The W5500 client example, reported but not budgeted.
const CLIENT: &str = "w5500_client";
/// Flash budget for the echo firmware.
const FLASH_BUDGET: u64 = 20 * 1024;
/// Static RAM budget for the echo firmware.
const RAM_BUDGET: u64 = 6 * 1024;
/// Flash budget for the echo firmware with permessage-deflate.
const DEFLATE_FLASH_BUDGET: u64 = 36 * 1024;
/// RAM budget (static RAM and the stack estimate) for it, with its two connections.
const DEFLATE_RAM_BUDGET: u64 = 24 * 1024;
/// RAM of the ATSAMD21G18A: what static RAM leaves is the stack's.
const RAM_TOTAL: u64 = 32 * 1024;
/// Where RAM starts on a Cortex-M0+ (addresses below are flash).
const RAM_START: u64 = 0x2000_0000;
/// The firmware's size record: session state, RX buffer, TX buffer, connections.
const SIZES_SYMBOL: &str = "WS_FIRMWARE_SIZES";

/// Builds the firmware and prints its size report; fails if the echo firmware is over budget.
pub fn run() -> Result<(), String> {
    report(true)
}

/// The size report; with `enforce`, an echo firmware over budget is an error, otherwise a
/// warning (CI builds and reports the firmware while the budget is still being met).
pub fn report(enforce: bool) -> Result<(), String> {
    let tools = Tools::find()?;
    build()?;
    let out = firmware_dir().join("target").join(TARGET).join("release");
    let echo = out.join(ECHO);
    let usage = Usage::measure(&tools, &echo)?;

    println!("firmware size report ({TARGET}, release)");
    println!("\n{ECHO}: W5100 WebSocket echo server ({})", relative(&echo));
    usage.print_sections();
    let flash_ok = usage.flash <= FLASH_BUDGET;
    let ram_ok = usage.ram <= RAM_BUDGET;
    println!(
        "  flash      = {} = {}  budget {}: {}",
        usage.flash_terms(),
        bytes(usage.flash),
        bytes(FLASH_BUDGET),
        verdict(usage.flash, FLASH_BUDGET)
    );
    println!(
        "  static RAM = {} = {}  budget {}: {}",
        usage.ram_terms(),
        bytes(usage.ram),
        bytes(RAM_BUDGET),
        verdict(usage.ram, RAM_BUDGET)
    );
    print_connections(&read_sizes(&tools, &echo)?);
    print_stack(&tools, &echo, usage.ram)?;
    print_largest(&tools, &echo, 12)?;

    let client = out.join(CLIENT);
    let client_usage = Usage::measure(&tools, &client)?;
    println!("\n{CLIENT}: ws-nal client over the w5500 crate, not budgeted ({})", relative(&client));
    println!(
        "  built: flash {} ({}), static RAM {} ({})",
        bytes(client_usage.flash),
        client_usage.flash_terms(),
        bytes(client_usage.ram),
        client_usage.ram_terms()
    );

    let deflate_ok = deflate_report(&tools)?;

    if flash_ok && ram_ok && deflate_ok {
        println!("\nsize: {ECHO} is within budget, with and without permessage-deflate");
        Ok(())
    } else if !enforce {
        println!(
            "\nsize: WARNING: {ECHO} is over budget (flash {}, static RAM {})",
            bytes(usage.flash),
            bytes(usage.ram)
        );
        Ok(())
    } else {
        Err(format!(
            "{ECHO} is over budget: flash {} (budget {}), static RAM {} (budget {}); with deflate {}",
            bytes(usage.flash),
            bytes(FLASH_BUDGET),
            bytes(usage.ram),
            bytes(RAM_BUDGET),
            if deflate_ok { "within budget" } else { "over budget" }
        ))
    }
}

/// The echo firmware built with `--features deflate` against its budget (true if within
/// it), and with `deflate-echo` (compressed echoes), reported only.
fn deflate_report(tools: &Tools) -> Result<bool, String> {
    let ok = feature_report(
        tools,
        "deflate",
        "permessage-deflate, echoes uncompressed",
        Some((DEFLATE_FLASH_BUDGET, DEFLATE_RAM_BUDGET)),
    )?;
    feature_report(tools, "deflate-echo", "permessage-deflate, echoes compressed: not budgeted", None)?;
    Ok(ok)
}

/// The echo firmware built with `--features <feature>` (in its own target directory, so
/// the builds do not rebuild each other): its size, and with `budget` (flash, static RAM
/// and stack together) whether it is within it.
fn feature_report(
    tools: &Tools,
    feature: &str,
    what: &str,
    budget: Option<(u64, u64)>,
) -> Result<bool, String> {
    let target_dir = firmware_dir().join("target").join(feature);
    let mut cmd = release_build_in(&firmware_dir());
    cmd.args(["--features", feature, "--bin", ECHO, "--target-dir"]).arg(&target_dir);
    eprintln!("$ (cd ws-w5100/firmware && cargo build --release --features {feature})");
    check(cmd.status(), &format!("cargo build --release --features {feature} (ws-w5100/firmware)"))?;
    let elf = target_dir.join(TARGET).join("release").join(ECHO);
    let usage = Usage::measure(tools, &elf)?;
    println!("\n{ECHO} --features {feature} ({what}; {})", relative(&elf));
    usage.print_sections();
    let stack = stack_estimate(tools, &elf)?;
    let ram = usage.ram + stack;
    let (flash_verdict, ram_verdict) = match budget {
        Some((flash_budget, ram_budget)) => (
            format!("  budget {}: {}", bytes(flash_budget), verdict(usage.flash, flash_budget)),
            format!("  budget {} (two connections): {}", bytes(ram_budget), verdict(ram, ram_budget)),
        ),
        None => (String::new(), String::new()),
    };
    println!("  flash      = {}{flash_verdict}", bytes(usage.flash));
    println!(
        "  RAM        = static {} + stack {} = {}{ram_verdict}",
        bytes(usage.ram),
        bytes(stack),
        bytes(ram)
    );
    if budget.is_some() {
        print_largest(tools, &elf, 6)?;
    }
    Ok(budget.is_none_or(|(flash_budget, ram_budget)| usage.flash <= flash_budget && ram <= ram_budget))
}

/// The firmware package, its own Cargo workspace.
fn firmware_dir() -> PathBuf {
    root().join("ws-w5100").join("firmware")
}

/// `cargo build --release` in the firmware directory, so that its `.cargo/config.toml`
/// (target, linker script) applies; both binaries are built.
fn build() -> Result<(), String> {
    let mut cmd = release_build_in(&firmware_dir());
    eprintln!("$ (cd ws-w5100/firmware && cargo build --release)");
    check(cmd.status(), "cargo build --release (ws-w5100/firmware)")
}

/// The LLVM tools from rustup's `llvm-tools` component.
struct Tools {
    size: PathBuf,
    nm: PathBuf,
    objdump: PathBuf,
}

impl Tools {
    /// Finds `llvm-size`, `llvm-nm` and `llvm-objdump` in the sysroot, installing the thumbv6m target and
    /// `llvm-tools` first if they are missing.
    fn find() -> Result<Self, String> {
        let installed =
            output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
        if !installed.lines().any(|line| line.trim() == TARGET) {
            let mut add = Command::new("rustup");
            add.args(["target", "add", TARGET]);
            eprintln!("$ rustup target add {TARGET}");
            check(add.status(), "rustup target add")?;
        }
        let bin = tools_dir()?;
        if !bin.join(exe("llvm-size")).is_file() {
            // The component's name before Rust 1.76 was `llvm-tools-preview`.
            let installed = ["llvm-tools", "llvm-tools-preview"].iter().any(|component| {
                eprintln!("$ rustup component add {component}");
                Command::new("rustup")
                    .args(["component", "add", component])
                    .status()
                    .is_ok_and(|s| s.success())
            });
            if !installed {
                return Err("cannot install rustup's llvm-tools component (for llvm-size)".into());
            }
        }
        let tools = Self {
            size: bin.join(exe("llvm-size")),
            nm: bin.join(exe("llvm-nm")),
            objdump: bin.join(exe("llvm-objdump")),
        };
        if ![&tools.size, &tools.nm, &tools.objdump].iter().all(|tool| tool.is_file()) {
            return Err(format!("llvm-size, llvm-nm or llvm-objdump missing in {}", bin.display()));
        }
        Ok(tools)
    }
}

/// `<sysroot>/lib/rustlib/<host>/bin`, where `llvm-tools` puts its binaries.
fn tools_dir() -> Result<PathBuf, String> {
    let sysroot = output(Command::new("rustc").args(["--print", "sysroot"]))?;
    let version = output(Command::new("rustc").arg("-vV"))?;
    let host =
        version.lines().find_map(|line| line.strip_prefix("host: ")).ok_or("`rustc -vV` names no host")?;
    Ok(Path::new(sysroot.trim()).join("lib").join("rustlib").join(host.trim()).join("bin"))
}

/// What one binary takes of flash and static RAM, by section.
struct Usage {
    sections: Vec<Section>,
    flash: u64,
    ram: u64,
}

/// One allocated section and where it goes.
struct Section {
    name: String,
    size: u64,
    flash: bool,
    ram: bool,
}

impl Usage {
    /// Runs `llvm-size -A` on `elf` and sorts its sections into flash and RAM.
    fn measure(tools: &Tools, elf: &Path) -> Result<Self, String> {
        let text = output(Command::new(&tools.size).arg("-A").arg(elf))?;
        let mut sections = Vec::new();
        for line in text.lines() {
            let mut fields = line.split_whitespace();
            let (Some(name), Some(size), Some(addr)) = (fields.next(), fields.next(), fields.next()) else {
                continue;
            };
            let (Ok(size), Ok(addr)) = (size.parse::<u64>(), addr.parse::<u64>()) else { continue };
            let (flash, ram) = match name {
                ".vector_table" | ".text" | ".rodata" | ".gnu.sgstubs" => (true, false),
                // Initial values live in flash and are copied to RAM at reset.
                ".data" => (true, true),
                ".bss" | ".uninit" => (false, true),
                // Not loaded: symbols, comments, attributes, debug info.
                _ if addr == 0 => continue,
                _ => (addr < RAM_START, addr >= RAM_START),
            };
            sections.push(Section { name: name.to_owned(), size, flash, ram });
        }
        if sections.is_empty() {
            return Err(format!("llvm-size found no sections in {}", elf.display()));
        }
        let flash = sections.iter().filter(|s| s.flash).map(|s| s.size).sum();
        let ram = sections.iter().filter(|s| s.ram).map(|s| s.size).sum();
        Ok(Self { sections, flash, ram })
    }

    fn print_sections(&self) {
        println!("  {:<16} {:>7}  goes to", "section", "bytes");
        for s in &self.sections {
            let place = match (s.flash, s.ram) {
                (true, true) => "flash (initial values) and RAM",
                (true, false) => "flash",
                _ => "RAM",
            };
            println!("  {:<16} {:>7}  {place}", s.name, s.size);
        }
    }

    /// The flash sections, as a sum: ".vector_table + .text + ...".
    fn flash_terms(&self) -> String {
        self.terms(|s| s.flash)
    }

    /// The RAM sections, as a sum.
    fn ram_terms(&self) -> String {
        self.terms(|s| s.ram)
    }

    fn terms(&self, pick: impl Fn(&Section) -> bool) -> String {
        let names: Vec<&str> = self.sections.iter().filter(|s| pick(s)).map(|s| s.name.as_str()).collect();
        names.join(" + ")
    }
}

/// The firmware's size record: `[session state, rx, tx, connections]`.
fn read_sizes(tools: &Tools, elf: &Path) -> Result<[u64; 4], String> {
    let symbols = output(Command::new(&tools.nm).arg(elf))?;
    let addr = symbols
        .lines()
        .find_map(|line| {
            let mut fields = line.split_whitespace();
            let (addr, _kind, name) = (fields.next()?, fields.next()?, fields.next()?);
            if name != SIZES_SYMBOL {
                return None;
            }
            u64::from_str_radix(addr, 16).ok()
        })
        .ok_or(format!("no {SIZES_SYMBOL} symbol in {}", elf.display()))?;
    let image = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let bytes =
        elf32_bytes_at(&image, addr, 16).ok_or(format!("{SIZES_SYMBOL} is not in the ELF's loaded data"))?;
    let mut words = [0u64; 4];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
        *word = u64::from(u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
    }
    Ok(words)
}

/// `len` bytes at virtual address `addr` of a little-endian ELF32 image, from the section
/// that holds them (section headers: `e_shoff` at 0x20, `e_shentsize`/`e_shnum` at 0x2E).
fn elf32_bytes_at(image: &[u8], addr: u64, len: u64) -> Option<&[u8]> {
    let u16_at = |at: usize| Some(u16::from_le_bytes(image.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u64::from(u32::from_le_bytes(image.get(at..at + 4)?.try_into().ok()?)));
    // Magic, 32-bit class, little-endian.
    if image.get(..6)? != b"\x7fELF\x01\x01" {
        return None;
    }
    let shoff = usize::try_from(u32_at(0x20)?).ok()?;
    let (entsize, count) = (usize::from(u16_at(0x2E)?), usize::from(u16_at(0x30)?));
    (0..count).find_map(|i| {
        let header = shoff + i * entsize;
        // sh_type 1 = PROGBITS: bytes in the file (not .bss).
        let (kind, sh_addr, offset, size) =
            (u32_at(header + 4)?, u32_at(header + 12)?, u32_at(header + 16)?, u32_at(header + 20)?);
        if kind != 1 || addr < sh_addr || addr + len > sh_addr + size {
            return None;
        }
        let start = usize::try_from(offset + (addr - sh_addr)).ok()?;
        image.get(start..start + usize::try_from(len).ok()?)
    })
}

/// What a connection costs, now and for each one more.
fn print_connections(&[state, rx, tx, connections]: &[u64; 4]) {
    println!(
        "  per connection ({connections} now): {state} B session state (Option<Session>, a local in main: stack) \
         + {rx} B RX + {tx} B TX buffers (.bss)"
    );
    println!(
        "  each further connection (CONNECTIONS in src/main.rs): +{} B static RAM and +{state} B stack; \
         the W5100 has 4 hardware sockets and one listens, so 3 at most",
        rx + tx
    );
    println!("  (the connection buffers are {} of the static RAM above)", bytes(connections * (rx + tx)));
}

/// Builds the firmware and returns the echo server's ELF.
pub fn build_firmware() -> Result<PathBuf, String> {
    build()?;
    Ok(firmware_dir().join("target").join(TARGET).join("release").join(ECHO))
}

/// The stack estimate of `elf` (see [`stack_estimate`]).
pub fn stack_estimate_of(elf: &Path) -> Result<u64, String> {
    stack_estimate(&Tools::find()?, elf)
}

/// The stack estimate alone: the deepest path from `main`, and SysTick on top.
fn stack_estimate(tools: &Tools, elf: &Path) -> Result<u64, String> {
    let calls = CallGraph::disassemble(tools, elf)?;
    let (main, _, _) = calls.deepest("main");
    let (tick, _, _) = calls.deepest("SysTick");
    Ok(main + 32 + tick)
}

/// The stack estimate, and what is left of RAM with it.
fn print_stack(tools: &Tools, elf: &Path, static_ram: u64) -> Result<(), String> {
    let calls = CallGraph::disassemble(tools, elf)?;
    let (main, path, recursive) = calls.deepest("main");
    // An exception stacks 8 words (32 B) on top of whatever runs, then its own frames.
    let (tick, _, _) = calls.deepest("SysTick");
    let stack = main + 32 + tick;
    println!(
        "  stack (estimate from the disassembly): {} = deepest call path from main {main} B \
         + SysTick {} B (with its 32 B exception frame)",
        bytes(stack),
        32 + tick,
    );
    println!(
        "  static RAM + stack = {} of the chip's {}; frames of 64 B or more on that path:",
        bytes(static_ram + stack),
        bytes(RAM_TOTAL)
    );
    for (frame, name) in path.iter().filter(|(frame, _)| *frame >= 64) {
        println!("  {frame:>7}  {name}");
    }
    if calls.unresolved > 0 || recursive {
        println!(
            "  (a lower bound where calls escape the disassembly: {} indirect call sites not followed{})",
            calls.unresolved,
            if recursive { ", recursion not counted" } else { "" }
        );
    }
    Ok(())
}

/// Functions' stack frames (from their prologues) and whom they call, from `llvm-objdump`.
///
/// A frame is what the prologue reserves: `push {..}` (4 B a register), `sub sp, #n`, and
/// `add sp, rN` with a negative literal (large frames). Calls are `bl`, tail-call `b` to
/// another function's start, and `blx rN` whose target was loaded from a literal. The
/// result is an estimate: calls through other registers (vtables, closures passed as
/// pointers) are not followed, and are counted in `unresolved`.
struct CallGraph {
    functions: std::collections::HashMap<String, Function>,
    unresolved: usize,
}

#[derive(Default)]
struct Function {
    frame: u64,
    calls: Vec<String>,
}

impl CallGraph {
    fn disassemble(tools: &Tools, elf: &Path) -> Result<Self, String> {
        let text =
            output(Command::new(&tools.objdump).args(["-d", "--no-show-raw-insn", "--demangle"]).arg(elf))?;
        let image = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
        let literal = |addr: u64| {
            elf32_bytes_at(&image, addr, 4).and_then(|b| Some(i32::from_le_bytes(b.try_into().ok()?)))
        };
        // First pass: function start addresses, to name `blx` targets.
        let starts: std::collections::HashMap<u64, String> = text
            .lines()
            .filter_map(|line| {
                let (addr, name) = function_header(line)?;
                Some((addr, name.to_owned()))
            })
            .collect();
        let mut graph = Self { functions: Default::default(), unresolved: 0 };
        let mut current: Option<(String, Function, usize)> = None;
        // Registers loaded from literal pools in this function: register -> value.
        let mut literals: Vec<(String, i32)> = Vec::new();
        for line in text.lines() {
            if let Some((_, name)) = function_header(line) {
                if let Some((done, function, _)) = current.take() {
                    graph.functions.insert(done, function);
                }
                current = Some((name.to_owned(), Function::default(), 0));
                literals.clear();
                continue;
            }
            let Some((name, function, count)) = current.as_mut() else { continue };
            let mut fields = line.split('\t').skip(1).map(str::trim);
            let (Some(mnemonic), operands) = (fields.next(), fields.next().unwrap_or("")) else { continue };
            *count += 1;
            let prologue = *count <= 16;
            match mnemonic {
                "push" if prologue => function.frame += 4 * (operands.matches(',').count() as u64 + 1),
                "sub" if prologue && operands.starts_with("sp, #") => {
                    function.frame += parse_number(&operands[5..]).unwrap_or(0);
                }
                "add" if prologue && operands.starts_with("sp, r") => {
                    let register = operands.trim_start_matches("sp, ");
                    if let Some((_, value)) = literals.iter().find(|(r, _)| r == register) {
                        function.frame += u64::from(value.unsigned_abs()) * u64::from(*value < 0);
                    }
                }
                "ldr" => {
                    // `ldr r6, [pc, #0x2a8]  @ 0x25ac <...>`: remember the loaded word.
                    let register = operands.split(',').next().unwrap_or("").to_owned();
                    let value = operands
                        .split_once("@ 0x")
                        .and_then(|(_, rest)| u64::from_str_radix(rest.split(' ').next()?, 16).ok())
                        .filter(|_| operands.contains("[pc"))
                        .and_then(literal);
                    literals.retain(|(r, _)| *r != register);
                    if let Some(value) = value {
                        literals.push((register, value));
                    }
                }
                "bl" => function.calls.extend(call_target(operands).map(str::to_owned)),
                "b" | "b.w" => {
                    if let Some(target) = call_target(operands).filter(|t| t != name) {
                        function.calls.push(target.to_owned());
                    }
                }
                "blx" => {
                    let target = literals
                        .iter()
                        .find(|(r, _)| r == operands)
                        .and_then(|(_, value)| starts.get(&(u64::from(*value as u32) & !1)));
                    match target {
                        Some(target) => function.calls.push(target.clone()),
                        None => graph.unresolved += 1,
                    }
                }
                _ => {}
            }
        }
        if let Some((done, function, _)) = current {
            graph.functions.insert(done, function);
        }
        Ok(graph)
    }

    /// The deepest stack from `root` down (bytes), the path frame by frame, and whether a
    /// recursive call was cut short.
    fn deepest(&self, root: &str) -> (u64, Vec<(u64, String)>, bool) {
        let mut memo = std::collections::HashMap::new();
        let mut active = Vec::new();
        let mut recursive = false;
        let depth = self.depth(root, &mut memo, &mut active, &mut recursive);
        let mut path = Vec::new();
        let mut at = Some(root.to_owned());
        while let Some(name) = at {
            let Some(function) = self.functions.get(&name) else { break };
            path.push((function.frame, short_name(&name)));
            at = function
                .calls
                .iter()
                .filter(|c| !path.iter().any(|(_, p)| *p == short_name(c)))
                .max_by_key(|c| memo.get(*c).copied().unwrap_or(0))
                .cloned();
        }
        (depth, path, recursive)
    }

    fn depth(
        &self,
        name: &str,
        memo: &mut std::collections::HashMap<String, u64>,
        active: &mut Vec<String>,
        recursive: &mut bool,
    ) -> u64 {
        if let Some(depth) = memo.get(name) {
            return *depth;
        }
        let Some(function) = self.functions.get(name) else { return 0 };
        if active.iter().any(|a| a == name) {
            *recursive = true;
            return 0;
        }
        active.push(name.to_owned());
        let deepest_call =
            function.calls.iter().map(|c| self.depth(c, memo, active, recursive)).max().unwrap_or(0);
        active.pop();
        let depth = function.frame + deepest_call;
        memo.insert(name.to_owned(), depth);
        depth
    }
}

/// `00002a54 <echo::serve::h795a8a17a6a801f2>:` -> (address, name).
fn function_header(line: &str) -> Option<(u64, &str)> {
    let (addr, rest) = line.split_once(' ')?;
    let name = rest.strip_prefix('<')?.strip_suffix(">:")?;
    Some((u64::from_str_radix(addr, 16).ok()?, name))
}

/// The function a branch goes to, if it is a function's start: `0x2a54 <name> @ imm = #..`.
fn call_target(operands: &str) -> Option<&str> {
    let name = operands.split_once('<')?.1.rsplit_once('>')?.0;
    // `<name+0x8e6>` is a branch inside a function.
    (!name.contains("+0x")).then_some(name)
}

/// `0x1fc` or `508`.
fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// The `count` largest symbols that go to flash, to see what to shrink.
fn print_largest(tools: &Tools, elf: &Path, count: usize) -> Result<(), String> {
    let text = output(
        Command::new(&tools.nm).args(["--print-size", "--size-sort", "--demangle", "--radix=d"]).arg(elf),
    )?;
    let flash: Vec<(u64, String)> = text
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(4, ' ');
            let (_addr, size, kind, name) = (fields.next()?, fields.next()?, fields.next()?, fields.next()?);
            // Code and read-only data; .data/.bss symbols are RAM.
            if !matches!(kind, "t" | "T" | "r" | "R") {
                return None;
            }
            Some((size.parse().ok()?, short_name(name)))
        })
        .collect();
    println!("  largest in flash:");
    for (size, name) in flash.iter().rev().take(count) {
        println!("  {size:>7}  {name}");
    }
    Ok(())
}

/// A demangled name made readable: no `::h0123456789abcdef` hash, no `(.llvm.123)` suffix,
/// and the legacy mangling's escapes (`$LT$`, `..`) undone.
fn short_name(name: &str) -> String {
    let name = name.split(" (.llvm.").next().unwrap_or(name);
    let name = match name.rsplit_once("::h") {
        Some((stem, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => stem,
        _ => name,
    };
    let mut out = name.strip_prefix('_').filter(|rest| rest.starts_with('$')).unwrap_or(name).to_owned();
    for (escape, text) in [
        ("$LT$", "<"),
        ("$GT$", ">"),
        ("$u20$", " "),
        ("$C$", ","),
        ("$RF$", "&"),
        ("$BP$", "*"),
        ("$u7b$", "{"),
        ("$u7d$", "}"),
        ("$u5b$", "["),
        ("$u5d$", "]"),
        ("..", "::"),
    ] {
        out = out.replace(escape, text);
    }
    out
}

fn verdict(used: u64, budget: u64) -> String {
    if used <= budget {
        format!("ok, {} left", bytes(budget - used))
    } else {
        format!("OVER by {}", bytes(used - budget))
    }
}

fn bytes(n: u64) -> String {
    format!("{n} B ({:.1} KiB)", n as f64 / 1024.0)
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

/// Runs a command and returns its standard output.
fn output(cmd: &mut Command) -> Result<String, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().map_err(|e| format!("{program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{program} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("{program}: {e}"))
}

fn check(status: std::io::Result<std::process::ExitStatus>, what: &str) -> Result<(), String> {
    match status {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{what} failed ({status})")),
        Err(e) => Err(format!("{what}: {e}")),
    }
}
