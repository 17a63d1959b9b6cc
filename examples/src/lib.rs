//! Code the examples of `ws-nal` and `ws-w5100` share, so each example builds from its
//! own package without borrowing source files from another: the echo server's polling
//! loop ([`serve`]), the Autobahn client walk ([`suite`]), socket options for the host
//! stack ([`host`]), and the README's quick-start clients ([`quickstart`]), which its
//! tests run against a live echo server.

pub mod args;
pub mod host;
pub mod quickstart;
pub mod serve;
pub mod suite;

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
