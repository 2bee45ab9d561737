//! The projection as an SVG chart: the 10th-90th percentile band, the median, the
//! mean-value path, the target line and the median month of reaching it. Hand-written
//! SVG in the style of `truce_warfire::svg_chart`: no plotting dependency.

use crate::force::{Projection, Reach};

fn nice_step(raw: f64) -> f64 {
    let p = 10f64.powf(raw.max(1e-9).log10().floor());
    let m = raw / p;
    p * if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Thousands with a `k`: `800k`, `1.2M`.
fn people(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6).replace(".00M", "M")
    } else {
        format!("{:.0}k", v / 1e3)
    }
}

/// The chart, 900 x 450 pixels.
pub fn svg_projection(p: &Projection, title: &str) -> String {
    let n = p.months.len();
    let ymax_raw = p
        .months
        .iter()
        .map(|m| m.p90.max(m.deterministic))
        .fold(p.target, f64::max)
        * 1.05;
    let ymin_raw = p
        .months
        .iter()
        .map(|m| m.p10.min(m.deterministic))
        .fold(p.target, f64::min)
        * 0.95;
    let step = nice_step((ymax_raw - ymin_raw).max(1.0) / 6.0);
    let (ymin, ymax) = (
        (ymin_raw / step).floor() * step,
        (ymax_raw / step).ceil() * step,
    );
    let (w, h, l, r, t, b) = (900.0, 450.0, 70.0, 20.0, 46.0, 72.0);
    // Month i is drawn at its end: x(i + 1); x(0) is the start of the first month.
    let x = |i: f64| l + (w - l - r) * i / (n.max(1) as f64);
    let y = |v: f64| t + (h - t - b) * (1.0 - (v - ymin) / (ymax - ymin));
    let line = |vals: &mut dyn Iterator<Item = f64>| -> String {
        vals.enumerate()
            .map(|(i, v)| {
                format!(
                    "{}{:.1},{:.1}",
                    if i == 0 { "M" } else { "L" },
                    x(i as f64 + 1.0),
                    y(v)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{l}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
        xml_escape(title)
    );
    let mut v = ymin;
    while v <= ymax + 1e-9 {
        s += &format!(
            "<line x1=\"{l}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            w - r,
            y(v),
            y(v),
            l - 6.0,
            y(v) + 4.0,
            people(v)
        );
        v += step;
    }
    // Month labels: every January and July (every January past 8 years).
    let every = if n > 96 { 12 } else { 6 };
    for i in 0..n {
        let m = p.months[i].month;
        if (m.month - 1).is_multiple_of(every) {
            s += &format!(
                "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1:.1}\" y2=\"{2:.1}\" stroke=\"#eee\"/><text x=\"{0:.1}\" y=\"{3:.1}\" text-anchor=\"middle\">{4}</text>\n",
                x(i as f64 + 1.0),
                t,
                h - b,
                h - b + 16.0,
                m.short()
            );
        }
    }
    if n > 0 {
        let upper = line(&mut p.months.iter().map(|m| m.p90));
        let lower: Vec<String> = p
            .months
            .iter()
            .enumerate()
            .rev()
            .map(|(i, m)| format!("L{:.1},{:.1}", x(i as f64 + 1.0), y(m.p10)))
            .collect();
        s += &format!(
            "<path d=\"{upper} {} Z\" fill=\"#1f5f8b\" fill-opacity=\"0.18\" stroke=\"none\"/>\n",
            lower.join(" ")
        );
        s += &format!(
            "<path d=\"{}\" fill=\"none\" stroke=\"#888\" stroke-width=\"1.5\" stroke-dasharray=\"2,3\"/>\n",
            line(&mut p.months.iter().map(|m| m.deterministic))
        );
        s += &format!(
            "<path d=\"{}\" fill=\"none\" stroke=\"#1f5f8b\" stroke-width=\"2.5\"/>\n",
            line(&mut p.months.iter().map(|m| m.p50))
        );
    }
    s += &format!(
        "<line x1=\"{l}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#e3120b\" stroke-width=\"1.5\" stroke-dasharray=\"6,4\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#e3120b\" text-anchor=\"end\">target {}</text>\n",
        w - r,
        y(p.target),
        y(p.target),
        w - r - 4.0,
        y(p.target) - 6.0,
        people(p.target)
    );
    if let Some(m) = p.reach.p50_months {
        let xm = x(m as f64);
        s += &format!(
            "<line x1=\"{xm:.1}\" x2=\"{xm:.1}\" y1=\"{t}\" y2=\"{:.1}\" stroke=\"#e3120b\" stroke-width=\"1\"/><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#e3120b\">median {}</text>\n",
            h - b,
            xm + 4.0,
            t + 12.0,
            Reach::label(p.reach.p50)
        );
    }
    let legend = [
        ("#1f5f8b", "median (50th percentile)", "", 2.5, 1.0),
        ("#1f5f8b", "10th-90th percentile", "", 10.0, 0.18),
        ("#888", "mean values, no randomness", "2,3", 1.5, 1.0),
    ];
    for (k, (colour, label, dash, width, opacity)) in legend.iter().enumerate() {
        let ly = t + 34.0 + 18.0 * k as f64;
        s += &format!(
            "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{ly:.1}\" y2=\"{ly:.1}\" stroke=\"{colour}\" stroke-width=\"{width}\" stroke-opacity=\"{opacity}\" stroke-dasharray=\"{dash}\"/><text x=\"{:.1}\" y=\"{:.1}\">{label}</text>\n",
            w - r - 230.0,
            w - r - 200.0,
            w - r - 194.0,
            ly + 4.0,
        );
    }
    s += &format!(
        "<text x=\"{l}\" y=\"{:.1}\" fill=\"#555\">Target reached (10th / 50th / 90th percentile): {} / {} / {}; binding constraint: {}</text>\n\
         <text x=\"{l}\" y=\"{:.1}\" fill=\"#555\">Well-trained strength after each month; {} runs, seed {}</text>\n</svg>\n",
        h - 26.0,
        Reach::label(p.reach.p10),
        Reach::label(p.reach.p50),
        Reach::label(p.reach.p90),
        p.binding,
        h - 9.0,
        p.options.runs,
        p.options.seed,
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::force::*;

    #[test]
    fn chart_has_band_median_target_and_labels() {
        let p: ForceParams = toml::from_str(
            r#"target = 120000
            start = "2026-01"
            months = 24
            well_trained = { mean = 100000, sd = 5000 }
            intake_per_month = { mean = 3000, month_cv = 0.2 }
            attrition_per_month = 0.005
            [[programmes]]
            name = "n"
            trainees_per_month = 5000
            course_weeks = 6"#,
        )
        .unwrap();
        let proj = project(
            &p,
            &RunOptions {
                runs: 200,
                seed: 1,
                months: 24,
            },
        )
        .unwrap();
        let svg = svg_projection(&proj, "Force <test>");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("Force &lt;test&gt;"));
        assert!(svg.contains("fill-opacity=\"0.18\""), "band");
        assert!(svg.contains("target 120k"));
        assert!(svg.contains(">Jan 27<") && svg.contains(">Jul 26<"));
        assert_eq!(svg.matches("<path").count(), 3);
        if proj.reach.p50.is_some() {
            assert!(svg.contains("median 20"));
        }
    }
}
