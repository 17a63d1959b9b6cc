//! Names the one condition several files test, `simd_host`: feature `simd` on a target
//! that simdutf8 and RustCrypto's sha1 speed up (x86, x86-64, AArch64). Elsewhere the
//! feature changes nothing, and the small loops of our own stay.
fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(simd_host)");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let simd = std::env::var_os("CARGO_FEATURE_SIMD").is_some();
    if simd && matches!(arch.as_str(), "x86" | "x86_64" | "aarch64") {
        println!("cargo::rustc-cfg=simd_host");
    }
}
