//! Code the examples of `ws-io` and `ws-w5100` share, so each example builds from its own
//! package without borrowing source files from another: the blocking echo server of
//! ws-io's `echo_server` ([`echo`]), the firmware's polling echo loop over an
//! embedded-nal stack ([`serve`]) and the Autobahn client walk on it ([`suite`]), socket
//! options for the host stack ([`host`]), and the README's quick-start clients
//! ([`quickstart`]), which its tests run against a live echo server.

pub mod args;
pub mod echo;
pub mod host;
pub mod quickstart;
pub mod serve;
pub mod suite;

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
