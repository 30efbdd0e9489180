//! Arrays of 64-bit words for the index's two large tables (the key table and
//! its filter), kept on transparent huge pages where the system offers them.
//!
//! A lookup in a large policy reads a few words at random places of these
//! tables. With 4 KiB pages each such read is likely to miss the TLB as well
//! as the cache (16 MiB of key table is 4,096 pages); on 2 MiB pages the
//! whole table takes eight TLB entries. So an array of at least
//! [`MAP_AT_LEAST`] bytes is an anonymous memory mapping of whole huge pages,
//! aligned to one and advised `MADV_HUGEPAGE` (Linux; `memmap2`'s safe API),
//! and a smaller
//! one, or one on another system or whose mapping fails, is an ordinary heap
//! allocation. Both are read the same way: eight little-endian bytes at a
//! time (an unaligned load; no `unsafe` cast of the bytes to `u64`).

/// The size of a transparent huge page on x86-64 and most arm64 Linux
/// systems.
pub const HUGE_PAGE: usize = 2 << 20;
/// The smallest array worth a mapping of its own (it then takes at least one
/// whole huge page).
pub const MAP_AT_LEAST: usize = HUGE_PAGE / 2;

/// A fixed-length array of `u64`, filled with one value when made.
pub struct Words {
    storage: Storage,
    len: usize,
}

enum Storage {
    Heap(Box<[u8]>),
    /// The words are `map[offset..offset + 8 * len]`, `offset` chosen so that
    /// they start on a huge-page boundary.
    #[cfg(target_os = "linux")]
    Mapped {
        map: memmap2::MmapMut,
        offset: usize,
    },
}

impl std::fmt::Debug for Words {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Words")
            .field("len", &self.len)
            .field("mapped", &self.is_mapped())
            .finish()
    }
}

impl Default for Words {
    fn default() -> Words {
        Words::filled(0, 0)
    }
}

impl Words {
    /// `len` words, each `value`.
    pub fn filled(len: usize, value: u64) -> Words {
        let bytes = len.saturating_mul(8);
        let storage = Words::mapped(bytes).unwrap_or_else(|| Storage::Heap(vec![0; bytes].into()));
        let mut words = Words { storage, len };
        if value != 0 {
            for chunk in words.bytes_mut().chunks_exact_mut(8) {
                chunk.copy_from_slice(&value.to_le_bytes());
            }
        }
        words
    }

    /// An anonymous mapping holding `bytes` on whole huge pages, starting on
    /// one, advised to use huge pages; `None` below [`MAP_AT_LEAST`] or when
    /// the system says no. (Its slack before the aligned start is never
    /// touched, so it costs address space, not memory.)
    #[cfg(target_os = "linux")]
    fn mapped(bytes: usize) -> Option<Storage> {
        if bytes < MAP_AT_LEAST {
            return None;
        }
        let pages = bytes.checked_next_multiple_of(HUGE_PAGE)?;
        let map = memmap2::MmapMut::map_anon(pages.checked_add(HUGE_PAGE)?).ok()?;
        let address = map.as_ptr() as usize;
        let offset = address.next_multiple_of(HUGE_PAGE) - address;
        // Advice only: if the kernel declines, the words are on small pages.
        let _ = map.advise(memmap2::Advice::HugePage);
        Some(Storage::Mapped { map, offset })
    }

    #[cfg(not(target_os = "linux"))]
    fn mapped(_bytes: usize) -> Option<Storage> {
        None
    }

    /// Is the array a huge-page mapping?
    pub fn is_mapped(&self) -> bool {
        !matches!(self.storage, Storage::Heap(_))
    }

    /// Bytes of memory the words take outside the heap: whole huge pages
    /// (0 for a heap array).
    pub fn mapped_bytes(&self) -> usize {
        if self.is_mapped() {
            (self.len * 8).next_multiple_of(HUGE_PAGE)
        } else {
            0
        }
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The words as bytes, for [`get`] (taken once per lookup).
    pub fn bytes(&self) -> &[u8] {
        let all: &[u8] = match &self.storage {
            Storage::Heap(bytes) => bytes,
            #[cfg(target_os = "linux")]
            Storage::Mapped { map, offset } => map.get(*offset..).unwrap_or_default(),
        };
        all.get(..self.len * 8).unwrap_or_default()
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        let len = self.len * 8;
        let all: &mut [u8] = match &mut self.storage {
            Storage::Heap(bytes) => bytes,
            #[cfg(target_os = "linux")]
            Storage::Mapped { map, offset } => map.get_mut(*offset..).unwrap_or_default(),
        };
        all.get_mut(..len).unwrap_or_default()
    }

    /// Word `i`.
    pub fn word(&self, i: usize) -> Option<u64> {
        get(self.bytes(), i)
    }

    /// Sets word `i` (a no-op past the end).
    pub fn set(&mut self, i: usize, value: u64) {
        if let Some(chunk) = i
            .checked_mul(8)
            .and_then(|at| self.bytes_mut().get_mut(at..at + 8))
        {
            chunk.copy_from_slice(&value.to_le_bytes());
        }
    }
}

/// Word `i` of bytes taken from [`Words::bytes`].
#[inline(always)]
pub fn get(bytes: &[u8], i: usize) -> Option<u64> {
    let at = i.checked_mul(8)?;
    let word: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small and large arrays read back what was set, start filled, and a
    /// large one is mapped on a huge-page boundary (on Linux).
    #[test]
    fn words_hold_what_is_set_wherever_they_are_kept() {
        for len in [0, 1, 7, 1000, MAP_AT_LEAST / 8 + 3, HUGE_PAGE / 8 + 3] {
            let mut words = Words::filled(len, u64::MAX - 1);
            assert_eq!(words.len(), len);
            assert_eq!(words.bytes().len(), len * 8);
            assert!(
                words
                    .bytes()
                    .chunks(8)
                    .all(|c| c == (u64::MAX - 1).to_le_bytes())
            );
            for i in (0..len).step_by(997) {
                words.set(i, i as u64 * 3);
            }
            for i in (0..len).step_by(997) {
                assert_eq!(words.word(i), Some(i as u64 * 3));
            }
            assert_eq!(words.word(len), None);
            words.set(len, 5);
            if cfg!(target_os = "linux") && len * 8 >= MAP_AT_LEAST {
                assert!(words.is_mapped());
                assert_eq!(words.bytes().as_ptr() as usize % HUGE_PAGE, 0);
                assert_eq!(words.mapped_bytes(), (len * 8).next_multiple_of(HUGE_PAGE));
            } else {
                assert!(!words.is_mapped());
                assert_eq!(words.mapped_bytes(), 0);
            }
        }
    }
}
