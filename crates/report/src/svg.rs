//! Charts as inline SVG: lines, grouped bars, intervals and a heat map,
//! each with axes, units and a legend. Colours are CSS classes, so the
//! HTML page's light and dark themes both apply; no script, no network.

use std::fmt::Write;

use super::fmt::num;

const W: f64 = 720.0;
const H: f64 = 380.0;
const LEFT: f64 = 78.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 58.0;

/// A named line of points.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// `(x, y)` points in data units.
    pub points: Vec<(f64, f64)>,
}

/// How the x axis maps values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum XScale {
    /// Linear.
    Linear,
    /// Percentiles on a log axis of 1/(1 − q), HdrHistogram's plot: x is a
    /// quantile in [0, 1).
    Percentile,
}

/// A chart.
#[derive(Debug, Clone)]
pub enum Chart {
    /// Lines over a shared x axis.
    Line {
        /// Title.
        title: String,
        /// X axis label with its unit.
        x_label: String,
        /// Y axis label with its unit.
        y_label: String,
        /// How x maps.
        x_scale: XScale,
        /// The lines.
        series: Vec<Series>,
    },
    /// Horizontal bars, grouped by category.
    Bars {
        /// Title.
        title: String,
        /// Value axis label with its unit.
        value_label: String,
        /// One group per category.
        categories: Vec<String>,
        /// `(legend, one value per category)`.
        series: Vec<(String, Vec<f64>)>,
    },
    /// Points with 95% intervals against a zero line.
    Intervals {
        /// Title.
        title: String,
        /// Value axis label with its unit.
        value_label: String,
        /// `(label, estimate, interval)`.
        rows: Vec<(String, f64, [f64; 2])>,
    },
    /// A matrix of values, darker for more.
    Heat {
        /// Title.
        title: String,
        /// What a cell means, with its unit.
        value_label: String,
        /// Row labels (from).
        rows: Vec<String>,
        /// Column labels (to).
        cols: Vec<String>,
        /// `values[row][col]`.
        values: Vec<Vec<f64>>,
    },
    /// Flows between nodes laid out in columns (a Sankey diagram): node
    /// and band heights are to scale.
    Sankey {
        /// Title.
        title: String,
        /// What a band's width counts, with its unit.
        value_label: String,
        /// Column titles.
        columns: Vec<String>,
        /// `(column, label, colour, value)`; `None` colours a node grey.
        nodes: Vec<(usize, String, Option<usize>, f64)>,
        /// `(from, to, value)` between nodes of earlier and later columns.
        links: Vec<(usize, usize, f64)>,
    },
}

/// Text escaped for HTML and SVG (also in attribute values).
pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Round tick positions covering `[lo, hi]`.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).abs().max(1e-12);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step =
        [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| span / s <= 6.0).unwrap_or(10.0 * mag);
    let mut t = (lo / step).floor() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 {
        if t >= lo - step * 1e-9 {
            out.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        }
        t += step;
    }
    out
}

/// A tick label: thousands separators, few decimals.
fn label(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 || a == 0.0 {
        num(x, 0)
    } else if a >= 1.0 {
        let s = num(x, 1);
        s.strip_suffix(".0").map_or(s.clone(), str::to_owned)
    } else {
        let s = format!("{x:.3}");
        s.trim_end_matches('0').to_owned()
    }
}

fn open(out: &mut String, title: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title><text class="title" x="{x}" y="22">{t}</text>"#,
        t = esc(title),
        x = LEFT
    );
}

fn legend(out: &mut String, names: &[&str]) {
    let mut x = LEFT;
    for (i, name) in names.iter().enumerate() {
        let _ = write!(
            out,
            r#"<rect class="c{c}" x="{x:.1}" y="{y:.1}" width="12" height="12"/><text class="legend" x="{tx:.1}" y="{ty:.1}">{n}</text>"#,
            c = i % 8,
            y = H - 18.0,
            tx = x + 16.0,
            ty = H - 8.0,
            n = esc(name)
        );
        x += 28.0 + 7.0 * name.chars().count() as f64;
    }
}

impl Chart {
    /// The chart's title.
    pub fn title(&self) -> &str {
        match self {
            Chart::Line { title, .. }
            | Chart::Bars { title, .. }
            | Chart::Intervals { title, .. }
            | Chart::Heat { title, .. }
            | Chart::Sankey { title, .. } => title,
        }
    }

