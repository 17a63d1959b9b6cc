//! Internals the fuzz targets check against; not part of the public API.

pub use crate::close::parse_payload as parse_close_payload;
pub use crate::mask::apply as apply_mask;
pub use crate::utf8::Utf8Validator;
