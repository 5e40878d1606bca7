//! `Secret<T>`: channel secrets, access tokens and passwords.
//!
//! `Debug` prints `<redacted>` and there is deliberately no `Serialize`, so a secret cannot leak
//! through logging or an accidental `serde_json::to_string`. Read it with [`Secret::expose`].

use std::fmt;

/// A value that must never be printed or serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// Gives access to the value; call sites are where secrets flow, so keep them few.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret<String> {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret<String> {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2".to_string());
        assert_eq!(
            format!("{s:?}"),
            "<redacted>",
            "debug output must be redacted"
        );
        assert_eq!(s.expose(), "hunter2");
    }
}
