//! Text that came from a scanned file (names, values, paths, parser messages) made safe to
//! print: a terminal must not run its escape sequences (colours, window titles, hyperlinks,
//! cursor moves) and a CI log must not read a forged command in it.

use std::borrow::Cow;

/// Characters a terminal or a log viewer may act on: C0 controls and DEL, C1 controls, and
/// the bidirectional overrides and isolates that reorder what is shown.
fn is_hazard(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if u32::from(c) < 0x80 => out.push_str(&format!("\\x{:02x}", u32::from(c))),
        c => out.push_str(&format!("\\u{{{:04x}}}", u32::from(c))),
    }
}

fn escape_where(text: &str, escape: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escape(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One line of text for a terminal: every control character is written visibly
/// (`\x1b`, `\n`, `\r`, `\u{202e}`), so a name cannot end the line or restyle the screen.
pub fn terminal(text: &str) -> Cow<'_, str> {
    escape_where(text, is_hazard)
}

/// Text that may span lines (a multi-line message): line breaks are kept, every other
/// control character is written visibly; a `\r` is a line break only before `\n`.
pub fn multiline(text: &str) -> Cow<'_, str> {
    let text = if text.contains("\r\n") {
        Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        Cow::Borrowed(text)
    };
    match escape_where(&text, |c| c != '\n' && is_hazard(c)) {
        Cow::Borrowed(_) => text,
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// The data of a GitHub workflow command (`::error …::DATA`), escaped as GitHub documents
/// (`%` `\r` `\n`); other control characters are written visibly.
pub fn github_data(text: &str) -> String {
    escape_where(text, |c| !matches!(c, '\r' | '\n') && is_hazard(c))
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value of a GitHub workflow command (`file=`, `title=`): as the data, and `:`
/// and `,` too, which would otherwise end the value.
pub fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A message for stderr whose own line breaks separate messages: each line is made safe on
/// its own (for text where the caller already escaped what came from files, this only
/// catches what slipped through).
pub fn stderr_lines(text: &str) -> String {
    text.split('\n')
        .map(|line| terminal(line).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_sequences_visibly() {
        assert_eq!(terminal("plain/ü.yaml"), "plain/ü.yaml");
        assert_eq!(
            terminal("a\u{1b}[31mred\u{7}\r\nb"),
            "a\\x1b[31mred\\x07\\r\\nb"
        );
        assert_eq!(terminal("x\u{9b}y\u{202e}z"), "x\\u{009b}y\\u{202e}z");
        assert_eq!(multiline("one\r\ntwo\u{1b}]0;t"), "one\ntwo\\x1b]0;t");
    }

    #[test]
    fn escapes_github_commands_as_documented() {
        assert_eq!(
            github_data("50%\n::error file=x::forged\r"),
            "50%25%0A::error file=x::forged%0D"
        );
        assert_eq!(github_property("a,b:c\n::error"), "a%2Cb%3Ac%0A%3A%3Aerror");
        assert_eq!(github_property("e\u{1b}[0m"), "e\\x1b[0m");
    }
}
