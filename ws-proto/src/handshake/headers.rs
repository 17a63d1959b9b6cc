//! The header fields of a head the parsers have already validated, read on demand, so a
//! parsed request or response keeps one slice rather than an array of fields.

/// The header fields of a parsed request or response, in order: `(name, value)`, the
/// name as sent (compare it case-insensitively), the value without surrounding white
/// space. Repeated fields appear once each.
#[derive(Debug, Clone)]
pub struct Headers<'b> {
    /// The lines after the start line, up to and including the empty line.
    rest: &'b [u8],
}

impl<'b> Headers<'b> {
    /// The fields of `head`, a complete head whose lines the parser has checked.
    pub(crate) fn new(head: &'b [u8]) -> Self {
        let rest = match crate::http::find_newline(head) {
            Some(end) => head.get(end + 1..).unwrap_or_default(),
            None => &[],
        };
        Self { rest }
    }

    /// The value of the first field called `name` (ASCII case-insensitive).
    pub fn get(&self, name: &str) -> Option<&'b [u8]> {
        self.clone().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// The values of every field called `name`, in order.
    pub fn get_all<'n>(&self, name: &'n str) -> impl Iterator<Item = &'b [u8]> + 'n
    where
        'b: 'n,
    {
        self.clone().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }
}

impl<'b> Iterator for Headers<'b> {
    type Item = (&'b str, &'b [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let end = crate::http::find_newline(self.rest)?;
        let line = self.rest.get(..end).unwrap_or_default();
        self.rest = self.rest.get(end + 1..).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            // The empty line that ends the head.
            self.rest = &[];
            return None;
        };
        let name = core::str::from_utf8(line.get(..colon).unwrap_or_default()).unwrap_or_default();
        let value = super::trim(line.get(colon + 1..).unwrap_or_default());
        Some((name, value))
    }
}
