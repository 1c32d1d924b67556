//! `.govops.yaml` comes from the repository: any bytes. The config loader
//! must answer with a config or with problems that name a line of the file,
//! never panic.
#![no_main]

use govops::config::ValidConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // Lines as YAML counts them: `\n`, `\r\n`, and a lone `\r` each end one.
    let lone_cr = bytes
        .windows(2)
        .filter(|w| w[0] == b'\r' && w[1] != b'\n')
        .count()
        + usize::from(bytes.last() == Some(&b'\r'));
    let lines = (bytes.iter().filter(|b| **b == b'\n').count() + lone_cr) as u32 + 2;
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
