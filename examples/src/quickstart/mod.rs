//! The README's quick-start clients, compiled from the very text the README shows (a
//! test checks the README still contains it), so its tests run them against a live echo
//! server.

/// The blocking client on `ws-proto` alone, over `std::net::TcpStream`.
pub mod proto {
    include!("proto_client.rs");

    /// Runs the client against `url`: it sends a text and a binary message, prints their
    /// echoes and closes.
    pub fn run(url: &str) -> Result<(), Box<dyn std::error::Error>> {
        client(url)
    }

    /// The README's text of this client.
    pub const SOURCE: &str = include_str!("proto_client.rs");
}

/// The client on `ws-nal`, over the host's embedded-nal stack.
pub mod nal {
    include!("nal_client.rs");

    /// Runs the client against `url`: it sends a text and a binary message, prints their
    /// echoes and closes.
    pub fn run(url: &str) -> Result<(), Box<dyn std::error::Error>> {
        client(url)
    }

    /// The README's text of this client.
    pub const SOURCE: &str = include_str!("nal_client.rs");
}

/// The blocking client on `ws-io`, over `std::net::TcpStream`.
pub mod io {
    include!("io_client.rs");

    /// Runs the client against `url`: it sends a text and a binary message, prints their
    /// echoes and closes.
    pub fn run(url: &str) -> Result<(), ws_io::Error<std::io::Error>> {
        client(url)
    }

    /// The README's text of this client.
    pub const SOURCE: &str = include_str!("io_client.rs");
}
