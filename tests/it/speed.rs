//! Speed work (issue #15) that must not change what the gate says: findings
//! located on several cores point where one-at-a-time locating did.

use crate::repo::{deployment, findings, Repo};

/// Forty files, each with a finding, enough for the parallel parse: every
/// finding points at its own file's line, and the files' lines differ (a
/// different number of comment lines on top), so a position taken from the
/// wrong file's parse would show.
#[test]
fn findings_in_many_files_point_at_their_own_lines() {
    let repo = Repo::gitops();
    for i in 0..40 {
        let comments = "# note\n".repeat(i % 7);
        let body = deployment(&format!("svc{i}"), "dev").replace("    cost-center: cc-100\n", "");
        repo.write(
            &format!("deploy/dev/svc{i:02}.yaml"),
            format!("{comments}{body}"),
        );
    }
    repo.commit("Add forty services without a cost center");
    let (code, report) = repo.check_json(&[]);
    assert_eq!(code, 1);
    let tag = findings(&report, "GOV-TAG-001");
    assert_eq!(tag.len(), 40);
    for f in tag {
        let file = f["file"].as_str().unwrap();
        let i: usize = file["deploy/dev/svc".len()..][..2].parse().unwrap();
        // The missing label points at `labels:` (line 6 of the plain
        // Deployment), below the file's comment lines.
        assert_eq!(
            (f["line"].as_u64(), f["column"].as_u64()),
            (Some(6 + (i % 7) as u64), Some(3)),
            "{file}"
        );
    }
}
