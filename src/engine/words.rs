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
//! allocation. Both are read as a `&[u64]` (the mapping's bytes through
//! `bytemuck`'s checked cast, which its huge-page alignment always passes).

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
    Heap(Box<[u64]>),
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
        let mapped = Words::mapped(len).map(|storage| Words { storage, len });
        // INVARIANT: a mapping is used only if its words can be read as a
        // whole `&[u64]` (the checked cast passes: aligned, long enough), so
        // `as_slice` never comes back short.
        let mut words = match mapped {
            Some(words) if words.as_slice().len() == len => words,
            _ => Words {
                storage: Storage::Heap(vec![0; len].into_boxed_slice()),
                len,
            },
        };
        if value != 0 {
            words.as_mut_slice().fill(value);
        }
        words
    }

    /// An anonymous mapping holding `len` words on whole huge pages, starting
    /// on one, advised to use huge pages; `None` below [`MAP_AT_LEAST`] bytes
    /// or when the system says no. (Its slack before the aligned start is
    /// never touched, so it costs address space, not memory.)
    #[cfg(target_os = "linux")]
    fn mapped(len: usize) -> Option<Storage> {
        let bytes = len.checked_mul(8)?;
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
    fn mapped(_len: usize) -> Option<Storage> {
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

    /// The words.
    #[inline]
    pub fn as_slice(&self) -> &[u64] {
        match &self.storage {
            Storage::Heap(words) => words,
            #[cfg(target_os = "linux")]
            Storage::Mapped { map, offset } => map
                .get(*offset..*offset + self.len * 8)
                .and_then(|bytes| bytemuck::try_cast_slice(bytes).ok())
                .unwrap_or_default(),
        }
    }

    /// The words, to change them.
    pub fn as_mut_slice(&mut self) -> &mut [u64] {
        let len = self.len;
        match &mut self.storage {
            Storage::Heap(words) => words,
            #[cfg(target_os = "linux")]
            Storage::Mapped { map, offset } => map
                .get_mut(*offset..*offset + len * 8)
                .and_then(|bytes| bytemuck::try_cast_slice_mut(bytes).ok())
                .unwrap_or_default(),
        }
    }
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
            assert_eq!(words.as_slice().len(), len);
            assert!(words.as_slice().iter().all(|&w| w == u64::MAX - 1));
            for i in (0..len).step_by(997) {
                if let Some(w) = words.as_mut_slice().get_mut(i) {
                    *w = i as u64 * 3;
                }
            }
            for i in (0..len).step_by(997) {
                assert_eq!(words.as_slice().get(i), Some(&(i as u64 * 3)));
            }
            if cfg!(target_os = "linux") && len * 8 >= MAP_AT_LEAST {
                assert!(words.is_mapped());
                assert_eq!(words.as_slice().as_ptr() as usize % HUGE_PAGE, 0);
                assert_eq!(words.mapped_bytes(), (len * 8).next_multiple_of(HUGE_PAGE));
            } else {
                assert!(!words.is_mapped());
                assert_eq!(words.mapped_bytes(), 0);
            }
        }
    }
}
