//! A pull request writes its own tree objects: odd modes (`100600`, `40755`,
//! `170000`), names that sort next to folders, files turning into folders,
//! links and gitlinks. Two trees generated from the input must give the same
//! changes through govops' fast tree walk as through libgit2's tree diff,
//! read as git reads modes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = govops::collect::git::differential::check(data) {
        panic!("{e}");
    }
});
