//! The dashboard (`govops stats --format html`): one self-contained HTML
//! file, no script, no external resource (nothing is fetched when it is
//! opened), charts as inline SVG, light and dark mode from the reader's
//! `prefers-color-scheme`.

use super::metrics::{measure, Report, Row};
use super::render::{duration, pct};
use super::svg::{self, esc, Series};
use super::{CommitRow, HUMAN};
use std::collections::{BTreeMap, BTreeSet};

const STYLE: &str = r#"
:root { color-scheme: light dark; --bg:#ffffff; --fg:#1f2328; --muted:#59636e; --grid:#d1d9e0;
  --c0:#0969da; --c1:#bf3989; --c2:#1a7f37; --c3:#9a6700; --c4:#8250df; --c5:#cf222e; --c6:#1b7c83; --c7:#6e7781; }
@media (prefers-color-scheme: dark) { :root { --bg:#0d1117; --fg:#e6edf3; --muted:#9198a1; --grid:#3d444d;
  --c0:#4493f8; --c1:#f778ba; --c2:#3fb950; --c3:#d29922; --c4:#ab7df8; --c5:#f85149; --c6:#39c5cf; --c7:#9198a1; } }
body { background:var(--bg); color:var(--fg); font:13px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif; margin:24px; max-width:1100px; }
h1 { font-size:22px; margin:0 0 4px; } h2 { font-size:17px; margin:28px 0 8px; }
.muted { color:var(--muted); }
svg { width:100%; max-width:760px; height:auto; display:block; color:var(--fg); }
svg text { fill:currentColor; font-size:12px; } svg .title { font-size:14px; font-weight:600; }
svg .tick, svg .legend, svg .val { font-size:11px; } svg .axis { font-size:12px; fill:var(--muted); }
svg .grid { stroke:var(--grid); stroke-width:1; } svg .axisline { stroke:var(--muted); stroke-width:1; }
svg .line { fill:none; stroke-width:2; } svg .dashed { stroke-dasharray:6 4; }
.wide { overflow-x:auto; }
.s0{fill:var(--c0)} .s1{fill:var(--c1)} .s2{fill:var(--c2)} .s3{fill:var(--c3)} .s4{fill:var(--c4)} .s5{fill:var(--c5)} .s6{fill:var(--c6)} .s7{fill:var(--c7)}
.l0{stroke:var(--c0)} .l1{stroke:var(--c1)} .l2{stroke:var(--c2)} .l3{stroke:var(--c3)} .l4{stroke:var(--c4)} .l5{stroke:var(--c5)} .l6{stroke:var(--c6)} .l7{stroke:var(--c7)}
table { border-collapse:collapse; margin-top:8px; } th, td { padding:4px 6px; border-bottom:1px solid var(--grid); text-align:right; white-space:nowrap; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align:left; }
th { font-weight:600; }
"#;

fn rate_series(name: &str, row: &Row, labels: bool) -> Series {
    let n = row.commits;
    let count = |k: u64| {
        if labels {
            format!("{k}/{n}")
        } else {
            String::new()
        }
    };
    let rework = |x: Option<f64>| x.map(|v| v * 100.0);
    Series {
        name: format!("{name} ({n} commits)"),
        values: vec![
            Some(row.revert_rate * 100.0),
            Some(row.fix_followup_rate * 100.0),
            rework(row.rework_14d),
            rework(row.rework_30d),
        ],
        labels: vec![
            count(row.reverted),
            count(row.fix_followups),
            row.rework_14d.map(pct).unwrap_or_default(),
            row.rework_30d.map(pct).unwrap_or_default(),
        ],
    }
}

/// Pull requests by time-to-merge bucket, AI (a commit of the PR has AI
/// evidence) vs human.
fn merge_buckets(commits: &[CommitRow]) -> (Vec<String>, Vec<Series>) {
    let bounds: [(i64, &str); 6] = [
        (3600, "< 1 h"),
        (4 * 3600, "1-4 h"),
        (86_400, "4-24 h"),
        (3 * 86_400, "1-3 d"),
        (7 * 86_400, "3-7 d"),
        (i64::MAX, "> 7 d"),
    ];
    let mut prs: BTreeMap<&str, (bool, i64)> = BTreeMap::new();
    for c in commits {
        if let (Some(m), Some(t)) = (&c.merged_by, c.time_to_merge_s) {
            let e = prs.entry(m).or_insert((false, t));
            e.0 |= !c.is_human();
        }
    }
    let mut ai = vec![0u64; bounds.len()];
    let mut human = vec![0u64; bounds.len()];
    for (is_ai, t) in prs.values() {
        let b = bounds
            .iter()
            .position(|(max, _)| t < max)
            .unwrap_or(bounds.len() - 1);
        if *is_ai {
            ai[b] += 1;
        } else {
            human[b] += 1;
        }
    }
    let series = |name: &str, v: &[u64]| Series {
        name: format!("{name} ({} PRs)", v.iter().sum::<u64>()),
        values: v.iter().map(|n| Some(*n as f64)).collect(),
        labels: v.iter().map(std::string::ToString::to_string).collect(),
    };
    (
        bounds.iter().map(|(_, l)| l.to_string()).collect(),
        vec![series("AI-assisted", &ai), series("human", &human)],
    )
}

fn table(rows: &[Row], with_model: bool) -> String {
    let mut s = String::from("<div class=\"wide\"><table><thead><tr><th>Tool</th>");
    if with_model {
        s.push_str("<th>Model</th>");
    }
    s.push_str("<th>Commits</th><th>Share</th><th>+Lines</th><th>−Lines</th><th>Reverted</th><th>Fix ≤7d</th><th>Rework 14d</th><th>Rework 30d</th><th>PRs</th><th>Merge (median)</th><th>Reviewed</th><th>Fail policy</th></tr></thead><tbody>");
    for r in rows {
        s.push_str(&format!(
            "<tr><td>{}</td>",
            esc(r.tool.as_deref().unwrap_or(""))
        ));
        if with_model {
            s.push_str(&format!(
                "<td>{}</td>",
                esc(r.model.as_deref().unwrap_or("—"))
            ));
        }
        let rework = |x: Option<f64>| x.map_or_else(|| "—".to_string(), pct);
        s.push_str(&format!(
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} ({})</td><td>{}</td></tr>",
            r.commits,
            pct(r.share),
            r.lines_added,
            r.lines_deleted,
            r.reverted,
            pct(r.revert_rate),
            r.fix_followups,
            pct(r.fix_followup_rate),
            rework(r.rework_14d),
            rework(r.rework_30d),
            r.merged_prs,
            r.median_time_to_merge_s.map_or_else(|| "—".to_string(), duration),
            r.reviewed,
            pct(r.review_rate),
            r.policy_failing
        ));
    }
    s.push_str("</tbody></table></div>");
    s
}

pub fn dashboard(report: &Report, repository: &str) -> String {
    let r = &report.range;
    let months: Vec<String> = report
        .months
        .iter()
        .filter_map(|m| m.month.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let tools: Vec<String> = report
        .tools
        .iter()
        .filter_map(|t| t.tool.clone())
        .filter(|t| t != HUMAN)
        .collect();
    let mut share_series: Vec<Series> = tools
        .iter()
        .map(|t| Series {
            name: t.clone(),
            values: months
                .iter()
                .map(|m| {
                    let found = report.months.iter().find(|row| {
                        row.month.as_deref() == Some(m) && row.tool.as_deref() == Some(t)
                    });
                    Some(found.map_or(0.0, |row| row.share * 100.0))
                })
                .collect(),
            labels: Vec::new(),
        })
        .collect();
    // All AI together: a commit with two tools counts once here.
    let ai_share: Vec<Option<f64>> = months
        .iter()
        .map(|m| {
            let of_month: Vec<&CommitRow> =
                report.commits.iter().filter(|c| &c.month == m).collect();
            let ai = of_month.iter().filter(|c| !c.is_human()).count();
            (!of_month.is_empty()).then(|| ai as f64 * 100.0 / of_month.len() as f64)
        })
        .collect();
    // Drawn last (dashed, over the tools' lines) so that it stays visible
    // where one tool makes up all of the AI commits.
    if tools.len() > 1 {
        share_series.push(Series {
            name: "any AI tool".into(),
            values: ai_share,
            labels: Vec::new(),
        });
    }
    let pct_fmt = |v: f64| format!("{v:.0}%");
    let share_chart = if months.is_empty() || share_series.is_empty() {
        "<p class=\"muted\">No AI-assisted commit in this range.</p>".to_string()
    } else {
        svg::lines(
            "AI-assisted share of commits per month, by tool",
            &months,
            &share_series,
            &pct_fmt,
            "share of the month's commits",
            Some(100.0),
        )
    };

    let end = report
        .commits
        .iter()
        .map(|c| c.commit_time)
        .max()
        .unwrap_or(0);
    let total = report.commits.len() as u64;
    let ai_rows: Vec<&CommitRow> = report.commits.iter().filter(|c| !c.is_human()).collect();
    let human_rows: Vec<&CommitRow> = report.commits.iter().filter(|c| c.is_human()).collect();
    let ai = measure(&ai_rows, total, end, report.rework_measured);
    let human = measure(&human_rows, total, end, report.rework_measured);
    let rates = svg::bars(
        "Revert, fix follow-up and rework rates: AI-assisted vs human",
        &[
            "reverted".into(),
            "fix follow-up ≤ 7 d".into(),
            "rework 14 d".into(),
            "rework 30 d".into(),
        ],
        &[
            rate_series("AI-assisted", &ai, true),
            rate_series("human", &human, true),
        ],
        &pct_fmt,
        "% of commits (rework: % of added lines)",
    );
    let (buckets, merge_series) = merge_buckets(&report.commits);
    let merges = svg::bars(
        "Time to merge: pull requests by duration",
        &buckets,
        &merge_series,
        &|v| format!("{v:.0}"),
        "pull requests",
    );
    let p = &report.policy;
    let rules: Vec<String> = p
        .by_rule
        .iter()
        .map(|(k, v)| format!("{} {}", esc(k), v))
        .collect();
    let range_text = match &r.base {
        Some(b) => format!(
            "{}..{}",
            &b[..7.min(b.len())],
            &r.head[..7.min(r.head.len())]
        ),
        None => format!("history of {}", &r.head[..7.min(r.head.len())]),
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>govops stats: {repo}</title><style>{STYLE}</style></head>
<body>
<h1>govops stats: {repo}</h1>
<p class="muted">{range} · {commits} commits ({merges} merges not counted) · {first} to {last} · {ai_n} AI-assisted ({ai_share}) · rework {rework}</p>
{shallow}<h2>AI share over time</h2>
{share_chart}
<h2>Reverts, fixes and rework</h2>
{rates}
<h2>Time to merge</h2>
<p class="muted">Median: AI-assisted {ai_ttm}, human {human_ttm}.</p>
{merges_chart}
<h2>Tools</h2>
{tools_table}
<h2>Models</h2>
{models_table}
<h2>Policy view</h2>
<p>{failing} of {ai_commits} AI-assisted commits would fail today's GOV-AI rules ({source}){rules}.</p>
<p class="muted">Definitions and their biases: <code>govops stats --explain</code>.</p>
</body></html>
"#,
        repo = esc(repository),
        shallow = if r.shallow {
            "<p><strong>Shallow clone:</strong> the history stops where it was cut; fetch it whole (actions/checkout with <code>fetch-depth: 0</code>).</p>\n"
        } else {
            ""
        },
        range = esc(&range_text),
        commits = r.commits,
        merges = r.merges,
        first = esc(r.first.as_deref().map_or("-", |f| &f[..10.min(f.len())])),
        last = esc(r.last.as_deref().map_or("-", |f| &f[..10.min(f.len())])),
        ai_n = ai.commits,
        ai_share = pct(ai.share),
        rework = if report.rework_measured {
            "measured"
        } else {
            "not measured"
        },
        ai_ttm = ai
            .median_time_to_merge_s
            .map_or_else(|| "—".into(), duration),
        human_ttm = human
            .median_time_to_merge_s
            .map_or_else(|| "—".into(), duration),
        merges_chart = merges,
        tools_table = table(&report.tools, false),
        models_table = table(&report.models, true),
        failing = p.failing,
        ai_commits = p.ai_commits,
        source = esc(&p.source),
        rules = if rules.is_empty() {
            String::new()
        } else {
            format!(": {}", rules.join(", "))
        },
    )
}
