//! Test outcomes without an allocator: a failure is a line number and what broke.

use core::fmt;
use core::panic::Location;

/// Why a test failed.
pub enum Fail {
    /// A check did not hold.
    Check { line: u32, what: &'static str },
    /// ws-proto returned an error where none was expected.
    Error { line: u32, error: ws_proto::Error },
}

impl From<ws_proto::Error> for Fail {
    /// Lets `?` pass ws-proto errors up, with the line of the `?`.
    #[track_caller]
    fn from(error: ws_proto::Error) -> Self {
        Self::Error { line: Location::caller().line(), error }
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Check { line, what } => write!(f, "line {line}: check failed: {what}"),
            Self::Error { line, error } => write!(f, "line {line}: unexpected error {error:?}"),
        }
    }
}

/// What a test returns.
pub type Outcome = Result<(), Fail>;

/// Fails the test with a message.
macro_rules! fail {
    ($what:expr) => {
        return Err($crate::check::Fail::Check { line: line!(), what: $what })
    };
}

/// Fails the test unless the condition holds.
macro_rules! check {
    ($cond:expr) => {
        if !$cond {
            fail!(stringify!($cond));
        }
    };
}

/// Fails the test unless both sides are equal, printing both (as hex for byte slices).
macro_rules! check_eq {
    ($left:expr, $right:expr) => {
        match (&$left, &$right) {
            (left, right) => {
                if left != right {
                    cortex_m_semihosting::hprintln!("  left: {:02x?}\n right: {:02x?}", left, right);
                    fail!(concat!(stringify!($left), " == ", stringify!($right)));
                }
            }
        }
    };
}
