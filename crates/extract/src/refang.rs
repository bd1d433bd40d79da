//! Refanging: undoing the defanged spellings analysts use to keep indicators from being
//! clicked.
//!
//! Only these forms are rewritten, letters in any case:
//! - `hxxp` and `hxxps` (also `hXXp`, `hXXps`) at the start of a word, before `:`, `[:`
//!   or `(:`.
//! - `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`, `{dot}` become `.`, and `\.` becomes `.`.
//! - `[:]` and `(:)` become `:`, and `[://]`, `[:]//`, `(://)` and `(:)//` become `://`.
//! - `[/]` becomes `/`, and `[//]` becomes `//`.
//! - `[@]`, `(@)`, `{@}`, `[at]`, `(at)`, `{at}` become `@`.
//!
//! Everything else is left alone: `2001:db8::/32` stays one range, and words that merely
//! contain "at" or "dot" (`data`, `dotnet`), or the spaced `example dot com`, are untouched.

use std::borrow::Cow;

/// Builds the table of bytes that can start a defanged spelling.
const fn triggers() -> [bool; 256] {
    let mut table = [false; 256];
    table[b'[' as usize] = true;
    table[b'(' as usize] = true;
    table[b'{' as usize] = true;
    table[b'\\' as usize] = true;
    table[b'h' as usize] = true;
    table[b'H' as usize] = true;
    table
}

static TRIGGERS: [bool; 256] = triggers();

/// Bracketed spellings, matched case-insensitively, with what replaces them. The first
/// match wins, so `[:]//` comes before `[:]`.
const BRACKETED: [(&str, &str); 20] = [
    ("[.]", "."),
    ("(.)", "."),
    ("{.}", "."),
    ("[dot]", "."),
    ("(dot)", "."),
    ("{dot}", "."),
    ("[:]//", "://"),
    ("[://]", "://"),
    ("[:]", ":"),
    ("(:)//", "://"),
    ("(://)", "://"),
    ("(:)", ":"),
    ("[@]", "@"),
    ("(@)", "@"),
    ("{@}", "@"),
    ("[at]", "@"),
    ("(at)", "@"),
    ("{at}", "@"),
    ("[/]", "/"),
    ("[//]", "//"),
];

/// Returns `line` with its defanged spellings rewritten, borrowed when it has none.
pub fn refang(line: &str) -> Cow<'_, str> {
    let bytes = line.as_bytes();
    let mut out: Option<String> = None;
    if !has_spelling(bytes) {
        return Cow::Borrowed(line);
    }
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        if !TRIGGERS[bytes[at] as usize] {
            at += 1;
            continue;
        }
        match spelling_at(bytes, at) {
            Some((len, replacement)) => {
                let out = out.get_or_insert_with(|| String::with_capacity(line.len()));
                out.push_str(&line[copied..at]);
                out.push_str(replacement);
                at += len;
                copied = at;
            }
            None => at += 1,
        }
    }
    match out {
        None => Cow::Borrowed(line),
        Some(mut out) => {
            out.push_str(&line[copied..]);
            Cow::Owned(out)
        }
    }
}

/// Tells whether `bytes` contains a defanged spelling, jumping between the bytes that can start
/// one, since most lines have none.
fn has_spelling(bytes: &[u8]) -> bool {
    memchr::memchr3_iter(b'[', b'(', b'{', bytes)
        .chain(memchr::memchr_iter(b'\\', bytes))
        .any(|at| spelling_at(bytes, at).is_some())
        || memchr::memchr2_iter(b'x', b'X', bytes)
            .any(|at| at > 0 && spelling_at(bytes, at - 1).is_some())
}

/// Returns the length of the defanged spelling at `at` and its replacement.
fn spelling_at(bytes: &[u8], at: usize) -> Option<(usize, &'static str)> {
    let rest = &bytes[at..];
    match rest[0] {
        b'\\' => (rest.get(1) == Some(&b'.')).then_some((2, ".")),
        b'h' | b'H' => scheme_at(bytes, at),
        // Every bracketed spelling has one of these bytes second.
        _ if !matches!(
            rest.get(1),
            Some(b'.' | b':' | b'/' | b'@' | b'd' | b'D' | b'a' | b'A')
        ) =>
        {
            None
        }
        _ => BRACKETED
            .iter()
            .find(|(from, _)| starts_with_ignore_case(rest, from.as_bytes()))
            .map(|(from, to)| (from.len(), *to)),
    }
}

/// Returns the length of the `hxxp` or `hxxps` at `at`, with its replacement, when it starts
/// a word and `:`, `[:` or `(:` follows.
fn scheme_at(bytes: &[u8], at: usize) -> Option<(usize, &'static str)> {
    if at > 0 && bytes[at - 1].is_ascii_alphanumeric() {
        return None;
    }
    let rest = &bytes[at..];
    let (len, scheme) = if starts_with_ignore_case(rest, b"hxxps") {
        (5, "https")
    } else if starts_with_ignore_case(rest, b"hxxp") {
        (4, "http")
    } else {
        return None;
    };
    let after = &rest[len..];
    let separated = after.starts_with(b":") || after.starts_with(b"[:") || after.starts_with(b"(:");
    separated.then_some((len, scheme))
}

fn starts_with_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.len() >= needle.len() && haystack[..needle.len()].eq_ignore_ascii_case(needle)
}

#[cfg(test)]
mod tests {
    use super::refang;

    #[test]
    fn rewrites_every_defanged_spelling() {
        for (input, expected) in [
            ("hxxp://example[.]com/a", "http://example.com/a"),
            ("hXXps[:]//example(.)org", "https://example.org"),
            ("hxxps(:)//example.com/a", "https://example.com/a"),
            ("hxxp(://)example.org/b", "http://example.org/b"),
            ("HXXPS[://]www{.}example[dot]net", "https://www.example.net"),
            ("user[at]example(dot)com", "user@example.com"),
            ("user[@]example{dot}com", "user@example.com"),
            ("user(at)example[DOT]com", "user@example.com"),
            ("198.51.100\\.7", "198.51.100.7"),
            ("192.0.2[.]1[:]8080", "192.0.2.1:8080"),
        ] {
            assert_eq!(refang(input), expected, "input {input}");
        }
    }

    #[test]
    fn leaves_everything_else_untouched() {
        for input in [
            "2001:db8::/32 and [2001:db8::1]:443",
            "data that dotnet attack at the dot",
            "example dot com",
            "shxxp://example.com",
            "hxxpd is a word",
            "[05/Dec/2026:10:00:00 +0000] (Windows NT 10.0; Win64)",
        ] {
            assert!(
                matches!(refang(input), std::borrow::Cow::Borrowed(_)),
                "input {input}"
            );
        }
    }
}
