//! Close codes (RFC 6455 §7.4): which may appear on the wire, which an endpoint may send,
//! and validation of a received close payload.

use crate::{utf8, Error};

/// A close status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection is fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: no code was present (never sent on the wire).
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: the connection dropped without a close frame (never sent on the wire).
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: a message's payload is inconsistent with its type (bad UTF-8 in text).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: a message violates the endpoint's policy.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: a message is too big to process.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: the client expected an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);

    /// Whether this code may appear in a close frame on the wire.
    ///
    /// RFC 6455 defines 1000-1003 and 1007-1011; the IANA registry it creates adds
    /// 1012-1014 (service restart, try again later, bad gateway), which deployed servers
    /// send, so they are accepted too. 3000-4999 belong to libraries and applications.
    /// 1004-1006 and 1015 are reserved and never sent; everything else is unassigned.
    pub const fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// Longest close reason: a control payload holds 125 bytes, two of which are the code.
    pub const MAX_REASON_LEN: usize = 123;
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

/// Parses a received close payload into its code and reason.
///
/// An empty payload is a close without a code. A one-byte payload, a code not valid on
/// the wire, or a reason that is not UTF-8 are errors (1002 / 1007).
pub fn parse_payload(payload: &[u8]) -> Result<(Option<CloseCode>, &str), Error> {
    match payload {
        [] => Ok((None, "")),
        [_] => Err(Error::InvalidCloseCode),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_valid_on_wire() {
                return Err(Error::InvalidCloseCode);
            }
            let reason = utf8::validate_complete(reason)?;
            Ok((Some(code), reason))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_validity_matches_the_registry() {
        for code in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999] {
            assert!(CloseCode(code).is_valid_on_wire(), "{code}");
        }
        for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            assert!(!CloseCode(code).is_valid_on_wire(), "{code}");
        }
    }

    #[test]
    fn payloads() {
        assert_eq!(parse_payload(&[]), Ok((None, "")));
        assert_eq!(parse_payload(&[0x03]), Err(Error::InvalidCloseCode));
        assert_eq!(parse_payload(&[0x03, 0xe8]), Ok((Some(CloseCode::NORMAL), "")));
        assert_eq!(parse_payload(b"\x03\xe8bye"), Ok((Some(CloseCode::NORMAL), "bye")));
        assert_eq!(parse_payload(b"\x03\xedx"), Err(Error::InvalidCloseCode));
        assert_eq!(parse_payload(b"\x03\xe8\xff"), Err(Error::InvalidUtf8));
    }
}
