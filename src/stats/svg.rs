//! Inline SVG charts for the dashboard: a line chart and a grouped bar
//! chart, with axes, tick labels, a legend and a title. Colours are CSS
//! classes (`s0`..`s7`) so the page's stylesheet picks them for light and
//! dark mode; text uses `currentColor`.

/// Text for HTML and SVG: markup characters escaped; control characters
/// (which XML forbids and a browser would refuse in an SVG) dropped.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const W: f64 = 760.0;
const H: f64 = 320.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 70.0;

/// One series: its name and one value per category (None: no point).
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
    /// Text shown above each bar (counts), when any.
    pub labels: Vec<String>,
}

/// The top of the y axis: 5, 10, 20, 50, 100, 200, ... so that its five
/// divisions are whole numbers.
fn nice_max(max: f64) -> f64 {
    if max <= 5.0 {
        return 5.0;
    }
    let mag = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 5.0, 10.0] {
        if step * mag >= max {
            return step * mag;
        }
    }
    10.0 * mag
}

fn frame(title: &str, y_max: f64, y_fmt: &dyn Fn(f64) -> String, y_label: &str) -> String {
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" aria-label="{t}"><title>{t}</title><text class="title" x="{LEFT}" y="22">{t}</text>"#,
        t = esc(title)
    );
    let plot_h = H - TOP - BOTTOM;
    for i in 0..=5 {
        let v = y_max * f64::from(i) / 5.0;
        let y = TOP + plot_h - plot_h * f64::from(i) / 5.0;
        s.push_str(&format!(
            r#"<line class="grid" x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            esc(&y_fmt(v))
        ));
    }
    s.push_str(&format!(
        r#"<text class="axis" transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        TOP + plot_h / 2.0,
        esc(y_label)
    ));
    s.push_str(&format!(
        r#"<line class="axisline" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{:.1}"/><line class="axisline" x1="{LEFT}" x2="{}" y1="{:.1}" y2="{:.1}"/>"#,
        TOP + plot_h,
        W - RIGHT,
        TOP + plot_h,
        TOP + plot_h
    ));
    s
}

fn legend(series: &[Series]) -> String {
    let mut s = String::new();
    let mut x = LEFT;
    let y = H - 14.0;
    for (i, se) in series.iter().enumerate() {
        s.push_str(&format!(
            r#"<rect class="s{}" x="{x:.1}" y="{:.1}" width="12" height="12"/><text class="legend" x="{:.1}" y="{:.1}">{}</text>"#,
            i % 8,
            y - 10.0,
            x + 16.0,
            y,
            esc(&se.name)
        ));
        x += 28.0 + 7.0 * se.name.chars().count() as f64;
    }
    s
}

fn x_labels(categories: &[String], step: f64) -> String {
    let mut s = String::new();
    // Thin the labels so they never overlap (about 60 px each).
    #[allow(clippy::cast_sign_loss)] // step is a positive width
    let every = ((60.0 / step).ceil() as usize).max(1);
    for (i, c) in categories.iter().enumerate() {
        if i % every != 0 {
            continue;
        }
        let x = LEFT + step * (i as f64 + 0.5);
        s.push_str(&format!(
            r#"<text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            H - BOTTOM + 16.0,
            esc(c)
        ));
    }
    s
}

/// Lines over categories (months): one per series.
pub fn lines(
    title: &str,
    categories: &[String],
    series: &[Series],
    y_fmt: &dyn Fn(f64) -> String,
    y_label: &str,
    y_max: Option<f64>,
) -> String {
    let max = y_max.unwrap_or_else(|| {
        nice_max(
            series
                .iter()
                .flat_map(|s| s.values.iter().flatten())
                .fold(0.0, |a, b| a.max(*b)),
        )
    });
    let mut s = frame(title, max, y_fmt, y_label);
    let plot_h = H - TOP - BOTTOM;
    let step = (W - LEFT - RIGHT) / categories.len().max(1) as f64;
    for (i, se) in series.iter().enumerate() {
        let mut path = String::new();
        for (j, v) in se.values.iter().enumerate() {
            let Some(v) = v else { continue };
            let x = LEFT + step * (j as f64 + 0.5);
            let y = TOP + plot_h - plot_h * (v / max);
            path.push_str(&format!(
                "{}{x:.1},{y:.1} ",
                if path.is_empty() { "M" } else { "L" }
            ));
            s.push_str(&format!(
                r#"<circle class="s{} pt" cx="{x:.1}" cy="{y:.1}" r="3"><title>{}: {} {}</title></circle>"#,
                i % 8,
                esc(&se.name),
                esc(&categories[j]),
                esc(&y_fmt(*v))
            ));
        }
        s.push_str(&format!(
            r#"<path class="line l{}" d="{}"/>"#,
            i % 8,
            path.trim_end()
        ));
    }
    s.push_str(&x_labels(categories, step));
    s.push_str(&legend(series));
    s.push_str("</svg>");
    s
}

/// Grouped bars: for each category, one bar per series, its label above.
pub fn bars(
    title: &str,
    categories: &[String],
    series: &[Series],
    y_fmt: &dyn Fn(f64) -> String,
    y_label: &str,
) -> String {
    let max = nice_max(
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .fold(0.0, |a, b| a.max(*b)),
    );
    let mut s = frame(title, max, y_fmt, y_label);
    let plot_h = H - TOP - BOTTOM;
    let step = (W - LEFT - RIGHT) / categories.len().max(1) as f64;
    let bar = (step * 0.8) / series.len().max(1) as f64;
    for (i, se) in series.iter().enumerate() {
        for (j, v) in se.values.iter().enumerate() {
            let x = LEFT + step * j as f64 + step * 0.1 + bar * i as f64;
            let label = se.labels.get(j).cloned().unwrap_or_default();
            let Some(v) = v else {
                s.push_str(&format!(
                    r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">n/a</text>"#,
                    x + bar / 2.0,
                    TOP + plot_h - 4.0
                ));
                continue;
            };
            let h = plot_h * (v / max);
            let y = TOP + plot_h - h;
            s.push_str(&format!(
                r#"<rect class="s{}" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}"><title>{}: {} {} {}</title></rect>"#,
                i % 8,
                (bar - 2.0).max(1.0),
                esc(&se.name),
                esc(&categories[j]),
                esc(&y_fmt(*v)),
                esc(&label)
            ));
            if !label.is_empty() {
                s.push_str(&format!(
                    r#"<text class="val" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                    x + bar / 2.0,
                    y - 4.0,
                    esc(&label)
                ));
            }
        }
    }
    s.push_str(&x_labels(categories, step));
    s.push_str(&legend(series));
    s.push_str("</svg>");
    s
}
