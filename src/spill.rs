//! Texts written once and read back later or in another order (a report's, the resources a
//! scan lists): in memory up to a budget, in a temporary file past it.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Where a text lies in a `Spill`.
#[derive(Clone, Copy, Debug)]
pub struct Text {
    pub start: u64,
    pub len: usize,
}

/// The texts pushed, one after another: the latest in memory, the ones before in a temporary
/// file once the memory held passes the budget.
pub struct Spill {
    memory: Vec<u8>,
    file: Option<File>,
    /// Bytes written to the file; the texts from there on are in `memory`.
    flushed: u64,
    budget: usize,
    /// Part of the file read at once, from `window_start`.
    window: Vec<u8>,
    window_start: u64,
}

impl Spill {
    /// Bytes read from the file at once for a read whose next ones lie near.
    const WINDOW: usize = 1 << 16;

    /// A spill that holds up to `budget` bytes in memory.
    pub fn new(budget: usize) -> Self {
        Spill {
            memory: Vec::new(),
            file: None,
            flushed: 0,
            budget,
            window: Vec::new(),
            window_start: 0,
        }
    }

    /// Adds `text` after the ones before; says where it lies.
    pub fn push(&mut self, text: &[u8]) -> io::Result<Text> {
        let at = Text {
            start: self.flushed + self.memory.len() as u64,
            len: text.len(),
        };
        self.memory.extend_from_slice(text);
        if self.memory.len() > self.budget {
            let file = match &mut self.file {
                Some(file) => file,
                none => none.insert(tempfile::tempfile()?),
            };
            file.seek(SeekFrom::Start(self.flushed))?;
            file.write_all(&self.memory)?;
            self.flushed += self.memory.len() as u64;
            self.memory.clear();
            // What the window held of the file may have been written over.
            self.window.clear();
        }
        Ok(at)
    }

    /// The text at `at`. From the file, a window is read when `near` says that the next
    /// reads lie close after this one, only the text when not.
    pub fn read(&mut self, at: Text, near: bool) -> io::Result<&[u8]> {
        if let Some(offset) = at.start.checked_sub(self.flushed) {
            let offset = usize::try_from(offset).map_err(io::Error::other)?;
            return self
                .memory
                .get(offset..offset + at.len)
                .ok_or_else(|| io::Error::other("a spilled text past its end"));
        }
        let end = at.start + at.len as u64;
        if at.start < self.window_start || end > self.window_start + self.window.len() as u64 {
            let file = self
                .file
                .as_mut()
                .ok_or_else(|| io::Error::other("a spilled text without its file"))?;
            let size = if near {
                at.len.max(Self::WINDOW)
            } else {
                at.len
            };
            // No further than the texts written (a file written over holds older ones).
            let size = (size as u64).min(self.flushed - at.start);
            file.seek(SeekFrom::Start(at.start))?;
            self.window.clear();
            Read::by_ref(file)
                .take(size)
                .read_to_end(&mut self.window)?;
            self.window_start = at.start;
            if self.window.len() < at.len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "a spilled text was cut short",
                ));
            }
        }
        let from = usize::try_from(at.start - self.window_start).map_err(io::Error::other)?;
        Ok(&self.window[from..from + at.len])
    }

    /// Forgets every text; the file, if any, is written over.
    pub fn clear(&mut self) {
        self.memory.clear();
        self.flushed = 0;
        self.window.clear();
        self.window_start = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::Spill;

    /// Texts read back in any order, near or apart, from memory or from the file, and again
    /// after the spill is cleared and written over with shorter texts.
    #[test]
    fn texts_come_back_whatever_the_budget_and_the_order() {
        for budget in [0, 100, 5_000, usize::MAX] {
            let mut spill = Spill::new(budget);
            for round in 0..2 {
                let texts: Vec<Vec<u8>> = (0..400)
                    .map(|n: usize| {
                        let len = if round == 0 {
                            1 + n * 37 % 900
                        } else {
                            1 + n % 50
                        };
                        (0..len)
                            .map(|i| b'a' + ((n + i + round) % 26) as u8)
                            .collect()
                    })
                    .collect();
                let at: Vec<_> = texts
                    .iter()
                    .map(|t| spill.push(t).unwrap_or_else(|e| panic!("{e}")))
                    .collect();
                for (k, n) in (0..texts.len()).map(|k| (k, k * 7 % texts.len())).rev() {
                    let read = spill
                        .read(at[n], k % 2 == 0)
                        .unwrap_or_else(|e| panic!("{e}"));
                    assert!(read == texts[n], "budget {budget}, round {round}, text {n}");
                }
                spill.clear();
            }
        }
    }
}