    /// The chart as an `<svg>` element.
    pub fn svg(&self) -> String {
        let mut out = String::new();
        open(&mut out, self.title());
        match self {
            Chart::Line { x_label, y_label, x_scale, series, .. } => {
                line(&mut out, x_label, y_label, *x_scale, series)
            }
            Chart::Bars { value_label, categories, series, .. } => {
                bars(&mut out, value_label, categories, series)
            }
            Chart::Intervals { value_label, rows, .. } => intervals(&mut out, value_label, rows),
            Chart::Heat { value_label, rows, cols, values, .. } => {
                heat(&mut out, value_label, rows, cols, values)
            }
            Chart::Sankey { value_label, columns, nodes, links, .. } => {
                sankey(&mut out, value_label, columns, nodes, links)
            }
        }
        out.push_str("</svg>");
        out
    }
}

fn axis_labels(out: &mut String, x_label: &str, y_label: &str) {
    let _ = write!(
        out,
        r#"<text class="axis-label" x="{x:.1}" y="{y:.1}" text-anchor="middle">{xl}</text><text class="axis-label" transform="translate(16 {ty:.1}) rotate(-90)" text-anchor="middle">{yl}</text>"#,
        x = LEFT + (W - LEFT - RIGHT) / 2.0,
        y = H - 30.0,
        ty = TOP + (H - TOP - BOTTOM) / 2.0,
        xl = esc(x_label),
        yl = esc(y_label)
    );
}

fn line(out: &mut String, x_label: &str, y_label: &str, x_scale: XScale, series: &[Series]) {
    let fx = |x: f64| match x_scale {
        XScale::Linear => x,
        XScale::Percentile => (1.0 / (1.0 - x.min(1.0 - 1e-9))).log10(),
    };
    let pts = || series.iter().flat_map(|s| s.points.iter()).filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x0, mut x1) = pts().fold((f64::MAX, f64::MIN), |(a, b), &(x, _)| (a.min(fx(x)), b.max(fx(x))));
    let y1 = pts().fold(f64::MIN, |b, &(_, y)| b.max(y));
    let y0 = pts().fold(0.0f64, |a, &(_, y)| a.min(y));
    if x0 > x1 {
        (x0, x1) = (0.0, 1.0);
    }
    if x1 - x0 < 1e-12 {
        x1 = x0 + 1.0;
    }
    if x_scale == XScale::Percentile {
        // End the axis on a round percentile (90%, 99%, 99.9%…).
        (x0, x1) = (0.0, x1.ceil().max(1.0));
    }
    let y1 = if y1 <= y0 { y0 + 1.0 } else { y1 * 1.05 };
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let px = |x: f64| LEFT + (fx(x) - x0) / (x1 - x0) * pw;
    let py = |y: f64| TOP + ph - (y - y0) / (y1 - y0) * ph;
    // Grid and ticks.
    for t in ticks(y0, y1) {
        let y = py(t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{x2:.1}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{tx:.1}" y="{ty:.1}" text-anchor="end">{l}</text>"#,
            x2 = W - RIGHT,
            tx = LEFT - 6.0,
            ty = y + 4.0,
            l = label(t)
        );
    }
    let xticks: Vec<(f64, String)> = match x_scale {
        XScale::Linear => ticks(x0, x1).into_iter().map(|t| (t, label(t))).collect(),
        XScale::Percentile => (0..=((x1.ceil()) as i32))
            .map(|k| {
                let q = 1.0 - 10f64.powi(-k);
                let text = match k {
                    0 => "0%".to_owned(),
                    1 => "90%".to_owned(),
                    k => format!(
                        "{}%",
                        "9".repeat(2)
                            + &if k > 2 { format!(".{}", "9".repeat(k as usize - 2)) } else { String::new() }
                    ),
                };
                (q, text)
            })
            .collect(),
    };
    for (t, text) in xticks {
        let x = px(t);
        if !(LEFT - 1.0..=W - RIGHT + 1.0).contains(&x) {
            continue;
        }
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{y2:.1}"/><text class="tick" x="{x:.1}" y="{ty:.1}" text-anchor="middle">{text}</text>"#,
            y2 = TOP + ph,
            ty = TOP + ph + 16.0
        );
    }
    let _ =
        write!(out, r#"<path class="axis" d="M{LEFT} {TOP}V{b:.1}H{r:.1}"/>"#, b = TOP + ph, r = W - RIGHT);
    for (i, s) in series.iter().enumerate() {
        let mut d = String::new();
        for &(x, y) in s.points.iter().filter(|(x, y)| x.is_finite() && y.is_finite()) {
            let _ = write!(d, "{}{:.1} {:.1}", if d.is_empty() { "M" } else { "L" }, px(x), py(y));
        }
        if !d.is_empty() {
            let _ = write!(
                out,
                r#"<path class="line s{c}" d="{d}"><title>{n}</title></path>"#,
                c = i % 8,
                n = esc(&s.name)
            );
        }
    }
    axis_labels(out, x_label, y_label);
    legend(out, &series.iter().map(|s| s.name.as_str()).collect::<Vec<_>>());
}

