//! A merge's own changes are found from the paths its sides changed since
//! the merge-base, without redoing the merge as a whole tree. For merges
//! generated from the input (both sides editing one file, retyping, moving a
//! file into a folder of the same name, unrelated histories, evil merges)
//! those changes must equal the ones against libgit2's whole remerge.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = govops::collect::git::differential::remerge_check(data) {
        panic!("{e}");
    }
});
