//! What the HTML templates (shared/templates/, compiled by askama) escape with. askama.toml
//! makes this the escaper of every `.html` template, so every value a page or mail prints is
//! escaped unless the template says otherwise (none does).

use std::fmt::{self, Write};

/// Escapes text for HTML element content and quoted attribute values, with the named
/// entities (`&lt;`, `&quot;`, `&#39;`) rather than askama's numeric ones.
#[derive(Debug, Clone, Copy)]
pub struct Html;

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: Write>(&self, mut dest: W, raw: &str) -> fmt::Result {
        let mut last = 0;
        for (i, b) in raw.bytes().enumerate() {
            let entity = match b {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                _ => continue,
            };
            dest.write_str(&raw[last..i])?;
            dest.write_str(entity)?;
            last = i + 1;
        }
        dest.write_str(&raw[last..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use askama::filters::Escaper;

    #[test]
    fn the_five_characters_become_named_entities_and_the_rest_stays() {
        let mut out = String::new();
        Html.write_escaped_str(&mut out, "<a href=\"x\">O'Brien & Co</a> é ✓")
            .unwrap();
        assert_eq!(
            out,
            "&lt;a href=&quot;x&quot;&gt;O&#39;Brien &amp; Co&lt;/a&gt; é ✓"
        );
    }
}