/// Vertical grid lines and labels of a horizontal value axis.
fn value_ticks(out: &mut String, lo: f64, hi: f64, px: &dyn Fn(f64) -> f64, ph: f64) {
    for t in ticks(lo, hi) {
        let x = px(t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{y2:.1}"/><text class="tick" x="{x:.1}" y="{ty:.1}" text-anchor="middle">{l}</text>"#,
            y2 = TOP + ph,
            ty = TOP + ph + 16.0,
            l = label(t)
        );
    }
}

/// The label of a horizontal value axis, centred on `x`.
fn value_label_at(out: &mut String, x: f64, text: &str) {
    let _ = write!(
        out,
        r#"<text class="axis-label" x="{x:.1}" y="{y:.1}" text-anchor="middle">{l}</text>"#,
        y = H - 30.0,
        l = esc(text)
    );
}

fn bars(out: &mut String, value_label: &str, categories: &[String], series: &[(String, Vec<f64>)]) {
    // Room for the longest category at about 6 px a character, up to a
    // third of the chart.
    let longest = categories.iter().map(|c| c.chars().count()).max().unwrap_or(0);
    let label_w = (longest as f64 * 6.0 + 12.0).clamp(130.0, W / 3.0);
    let left = LEFT.max(label_w);
    let (pw, ph) = (W - left - RIGHT, H - TOP - BOTTOM);
    let vals = || series.iter().flat_map(|(_, v)| v.iter()).copied().filter(|v| v.is_finite());
    let hi = vals().fold(0.0f64, f64::max);
    let lo = vals().fold(0.0f64, f64::min);
    let hi = if hi <= lo { lo + 1.0 } else { hi * 1.05 };
    let px = |v: f64| left + (v - lo) / (hi - lo) * pw;
    value_ticks(out, lo, hi, &px, ph);
    let group = ph / categories.len().max(1) as f64;
    let bar = (group * 0.8 / series.len().max(1) as f64).min(22.0);
    for (k, cat) in categories.iter().enumerate() {
        let gy = TOP + k as f64 * group;
        let _ = write!(
            out,
            r#"<text class="tick" x="{x:.1}" y="{y:.1}" text-anchor="end">{c}</text>"#,
            x = left - 6.0,
            y = gy + group / 2.0 + 4.0,
            c = esc(cat)
        );
        for (i, (name, values)) in series.iter().enumerate() {
            let v = values.get(k).copied().unwrap_or(0.0);
            if !v.is_finite() {
                continue;
            }
            let (a, b) = (px(0.0f64.max(lo)), px(v));
            let y = gy + (group - bar * series.len() as f64) / 2.0 + i as f64 * bar;
            let _ = write!(
                out,
                r#"<path class="bar c{c}" d="M{x:.1} {y:.1}H{x2:.1}V{y2:.1}H{x:.1}Z"><title>{n} · {cat}: {v}</title></path>"#,
                c = i % 8,
                x = a.min(b),
                x2 = a.max(b).max(a.min(b) + 0.5),
                y2 = y + bar * 0.9,
                n = esc(name),
                cat = esc(cat),
                v = num(v, if v.abs() >= 100.0 { 0 } else { 3 })
            );
        }
    }
    let _ =
        write!(out, r#"<path class="axis" d="M{left} {TOP}V{b:.1}H{r:.1}"/>"#, b = TOP + ph, r = W - RIGHT);
    value_label_at(out, left + pw / 2.0, value_label);
    legend(out, &series.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>());
}

fn intervals(out: &mut String, value_label: &str, rows: &[(String, f64, [f64; 2])]) {
    let left = 150.0;
    let (pw, ph) = (W - left - RIGHT, H - TOP - BOTTOM);
    let all = rows.iter().flat_map(|(_, v, ci)| [*v, ci[0], ci[1]]).filter(|v| v.is_finite());
    let (lo, hi) = all.fold((0.0f64, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let pad = (hi - lo).max(1e-9) * 0.08;
    let (lo, hi) = (lo - pad, hi + pad);
    let px = |v: f64| left + (v - lo) / (hi - lo) * pw;
    value_ticks(out, lo, hi, &px, ph);
    let _ = write!(out, r#"<path class="zero" d="M{x:.1} {TOP}V{b:.1}"/>"#, x = px(0.0), b = TOP + ph);
    let row_h = ph / rows.len().max(1) as f64;
    for (k, (name, v, ci)) in rows.iter().enumerate() {
        let y = TOP + (k as f64 + 0.5) * row_h;
        let significant = ci[0] > 0.0 || ci[1] < 0.0;
        let class = if significant { "c0" } else { "c1" };
        let _ = write!(
            out,
            r#"<text class="tick" x="{lx:.1}" y="{ty:.1}" text-anchor="end">{n}</text><path class="whisker {class}" d="M{a:.1} {y:.1}H{b:.1}M{a:.1} {y0:.1}V{y1:.1}M{b:.1} {y0:.1}V{y1:.1}"/><path class="dot {class}" d="M{x0:.1} {y:.1}a5 5 0 1 0 10 0a5 5 0 1 0 -10 0Z"><title>{n}: {vv} [{l0}, {l1}]</title></path>"#,
            lx = left - 8.0,
            ty = y + 4.0,
            n = esc(name),
            a = px(ci[0]),
            b = px(ci[1]),
            y0 = y - 6.0,
            y1 = y + 6.0,
            x0 = px(*v) - 5.0,
            vv = num(*v, 1),
            l0 = num(ci[0], 1),
            l1 = num(ci[1], 1)
        );
    }
    let _ = write!(out, r#"<path class="axis" d="M{left} {b:.1}H{r:.1}"/>"#, b = TOP + ph, r = W - RIGHT);
    value_label_at(out, left + pw / 2.0, value_label);
    legend(out, &["interval excludes 0", "interval includes 0"]);
}

fn heat(out: &mut String, value_label: &str, rows: &[String], cols: &[String], values: &[Vec<f64>]) {
    let left = 120.0;
    let top = TOP + 60.0;
    let (pw, ph) = (W - left - RIGHT, H - top - BOTTOM + 20.0);
    let (cw, rh) = (pw / cols.len().max(1) as f64, ph / rows.len().max(1) as f64);
    let max = values.iter().flatten().copied().fold(0.0f64, f64::max).max(1e-12);
    for (j, c) in cols.iter().enumerate() {
        let x = left + (j as f64 + 0.5) * cw;
        let _ = write!(
            out,
            r#"<text class="tick" transform="translate({x:.1} {y:.1}) rotate(-40)">{c}</text>"#,
            y = top - 6.0,
            c = esc(c)
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + i as f64 * rh;
        let _ = write!(
            out,
            r#"<text class="tick" x="{x:.1}" y="{ty:.1}" text-anchor="end">{r}</text>"#,
            x = left - 6.0,
            ty = y + rh / 2.0 + 4.0,
            r = esc(r)
        );
        for (j, c) in cols.iter().enumerate() {
            let v = values.get(i).and_then(|row| row.get(j)).copied().unwrap_or(0.0);
            let x = left + j as f64 * cw;
            let opacity = if v > 0.0 { 0.12 + 0.88 * (v / max).sqrt() } else { 0.0 };
            let _ = write!(
                out,
                r#"<path class="cell" fill-opacity="{opacity:.3}" d="M{x:.1} {y:.1}h{w:.1}v{h:.1}h-{w:.1}Z"><title>{r} → {c}: {v}</title></path>"#,
                w = cw - 1.0,
                h = rh - 1.0,
                r = esc(r),
                c = esc(c),
                v = heat_value(v)
            );
            // The value in the cell, when it has room and is not 0; light
            // text on the darker cells.
            if v > 0.0 && cw >= 30.0 && rh >= 14.0 {
                let class = if opacity > 0.55 { "cell-value on-dark" } else { "cell-value" };
                let _ = write!(
                    out,
                    r#"<text class="{class}" x="{tx:.1}" y="{ty:.1}" text-anchor="middle">{v}</text>"#,
                    tx = x + cw / 2.0,
                    ty = y + rh / 2.0 + 4.0,
                    v = heat_value(v)
                );
            }
        }
    }
    heat_scale(out, left + pw, max);
    let _ = write!(
        out,
        r#"<text class="axis-label" x="{x:.1}" y="{y:.1}" text-anchor="middle">{l} (rows: from, columns: to; darker is more)</text>"#,
        x = left + pw / 2.0,
        y = H - 8.0,
        l = esc(value_label)
    );
}

/// How tall each node of a Sankey diagram is, in its values: the most of
/// its own value, its inflow and its outflow.
fn node_sizes(nodes: &[(usize, String, Option<usize>, f64)], links: &[(usize, usize, f64)]) -> Vec<f64> {
    let mut size: Vec<f64> = nodes.iter().map(|n| n.3.max(0.0)).collect();
    let (mut inflow, mut outflow) = (vec![0.0; nodes.len()], vec![0.0; nodes.len()]);
    for &(a, b, v) in links {
        outflow[a] += v;
        inflow[b] += v;
    }
    for (i, s) in size.iter_mut().enumerate() {
        *s = s.max(inflow[i]).max(outflow[i]);
    }
    size
}

/// Where each band leaves its source node and arrives at its target, from
/// the nodes' tops `y`. Each node's bands leave in the order of where they
/// arrive, and arrive in the order of where they leave, so they cross as
/// little as they can.
fn band_ends(links: &[(usize, usize, f64)], y: &[f64], scale: f64) -> (Vec<f64>, Vec<f64>) {
    let mut out_y = vec![0.0; links.len()];
    let mut in_y = vec![0.0; links.len()];
    let mut order: Vec<usize> = (0..links.len()).collect();
    order.sort_by(|&i, &j| y[links[i].1].total_cmp(&y[links[j].1]));
    let mut at = y.to_vec();
    for &k in &order {
        out_y[k] = at[links[k].0];
        at[links[k].0] += links[k].2 * scale;
    }
    order.sort_by(|&i, &j| y[links[i].0].total_cmp(&y[links[j].0]));
    let mut at = y.to_vec();
    for &k in &order {
        in_y[k] = at[links[k].1];
        at[links[k].1] += links[k].2 * scale;
    }
    (out_y, in_y)
}

/// Nodes stacked in their columns, heights to one scale (the fullest
/// column fills the plot), and bands from each node's right edge to the
/// next node's left edge, stacked in link order on both sides.
fn sankey(
    out: &mut String,
    value_label: &str,
    columns: &[String],
    nodes: &[(usize, String, Option<usize>, f64)],
    links: &[(usize, usize, f64)],
) {
    const NODE_W: f64 = 10.0;
    const GAP: f64 = 8.0;
    let (left, right, top) = (24.0, W - 110.0, TOP + 22.0);
    let ph = H - top - 30.0;
    let n_cols = columns.len().max(2);
    let x_of = |c: usize| left + c as f64 * (right - left - NODE_W) / (n_cols - 1) as f64;
    let size = node_sizes(nodes, links);
    let mut scale = f64::INFINITY;
    for c in 0..columns.len() {
        let members: Vec<usize> = (0..nodes.len()).filter(|&i| nodes[i].0 == c).collect();
        let total: f64 = members.iter().map(|&i| size[i]).sum();
        if total > 0.0 {
            let room = ph - GAP * members.len().saturating_sub(1) as f64;
            scale = scale.min(room.max(1.0) / total);
        }
    }
    if !scale.is_finite() {
        scale = 0.0;
    }
    let mut y = vec![0.0; nodes.len()];
    for (c, title) in columns.iter().enumerate() {
        let anchor = if c == 0 {
            "start"
        } else if c + 1 == columns.len() {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            out,
            r#"<text class="tick" x="{x:.1}" y="{ty:.1}" text-anchor="{anchor}">{t}</text>"#,
            x = x_of(c) + NODE_W / 2.0,
            ty = top - 8.0,
            t = esc(title)
        );
        let mut at = top;
        for i in (0..nodes.len()).filter(|&i| nodes[i].0 == c) {
            y[i] = at;
            at += size[i] * scale + GAP;
        }
    }
    let (out_y, in_y) = band_ends(links, &y, scale);
    for (k, &(a, b, v)) in links.iter().enumerate() {
        let h = v * scale;
        let (x0, x1) = (x_of(nodes[a].0) + NODE_W, x_of(nodes[b].0));
        let (y0, y1) = (out_y[k], in_y[k]);
        let xm = (x0 + x1) / 2.0;
        let colour = nodes[a].2.or(nodes[b].2).map_or("grey".to_owned(), |c| format!("c{}", c % 8));
        let _ = write!(
            out,
            r#"<path class="link {colour}" d="M{x0:.1} {y0:.1}C{xm:.1} {y0:.1} {xm:.1} {y1:.1} {x1:.1} {y1:.1}V{y1h:.1}C{xm:.1} {y1h:.1} {xm:.1} {y0h:.1} {x0:.1} {y0h:.1}Z"><title>{from} → {to}: {v}</title></path>"#,
            y1h = y1 + h,
            y0h = y0 + h,
            from = esc(&nodes[a].1),
            to = esc(&nodes[b].1),
            v = heat_value(v)
        );
    }
    for (i, (c, name, colour, _)) in nodes.iter().enumerate() {
        let h = (size[i] * scale).max(1.0);
        let class = colour.map_or("node grey".to_owned(), |k| format!("node c{}", k % 8));
        let _ = write!(
            out,
            r#"<path class="{class}" d="M{x:.1} {y:.1}h{NODE_W}v{h:.1}h-{NODE_W}Z"><title>{n}: {v}</title></path>"#,
            x = x_of(*c),
            y = y[i],
            n = esc(name),
            v = heat_value(size[i])
        );
        if h >= 9.0 && columns.get(*c) != Some(name) {
            let _ = write!(
                out,
                r#"<text class="tick" x="{x:.1}" y="{ty:.1}">{n}</text>"#,
                x = x_of(*c) + NODE_W + 4.0,
                ty = y[i] + h.min(24.0) / 2.0 + 4.0,
                n = esc(name)
            );
        }
    }
    let _ = write!(
        out,
        r#"<text class="axis-label" x="{x:.1}" y="{y:.1}" text-anchor="middle">{l}</text>"#,
        x = W / 2.0,
        y = H - 8.0,
        l = esc(value_label)
    );
}

/// A cell's value, short: two significant decimals below 1.
fn heat_value(v: f64) -> String {
    if v < 1.0 { num(v, 2) } else { num(v, 1) }
}

/// The colour scale: five swatches from 0 to the largest value, right
/// aligned at `right`, level with the title.
fn heat_scale(out: &mut String, right: f64, max: f64) {
    let (w, h, y) = (18.0, 10.0, TOP - 16.0);
    let x0 = right - 5.0 * w;
    for k in 0..5 {
        let share = k as f64 / 4.0;
        let opacity = if share > 0.0 { 0.12 + 0.88 * share.sqrt() } else { 0.04 };
        let _ = write!(
            out,
            r#"<path class="cell" fill-opacity="{opacity:.3}" d="M{x:.1} {y:.1}h{w:.1}v{h:.1}h-{w:.1}Z"/>"#,
            x = x0 + k as f64 * w
        );
    }
    let _ = write!(
        out,
        r#"<text class="tick" x="{x0:.1}" y="{ty:.1}" text-anchor="end">0 </text><text class="tick" x="{right:.1}" y="{ty:.1}" text-anchor="start"> {m}</text>"#,
        ty = y + h - 1.0,
        m = heat_value(max)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let t = ticks(0.0, 37.0);
        assert!(t.first() == Some(&0.0) && *t.last().unwrap() <= 37.0 && t.len() >= 4);
    }

    #[test]
    fn every_chart_draws_paths_with_a_title_and_escapes_text() {
        let chart = Chart::Line {
            title: "a <b>".into(),
            x_label: "x (s)".into(),
            y_label: "y (ms)".into(),
            x_scale: XScale::Percentile,
            series: vec![Series { name: "all".into(), points: vec![(0.0, 1.0), (0.99, 5.0), (0.999, 9.0)] }],
        };
        let svg = chart.svg();
        assert!(
            svg.contains("a &lt;b&gt;") && svg.contains(r#"class="line s0" d="M"#) && svg.contains("99.9%")
        );
    }
}
