//! `.govops.yaml` comes from the repository: any bytes. The config loader
//! must answer with a config or with problems that name a line of the file,
//! never panic.
#![no_main]

use govops::config::ValidConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let lines = bytes.split(|b| *b == b'\n').count() as u32 + 1;
    match ValidConfig::parse(bytes.to_vec(), ".govops.yaml".into()) {
        Ok(config) => {
            let _ = config.rule_references();
        }
        Err(e) => {
            assert!(!e.problems.is_empty(), "an error without a problem");
            for p in &e.problems {
                assert!(
                    p.line.is_none_or(|l| l >= 1 && l <= lines),
                    "{p:?} beyond {lines} lines"
                );
            }
            let _ = e.to_string();
        }
    }
});
