//! The iden3 binary container shared by `.r1cs`, `.wtns`, `.ptau` and
//! `.zkey` files.
//!
//! Layout (iden3 `r1csfile`, `doc/r1cs_bin_format.md`; the same container
//! is read by `@iden3/binfileutils` for every format), all integers
//! little-endian:
//!
//! ```text
//! magic      4 bytes   "r1cs", "wtns", "ptau" or "zkey"
//! version    u32
//! n_sections u32
//! n_sections times:
//!   id       u32
//!   size     u64
//!   body     size bytes
//! ```
//!
//! Sections may come in any order; readers look them up by id. This reader
//! is strict: every section must lie inside the file, the file must end
//! with the last section, a section id may appear only once, and a missing
//! or misshaped section is an error naming the format and the section.
//! [`SectionReader`] parses a body with bounds checks and requires it to be
//! consumed exactly.

use std::io::{Read, Seek, SeekFrom, Write};

/// Bytes before the first section: magic, version, section count.
pub const HEADER_LEN: u64 = 12;
/// Bytes of a section's id and size.
pub const SECTION_HEADER_LEN: u64 = 12;

/// Why a container (or one of its sections) was refused.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The file is shorter than its header.
    #[error("{format} file: truncated header ({len} bytes)")]
    TruncatedHeader {
        /// The expected format.
        format: &'static str,
        /// The file's length.
        len: u64,
    },
    /// The file starts with other magic bytes.
    #[error("not a {format} file (magic {found:?})")]
    BadMagic {
        /// The expected format.
        format: &'static str,
        /// The first four bytes.
        found: [u8; 4],
    },
    /// A version this reader does not know.
    #[error("{format} file version {version} is not supported (at most {max})")]
    UnsupportedVersion {
        /// The format.
        format: &'static str,
        /// The file's version.
        version: u32,
        /// The highest supported.
        max: u32,
    },
    /// A section header or body reaches past the end of the file.
    #[error("{format} file: section {id} (the {index}th) at byte {offset} with {size} bytes runs past the end of the file ({len} bytes)")]
    SectionOutOfBounds {
        /// The format.
        format: &'static str,
        /// The section id (0 when its header itself is cut).
        id: u32,
        /// Its position in the section table.
        index: u32,
        /// Where its body starts.
        offset: u64,
        /// Its declared size.
        size: u64,
        /// The file's length.
        len: u64,
    },
    /// Bytes after the last section.
    #[error("{format} file: {extra} bytes after the last section")]
    TrailingBytes {
        /// The format.
        format: &'static str,
        /// How many.
        extra: u64,
    },
    /// A section id that appears twice.
    #[error("{format} file: section {id} appears more than once")]
    DuplicateSection {
        /// The format.
        format: &'static str,
        /// The id.
        id: u32,
    },
    /// A required section is absent.
    #[error("{format} file: section {id} ({name}) is missing")]
    MissingSection {
        /// The format.
        format: &'static str,
        /// The id.
        id: u32,
        /// What the section holds.
        name: &'static str,
    },
    /// A section whose size or content does not match its header.
    #[error("{format} file: section {id} ({name}): {problem}")]
    BadSection {
        /// The format.
        format: &'static str,
        /// The id.
        id: u32,
        /// What the section holds.
        name: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// A section's place in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    /// The section id.
    pub id: u32,
    /// Where the body starts (bytes from the start of the file).
    pub offset: u64,
    /// The body's length.
    pub size: u64,
}

/// The section table of a container, read without reading the bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionTable {
    format: &'static str,
    version: u32,
    sections: Vec<Section>,
    len: u64,
}

impl SectionTable {
    /// Reads the header and section table of `r` (a file of `format`'s
    /// four-byte magic, version at most `max_version`), seeking over the
    /// bodies.
    pub fn read<R: Read + Seek>(
        r: &mut R,
        format: &'static str,
        max_version: u32,
    ) -> Result<Self, ContainerError> {
        let len = r.seek(SeekFrom::End(0))?;
        r.seek(SeekFrom::Start(0))?;
        if len < HEADER_LEN {
            return Err(ContainerError::TruncatedHeader { format, len });
        }
        let mut head = [0u8; HEADER_LEN as usize];
        r.read_exact(&mut head)?;
        let mut found = [0u8; 4];
        found.copy_from_slice(&head[..4]);
        if found != format.as_bytes()[..4] {
            return Err(ContainerError::BadMagic { format, found });
        }
        let version = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if version == 0 || version > max_version {
            return Err(ContainerError::UnsupportedVersion {
                format,
                version,
                max: max_version,
            });
        }
        let count = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
        let mut pos = HEADER_LEN;
        let mut sections: Vec<Section> = Vec::new();
        for index in 0..count {
            if len - pos < SECTION_HEADER_LEN {
                return Err(ContainerError::SectionOutOfBounds {
                    format,
                    id: 0,
                    index,
                    offset: pos,
                    size: SECTION_HEADER_LEN,
                    len,
                });
            }
            r.seek(SeekFrom::Start(pos))?;
            let mut sh = [0u8; SECTION_HEADER_LEN as usize];
            r.read_exact(&mut sh)?;
            let id = u32::from_le_bytes([sh[0], sh[1], sh[2], sh[3]]);
            let mut size = [0u8; 8];
            size.copy_from_slice(&sh[4..]);
            let size = u64::from_le_bytes(size);
            let offset = pos + SECTION_HEADER_LEN;
            if size > len - offset {
                return Err(ContainerError::SectionOutOfBounds {
                    format,
                    id,
                    index,
                    offset,
                    size,
                    len,
                });
            }
            if sections.iter().any(|s| s.id == id) {
                return Err(ContainerError::DuplicateSection { format, id });
            }
            sections.push(Section { id, offset, size });
            pos = offset + size;
        }
        if pos != len {
            return Err(ContainerError::TrailingBytes {
                format,
                extra: len - pos,
            });
        }
        Ok(SectionTable {
            format,
            version,
            sections,
            len,
        })
    }

