//! Full-text search that works for Chinese, Japanese and Thai as well as space-separated
//! languages.
//!
//! FTS5's `unicode61` tokenizer splits on spaces, which CJK and Thai text does not have. We
//! index those scripts one character per token (by putting spaces around each such
//! character) and turn the query into a phrase of the same tokens, so "訂單" finds "我的訂單還沒到"
//! and "สินค้า" finds a Thai sentence, while Latin words stay whole words with prefix matching.

/// Whether a character belongs to a script written without spaces between words.
pub(crate) fn is_unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0E7F      // Thai
        | 0x0E80..=0x0EFF    // Lao
        | 0x1000..=0x109F    // Myanmar
        | 0x1780..=0x17FF    // Khmer
        | 0x2E80..=0x2FFF    // CJK radicals
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x3100..=0x31FF    // Bopomofo, Katakana extensions
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility
        | 0xFF66..=0xFF9F    // half-width Katakana
        | 0x20000..=0x3134F  // CJK extensions B–H
    )
}

/// Thai combining vowels and tone marks: they stay with the consonant before them.
fn is_thai_mark(c: char) -> bool {
    matches!(c as u32, 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E)
}

/// The text as indexed.
pub fn index_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    for c in text.chars() {
        if is_thai_mark(c) {
            // Glue the mark to its consonant: drop the space we put after it.
            if out.ends_with(' ') {
                out.pop();
            }
            out.push(c);
            out.push(' ');
        } else if is_unspaced(c) {
            out.push(' ');
            out.push(c);
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// An FTS5 query for what the user typed, or `None` if it has nothing searchable.
pub fn query(input: &str) -> Option<String> {
    let spaced = index_text(input);
    let tokens: Vec<String> = spaced
        .split(|c: char| !c.is_alphanumeric() && !is_unspaced(c))
        .filter(|t| !t.is_empty())
        .map(|t| t.replace('"', ""))
        .collect();
    let last = tokens.last()?;
    // A trailing Latin word is a prefix ("deliv" finds "delivered"); a CJK character is exact.
    let prefix = last.chars().all(|c| !is_unspaced(c));
    let phrase = tokens.join(" ");
    Some(if prefix {
        format!("\"{phrase}\" *")
    } else {
        format!("\"{phrase}\"")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_and_thai_are_indexed_per_character() {
        assert_eq!(index_text("訂單ok"), " 訂  單 ok");
        assert_eq!(query("訂單").as_deref(), Some("\"訂 單\""));
        assert_eq!(
            query("สินค้า").as_deref(),
            Some("\"สิ น ค้ า\""),
            "Thai marks stay with their consonant"
        );
    }

    #[test]
    fn latin_words_get_prefix_matching_and_quotes_are_neutralised() {
        assert_eq!(query("Deliv").as_deref(), Some("\"Deliv\" *"));
        assert_eq!(query("my \"package").as_deref(), Some("\"my package\" *"));
        assert_eq!(query("  !! "), None);
    }
}
