//! The war-fire chart: daily war-related fires on held and on occupied ground.

use chrono::NaiveDate;

use crate::model::WarfireSeries;
use crate::scene::{nice_step, Anchor, Rgb, Scene, Shape, Style};

/// Held ground's colour (the defended party's), also in the HTML table.
pub const HELD: Rgb = Rgb(0x1f, 0x5f, 0x8b);
/// Occupied ground's colour.
pub const OCCUPIED: Rgb = Rgb(0xc0, 0x39, 0x2b);

/// The chart as a scene; None when the series has no day.
pub fn warfire_scene(series: &WarfireSeries) -> Option<Scene> {
    let days = &series.days;
    if days.is_empty() {
        return None;
    }
    let (w, h, l, r, t, b) = (900.0, 340.0, 60.0, 20.0, 44.0, 64.0);
    let ymax_raw = days.iter().map(|d| d.held.max(d.occupied)).max().unwrap_or(0).max(1) as f64;
    let step = nice_step(ymax_raw / 5.0).max(1.0);
    let ymax = (ymax_raw / step).ceil() * step;
    let n = days.len();
    let x = |i: usize| {
        if n == 1 { (l + w - r) / 2.0 } else { l + (w - l - r) * i as f64 / (n - 1) as f64 }
    };
    let y = |v: f64| t + (h - t - b) * (1.0 - v / ymax);
    let mut s = Scene::new(w, h, "War-related fires per day, by side");
    s.rect(0.0, 0.0, w, h, Style::fill(Rgb(0xff, 0xff, 0xff)));
    s.bold(l, 22.0, "War-related fires per day, by side", 15.0, Anchor::Start);
    let grid = Rgb(0xdd, 0xdd, 0xdd);
    let mut v = 0.0;
    while v <= ymax + 1e-9 {
        s.line(vec![(l, y(v)), (w - r, y(v))], Style::stroke(grid, 1.0));
        s.text(l - 6.0, y(v) + 4.0, &format!("{v:.0}"), 11.0, Anchor::End);
        v += step;
    }
    let every = n.div_ceil(10).max(1);
    for (i, d) in days.iter().enumerate() {
        if i % every == 0 || i == n - 1 {
            s.line(vec![(x(i), h - b), (x(i), h - b + 4.0)], Style::stroke(Rgb(0x55, 0x55, 0x55), 1.0));
            let label = NaiveDate::parse_from_str(&d.date, "%Y-%m-%d")
                .map(|dt| dt.format("%d %b").to_string())
                .unwrap_or_else(|_| d.date.clone());
            s.text(x(i), h - b + 17.0, &label, 11.0, Anchor::Middle);
        }
    }
    s.line(vec![(l, t), (l, h - b), (w - r, h - b)], Style::stroke(Rgb(0x55, 0x55, 0x55), 1.0));
    for (colour, get) in [(HELD, 0usize), (OCCUPIED, 1)] {
        let pts: Vec<(f64, f64)> = days
            .iter()
            .enumerate()
            .map(|(i, d)| (x(i), y(if get == 0 { d.held } else { d.occupied } as f64)))
            .collect();
        for &(px, py) in &pts {
            s.push(Shape::Circle { x: px, y: py, r: 2.5, style: Style::fill(colour) });
        }
        s.line(pts, Style::stroke(colour, 2.0));
    }
    for (k, (colour, label)) in [(HELD, "held ground"), (OCCUPIED, "occupied ground")].iter().enumerate() {
        let ly = t + 4.0 + 18.0 * k as f64;
        s.line(vec![(w - r - 170.0, ly), (w - r - 140.0, ly)], Style::stroke(*colour, 2.0));
        s.text(w - r - 134.0, ly + 4.0, label, 12.0, Anchor::Start);
    }
    s.text(l - 44.0, t - 10.0, "fires/day", 11.0, Anchor::Start);
    s.text(
        l,
        h - 14.0,
        &format!("Daily counts, {} to {} (UTC days).", days[0].date, days[n - 1].date),
        11.0,
        Anchor::Start,
    );
    Some(s)
}

/// The chart as a standalone SVG document; None when the series has no day.
pub fn warfire_svg(series: &WarfireSeries) -> Option<String> {
    warfire_scene(series).map(|s| s.to_svg())
}