    /// Reads the table of an in-memory file.
    pub fn parse(
        bytes: &[u8],
        format: &'static str,
        max_version: u32,
    ) -> Result<Self, ContainerError> {
        Self::read(&mut std::io::Cursor::new(bytes), format, max_version)
    }

    /// The format (the magic).
    pub fn format(&self) -> &'static str {
        self.format
    }

    /// The file's version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The file's length.
    pub fn file_len(&self) -> u64 {
        self.len
    }

    /// The sections in file order.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// Section `id`, if present.
    pub fn get(&self, id: u32) -> Option<Section> {
        self.sections.iter().copied().find(|s| s.id == id)
    }

    /// Section `id` (`name` says what it holds, for the error).
    pub fn require(&self, id: u32, name: &'static str) -> Result<Section, ContainerError> {
        self.get(id).ok_or(ContainerError::MissingSection {
            format: self.format,
            id,
            name,
        })
    }

    /// The body of section `id` in `bytes` (the whole file).
    pub fn body<'a>(
        &self,
        bytes: &'a [u8],
        id: u32,
        name: &'static str,
    ) -> Result<SectionReader<'a>, ContainerError> {
        let s = self.require(id, name)?;
        // In bounds: checked when the table was read from these bytes.
        let body = bytes
            .get(s.offset as usize..(s.offset + s.size) as usize)
            .ok_or(ContainerError::SectionOutOfBounds {
                format: self.format,
                id,
                index: 0,
                offset: s.offset,
                size: s.size,
                len: bytes.len() as u64,
            })?;
        Ok(SectionReader {
            format: self.format,
            id,
            name,
            data: body,
            pos: 0,
        })
    }

    /// An error about section `id`.
    pub fn bad(&self, id: u32, name: &'static str, problem: impl Into<String>) -> ContainerError {
        ContainerError::BadSection {
            format: self.format,
            id,
            name,
            problem: problem.into(),
        }
    }
}

/// A section body being parsed: every read is bounds-checked and errors
/// name the section.
#[derive(Debug, Clone)]
pub struct SectionReader<'a> {
    format: &'static str,
    id: u32,
    name: &'static str,
    data: &'a [u8],
    pos: usize,
}

impl<'a> SectionReader<'a> {
    /// A reader over `data`, the body of section `id` of a `format` file.
    pub fn new(format: &'static str, id: u32, name: &'static str, data: &'a [u8]) -> Self {
        SectionReader {
            format,
            id,
            name,
            data,
            pos: 0,
        }
    }

    /// An error about this section.
    pub fn bad(&self, problem: impl Into<String>) -> ContainerError {
        ContainerError::BadSection {
            format: self.format,
            id: self.id,
            name: self.name,
            problem: problem.into(),
        }
    }

    /// The whole body.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The body's length.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], ContainerError> {
        if n > self.remaining() {
            return Err(self.bad(format!(
                "truncated: {n} more bytes needed at byte {}, {} left",
                self.pos,
                self.remaining()
            )));
        }
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// The next little-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, ContainerError> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The next little-endian `u64`.
    pub fn u64(&mut self) -> Result<u64, ContainerError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// The next byte.
    pub fn u8(&mut self) -> Result<u8, ContainerError> {
        Ok(self.bytes(1)?[0])
    }

    /// Requires the body to have been read to its end.
    pub fn finish(&self) -> Result<(), ContainerError> {
        if self.remaining() != 0 {
            return Err(self.bad(format!("{} bytes left after its content", self.remaining())));
        }
        Ok(())
    }
}

/// Writes a container's header: `magic`, `version`, `n_sections`.
pub fn write_header<W: Write>(
    w: &mut W,
    magic: &[u8; 4],
    version: u32,
    n_sections: u32,
) -> std::io::Result<()> {
    w.write_all(magic)?;
    w.write_all(&version.to_le_bytes())?;
    w.write_all(&n_sections.to_le_bytes())
}

/// Writes a section header: the body of `size` bytes must follow.
pub fn write_section_header<W: Write>(w: &mut W, id: u32, size: u64) -> std::io::Result<()> {
    w.write_all(&id.to_le_bytes())?;
    w.write_all(&size.to_le_bytes())
}

/// Writes a whole section.
pub fn write_section<W: Write>(w: &mut W, id: u32, body: &[u8]) -> std::io::Result<()> {
    write_section_header(w, id, body.len() as u64)?;
    w.write_all(body)
}

/// An in-memory container: `magic`, `version` and the sections in order.
pub fn to_bytes(magic: &[u8; 4], version: u32, sections: &[(u32, &[u8])]) -> Vec<u8> {
    let total: usize = sections.iter().map(|(_, b)| b.len() + 12).sum::<usize>() + 12;
    let mut out = Vec::with_capacity(total);
    // Writing to a Vec cannot fail.
    let _ = write_header(&mut out, magic, version, sections.len() as u32);
    for (id, body) in sections {
        let _ = write_section(&mut out, *id, body);
    }
    out
}
