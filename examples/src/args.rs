//! The echo servers' command line: `[ADDR] [--protocol NAME]...`.

use std::net::SocketAddr;

/// What an echo server was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerArgs {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Subprotocols to select from the client's offers, in this order of preference.
    pub protocols: Vec<String>,
}

impl ServerArgs {
    /// Parses the arguments after the program name; `default` is the address when none
    /// is given.
    pub fn parse(args: impl IntoIterator<Item = String>, default: &str) -> Result<Self, String> {
        let mut addr = None;
        let mut protocols = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--protocol" {
                protocols.push(args.next().ok_or("--protocol needs a NAME")?);
            } else if let Some(name) = arg.strip_prefix("--protocol=") {
                protocols.push(name.to_owned());
            } else if addr.is_none() && !arg.starts_with('-') {
                addr = Some(arg.parse().map_err(|e| format!("{arg}: {e}"))?);
            } else {
                return Err(format!("unexpected argument {arg}"));
            }
        }
        let addr = match addr {
            Some(addr) => addr,
            None => default.parse().map_err(|e| format!("{default}: {e}"))?,
        };
        Ok(Self { addr, protocols })
    }

    /// Parses the process's own arguments, or exits with a usage line.
    pub fn from_env(program: &str, default: &str) -> Self {
        Self::parse(std::env::args().skip(1), default).unwrap_or_else(|e| {
            eprintln!("usage: {program} [IP:PORT] [--protocol NAME]...: {e}");
            std::process::exit(2);
        })
    }

    /// The subprotocol list as the session configuration takes it; leaked, since a
    /// server's configuration lives as long as the process.
    pub fn protocol_list(&self) -> &'static [&'static str] {
        let names: Vec<&'static str> = self.protocols.iter().map(|p| &*String::leak(p.clone())).collect();
        Vec::leak(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<ServerArgs, String> {
        ServerArgs::parse(args.iter().map(|s| s.to_string()), "127.0.0.1:9001")
    }

    #[test]
    fn address_and_repeated_protocols() {
        let args = parse(&["0.0.0.0:80", "--protocol", "chat", "--protocol=superchat"]).unwrap();
        assert_eq!(args.addr, "0.0.0.0:80".parse().unwrap());
        assert_eq!(args.protocols, ["chat", "superchat"]);
        assert_eq!(args.protocol_list(), ["chat", "superchat"]);
        assert_eq!(parse(&[]).unwrap().addr, "127.0.0.1:9001".parse().unwrap());
        assert!(parse(&["--protocol"]).is_err());
        assert!(parse(&["nonsense"]).is_err());
        assert!(parse(&["--verbose"]).is_err());
    }
}
