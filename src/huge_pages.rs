//! The process heap on transparent huge pages (Linux with glibc).
//!
//! A large compiled policy keeps its rules (104 bytes each) and its source
//! text (which rules' patterns are ranges of) on the heap: at a million
//! rules some 200 MB, of which a lookup reads a rule and its pattern text at
//! random. On 4 KiB pages those reads also miss the TLB (the index's own
//! tables are on huge pages already: `engine::words`). The library cannot
//! advise memory the allocator owns without `unsafe`, but glibc's malloc
//! puts everything it maps on transparent huge pages when the process
//! starts with `GLIBC_TUNABLES=glibc.malloc.hugetlb=1` (glibc 2.35 and
//! later; read only at start). So a long-running process that wants it
//! executes itself once more with that setting added: `arnmap serve` and
//! the bench suite do ([`reexec_with_huge_page_heap`]).
//!
//! Measured with the bench suite's loop (`ARNMAP_BENCH_PROFILE_LOOKUPS`) at
//! 1M rules: about 205 ns per lookup without, 176 ns with (docs/bench.md).
//! The cost is memory: the heap grows in 2 MiB pages. `ARNMAP_HUGE_PAGES=0`
//! turns it off (and a profiler that follows no `exec`, such as valgrind,
//! needs it off).

use std::ffi::{OsStr, OsString};

/// The environment variable that turns the re-execution off (`0`).
pub const OPT_OUT: &str = "ARNMAP_HUGE_PAGES";

/// glibc's tunable that puts malloc's memory on huge pages, as the start of
/// its `GLIBC_TUNABLES` entry (`1`: transparent huge pages).
const HUGETLB: &str = "glibc.malloc.hugetlb=";

/// The value of the hugetlb tunable in a `GLIBC_TUNABLES` value
/// (`name=value` entries separated by `:`), if it is set.
fn hugetlb(tunables: &str) -> Option<&str> {
    tunables
        .split(':')
        .find_map(|entry| entry.strip_prefix(HUGETLB))
}

/// The `GLIBC_TUNABLES` value to run with, given the current one: the
/// current tunables with `glibc.malloc.hugetlb=1` added. `None` when nothing is to be
/// done: the hugetlb tunable is set already (by us or by the operator), the
/// opt-out says `0`, or the current value is not UTF-8.
pub fn tunables_with_huge_pages(
    current: Option<&OsStr>,
    opt_out: Option<&OsStr>,
) -> Option<String> {
    if opt_out.is_some_and(|v| v == "0") {
        return None;
    }
    let current = match current {
        Some(value) => value.to_str()?,
        None => "",
    };
    if hugetlb(current).is_some() {
        return None;
    }
    Some(if current.is_empty() {
        format!("{HUGETLB}1")
    } else {
        format!("{current}:{HUGETLB}1")
    })
}

/// Executes the current program again, with the same arguments and
/// environment plus glibc's huge-page tunable, unless
/// [`tunables_with_huge_pages`] says there is nothing to do. Returns only
/// when it did not execute: `None` if there was nothing to do (or the
/// system is not Linux with glibc), the error if the program could not be
/// executed (the caller goes on without huge pages).
pub fn reexec_with_huge_page_heap() -> Option<std::io::Error> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        let value = tunables_with_huge_pages(
            std::env::var_os("GLIBC_TUNABLES").as_deref(),
            std::env::var_os(OPT_OUT).as_deref(),
        )?;
        let exe = match std::env::current_exe() {
            Ok(exe) => exe,
            Err(e) => return Some(e),
        };
        let mut args = std::env::args_os();
        let arg0: Option<OsString> = args.next();
        let mut command = std::process::Command::new(exe);
        command.args(args).env("GLIBC_TUNABLES", value);
        if let Some(arg0) = arg0 {
            command.arg0(arg0);
        }
        // `exec` returns only if it failed.
        Some(command.exec())
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

/// Does this process run with glibc's huge-page tunable on (as far as its
/// environment says: `1`, transparent huge pages, or `2`, reserved ones)?
pub fn heap_on_huge_pages() -> bool {
    huge_pages_in(std::env::var_os("GLIBC_TUNABLES").as_deref())
}

/// Does this `GLIBC_TUNABLES` value turn the hugetlb tunable on?
fn huge_pages_in(tunables: Option<&OsStr>) -> bool {
    tunables
        .and_then(OsStr::to_str)
        .and_then(hugetlb)
        .is_some_and(|value| value != "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tunable_is_added_once_and_only_when_wanted() {
        let os = |s: &str| OsString::from(s);
        assert_eq!(
            tunables_with_huge_pages(None, None).as_deref(),
            Some("glibc.malloc.hugetlb=1")
        );
        assert_eq!(
            tunables_with_huge_pages(Some(&os("glibc.malloc.arena_max=2")), None).as_deref(),
            Some("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1")
        );
        // Set already, by us or by the operator (any value): left alone, so
        // the re-executed process does not execute again.
        for set in [
            "glibc.malloc.hugetlb=1",
            "glibc.malloc.hugetlb=0",
            "a=1:glibc.malloc.hugetlb=2",
        ] {
            assert_eq!(
                tunables_with_huge_pages(Some(&os(set)), None),
                None,
                "{set}"
            );
        }
        assert_eq!(tunables_with_huge_pages(None, Some(&os("0"))), None);
        assert!(tunables_with_huge_pages(None, Some(&os("1"))).is_some());
    }

    #[test]
    fn the_heap_is_on_huge_pages_when_the_tunable_says_so() {
        let on = |s: &str| huge_pages_in(Some(&OsString::from(s)));
        assert!(on("glibc.malloc.hugetlb=1"));
        assert!(on("glibc.malloc.arena_max=4:glibc.malloc.hugetlb=2"));
        assert!(!on("glibc.malloc.hugetlb=0"));
        assert!(!on("glibc.malloc.arena_max=4"));
        assert!(!on("glibc.malloc.hugetlbx=1"));
        assert!(!huge_pages_in(None));
    }
}
