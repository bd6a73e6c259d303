//! Checks of values, the same for every writer: texts within their
//! lengths, links that are http(s) URLs, months, SIRENs, URL names, bounds.
//! A writer gathers its field errors in one [`Checks`] and fails once,
//! naming every wrong field. It uses the hub's error type alone.

use crate::error::{AppResult, FieldErrors};

use super::{is_month, is_siren};

/// Checks of input fields, gathered into one error naming every wrong field.
#[derive(Default)]
pub struct Checks(pub FieldErrors);

/// Longest one-line text (titles, names).
pub const MAX_LINE: usize = 300;
/// Longest free text (summaries, statements).
pub const MAX_TEXT: usize = 10_000;
/// Longest URL name.
const MAX_SLUG: usize = 100;
/// Longest URL.
const MAX_URL: usize = 2_000;

impl Checks {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.add(field, message);
    }

    /// A required text: not blank, at most `max` characters. Returns it trimmed.
    pub fn required(&mut self, field: &str, text: &str, max: usize) -> String {
        let text = text.trim();
        if text.is_empty() {
            self.add(field, "must not be empty");
        } else if text.chars().count() > max {
            self.add(field, format!("is longer than {max} characters"));
        }
        text.to_owned()
    }

    /// An optional text: blank means none.
    pub fn optional(&mut self, field: &str, text: Option<&str>, max: usize) -> Option<String> {
        let text = text.map(str::trim).filter(|t| !t.is_empty())?;
        if text.chars().count() > max {
            self.add(field, format!("is longer than {max} characters"));
        }
        Some(text.to_owned())
    }

    /// An optional http(s) URL.
    pub fn url(&mut self, field: &str, text: Option<&str>) -> Option<String> {
        let text = self.optional(field, text, MAX_URL)?;
        match url::Url::parse(&text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            _ => self.add(field, "must be an http:// or https:// URL"),
        }
        Some(text)
    }

    /// An optional month, `YYYY-MM`.
    pub fn month(&mut self, field: &str, text: Option<&str>) -> Option<String> {
        let text = self.optional(field, text, 7)?;
        if !is_month(&text) {
            self.add(field, "must be a month written YYYY-MM");
        }
        Some(text)
    }

    /// A URL name: the one given (lowercase letters, digits and single
    /// dashes), else one made from `name`.
    pub fn slug(&mut self, field: &str, given: Option<&str>, name: &str) -> String {
        let Some(given) = given.map(str::trim).filter(|g| !g.is_empty()) else {
            let made = crate::text::slug(name);
            if made.is_empty() && !name.trim().is_empty() {
                self.add(field, "cannot be made from this name: give one");
            }
            return made;
        };
        if given.len() > MAX_SLUG || crate::text::slug(given) != given {
            self.add(
                field,
                format!(
                    "must be lowercase letters and digits joined by single dashes, \
                     at most {MAX_SLUG} characters"
                ),
            );
        }
        given.to_owned()
    }

    /// An optional SIREN: nine digits with a valid Luhn key.
    pub fn siren(&mut self, field: &str, text: Option<&str>) -> Option<String> {
        let text = self.optional(field, text, 9)?;
        if !is_siren(&text) {
            self.add(field, "must be 9 digits with a valid check digit (Luhn)");
        }
        Some(text)
    }

    /// An optional count or amount, not negative.
    pub fn not_negative<N: PartialOrd + Default + Copy>(
        &mut self,
        field: &str,
        value: Option<N>,
    ) -> Option<N> {
        if value.is_some_and(|v| v < N::default()) {
            self.add(field, "cannot be negative");
        }
        value
    }

    /// Two optional bounds (dates, months) in order: `end` not before `start`.
    pub fn ordered<T: PartialOrd + std::fmt::Display>(
        &mut self,
        field: &str,
        start: Option<T>,
        end: Option<T>,
    ) {
        if let (Some(start), Some(end)) = (start, end)
            && end < start
        {
            self.add(field, format!("ends ({end}) before it starts ({start})"));
        }
    }

    /// An optional number within `min..=max`.
    pub fn within<N: PartialOrd + std::fmt::Display + Copy>(
        &mut self,
        field: &str,
        value: Option<N>,
        min: N,
        max: N,
    ) -> Option<N> {
        if let Some(v) = value
            && (v < min || v > max)
        {
            self.add(field, format!("must be between {min} and {max}"));
        }
        value
    }

    /// An optional number, `min` or more.
    pub fn at_least<N: PartialOrd + std::fmt::Display + Copy>(
        &mut self,
        field: &str,
        value: Option<N>,
        min: N,
    ) -> Option<N> {
        if value.is_some_and(|v| v < min) {
            self.add(field, format!("must be {min} or more"));
        }
        value
    }

    pub fn finish(self) -> AppResult<()> {
        self.0.check()
    }
}
