//! What an import reads: a file, a bundled copy, or (see `fetch`) an
//! answer over HTTP — bounded in size, gzip-compressed or not, UTF-8.

use std::{io::Read, path::Path};

use anyhow::Context as _;
use chrono::NaiveDate;

/// The largest register an import reads, compressed or not: the largest
/// known (the Dutch listing) is under 2 MB.
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The bytes of a register and where they come from.
#[derive(Debug, Clone)]
pub struct Input {
    /// Where it was read from, as the report names it.
    pub name: String,
    bytes: Vec<u8>,
    /// When it was retrieved, when known better than its `source.json`
    /// says (a fetch over HTTP).
    pub retrieved_on: Option<NaiveDate>,
    /// What its server said of it, when fetched over HTTP.
    pub validators: Option<super::fetch::Validators>,
}

impl Input {
    pub fn bytes(name: String, bytes: Vec<u8>) -> Self {
        Self {
            name,
            bytes,
            retrieved_on: None,
            validators: None,
        }
    }

    /// The file at `path`; an error when it is larger than [`MAX_BYTES`].
    pub fn file(path: &Path) -> anyhow::Result<Self> {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let bytes = bounded(file, &path.display().to_string())?;
        Ok(Self::bytes(path.display().to_string(), bytes))
    }

    /// Its text: decompressed when gzip-compressed, a leading BOM dropped.
    pub fn text(&self) -> anyhow::Result<String> {
        let bytes = if self.bytes.starts_with(&[0x1f, 0x8b]) {
            bounded(
                flate2::read::GzDecoder::new(self.bytes.as_slice()),
                &self.name,
            )?
        } else {
            self.bytes.clone()
        };
        let text =
            String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", self.name))?;
        Ok(text.strip_prefix('\u{feff}').unwrap_or(&text).to_owned())
    }
}

/// Everything `reader` gives, or an error once it gives more than
/// [`MAX_BYTES`].
pub fn bounded(reader: impl Read, name: &str) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {name}"))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(too_large(name));
    }
    Ok(bytes)
}

/// The error of a register larger than [`MAX_BYTES`].
pub fn too_large(name: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{name} is larger than {} MiB, the most a register may hold",
        MAX_BYTES >> 20
    )
}
