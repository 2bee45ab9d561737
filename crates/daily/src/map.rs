//! The map: country outline, occupied ground, contact line, fixed zones and the
//! period's incidents, on an equirectangular projection scaled by the cosine of the
//! middle latitude (true scale along that parallel; at Ukraine's latitudes the error
//! across an oblast is a few per cent, which a report map can bear).

use crate::model::{DailyReport, IncidentRow};
use crate::scene::{nice_step, Anchor, Rgb, Scene, Shape, Style};

/// Width of the map's drawing area, pixels.
pub const MAP_WIDTH_PX: f64 = 900.0;
/// The tallest the drawing area may be; a tall box is narrowed instead.
pub const MAP_HEIGHT_PX_MAX: f64 = 900.0;
/// Smallest radius an incident is drawn with, pixels (its uncertainty may be smaller).
pub const INCIDENT_RADIUS_PX_MIN: f64 = 4.0;
/// Kilometres per degree of latitude (and of longitude on the equator), WGS 84 mean.
const KM_PER_DEG: f64 = 111.32;

const OUTLINE_FILL: Rgb = Rgb(0xf5, 0xf3, 0xee);
const OUTLINE_STROKE: Rgb = Rgb(0x77, 0x77, 0x77);
const OCCUPIED_FILL: Rgb = Rgb(0xe3, 0xa5, 0x9a);
const LINE: Rgb = Rgb(0x8b, 0x00, 0x00);
const ZONE: Rgb = Rgb(0x1f, 0x5f, 0x8b);
const INK: Rgb = Rgb(0x22, 0x22, 0x22);

/// The colour incidents of a confidence grade are drawn in (also the HTML table's).
pub fn confidence_colour(confidence: &str) -> Rgb {
    match confidence {
        "verified" => Rgb(0x6a, 0x1b, 0x9a),
        "corroborated" => Rgb(0xd9, 0x48, 0x01),
        _ => Rgb(0xe6, 0xa1, 0x00),
    }
}

/// The short label of the `i`-th incident (0-based, in the report's order), used on the
/// map and in every edition's incident table.
pub fn incident_label(i: usize) -> String {
    (i + 1).to_string()
}

/// The projection of `bbox` onto the drawing area.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Projection {
    pub bbox: [f64; 4],
    pub coslat: f64,
    /// Pixels per degree of latitude.
    pub k: f64,
    pub x0: f64,
    pub y0: f64,
    pub w: f64,
    pub h: f64,
}

impl Projection {
    pub fn new(bbox: [f64; 4], x0: f64, y0: f64) -> Projection {
        // A box that is not finite, or empty, still draws: the default view, or a
        // degree around its corner.
        let mut b = if bbox.iter().all(|v| v.is_finite()) { bbox } else { [22.0, 44.0, 41.0, 53.0] };
        if b[2] <= b[0] {
            b[2] = b[0] + 1.0;
        }
        if b[3] <= b[1] {
            b[3] = b[1] + 1.0;
        }
        let mid = (b[1] + b[3]) / 2.0;
        let coslat = mid.to_radians().cos().max(0.05);
        let span_x = (b[2] - b[0]) * coslat;
        let span_y = b[3] - b[1];
        let mut k = MAP_WIDTH_PX / span_x;
        if span_y * k > MAP_HEIGHT_PX_MAX {
            k = MAP_HEIGHT_PX_MAX / span_y;
        }
        Projection { bbox: b, coslat, k, x0, y0, w: span_x * k, h: span_y * k }
    }
    pub fn xy(&self, p: [f64; 2]) -> (f64, f64) {
        (
            self.x0 + (p[0] - self.bbox[0]) * self.coslat * self.k,
            self.y0 + (self.bbox[3] - p[1]) * self.k,
        )
    }
    pub fn px_per_km(&self) -> f64 {
        self.k / KM_PER_DEG
    }
}

/// The map as a scene (the SVG and the PDF draw this).
pub fn map_scene(report: &DailyReport) -> Scene {
    let m = &report.map;
    let (pad, top) = (10.0, 34.0);
    let pr = Projection::new(m.bbox, pad, top);
    let legend_h = 70.0;
    let width = pr.w + 2.0 * pad;
    let height = top + pr.h + legend_h;
    let mut s = Scene::new(width, height, &format!("Map: {}", report.title));
    s.rect(0.0, 0.0, width, height, Style::fill(Rgb(0xff, 0xff, 0xff)));
    s.bold(pad, 22.0, "Incidents of the period, contact line and zones", 15.0, Anchor::Start);
    // The sea and the neighbours stay white; the country is a pale fill.
    s.rect(pr.x0, pr.y0, pr.w, pr.h, Style::fill(Rgb(0xff, 0xff, 0xff)).with_stroke(OUTLINE_STROKE, 0.5));
    s.push(Shape::ClipBegin { x: pr.x0, y: pr.y0, w: pr.w, h: pr.h });
    let rings = |rs: &[Vec<[f64; 2]>]| -> Vec<Vec<(f64, f64)>> {
        rs.iter().map(|r| r.iter().map(|p| pr.xy(*p)).collect()).collect()
    };
    if !m.outline.is_empty() {
        s.push(Shape::Path {
            rings: rings(&m.outline),
            closed: true,
            style: Style::fill(OUTLINE_FILL).with_stroke(OUTLINE_STROKE, 1.0),
        });
    }
    for poly in &m.occupied {
        s.push(Shape::Path { rings: rings(poly), closed: true, style: Style::fill(OCCUPIED_FILL) });
    }
    for z in &m.zones {
        for poly in &z.polygons {
            s.push(Shape::Path {
                rings: rings(poly),
                closed: true,
                style: Style::fill(ZONE).opacity(0.08).with_stroke(ZONE, 1.5).dashed(6.0, 3.0),
            });
        }
    }
    s.push(Shape::Path {
        rings: rings(&m.contact_line),
        closed: false,
        style: Style::stroke(LINE, 3.0),
    });
    for z in &m.zones {
        if let Some((x, y)) = label_point(&pr, z.polygons.iter().flat_map(|p| p.first())) {
            s.push(Shape::Text {
                x,
                y,
                text: z.name.clone(),
                size: 12.0,
                anchor: Anchor::Middle,
                bold: true,
                colour: ZONE,
            });
        }
    }
    // Largest first, so small circles stay on top and clickable in the eye.
    let mut order: Vec<usize> = (0..report.incidents.len()).collect();
    order.sort_by(|&a, &b| {
        report.incidents[b].uncertainty_m.total_cmp(&report.incidents[a].uncertainty_m).then(b.cmp(&a))
    });
    for &i in &order {
        let inc = &report.incidents[i];
        let (x, y) = pr.xy([inc.lon, inc.lat]);
        let c = confidence_colour(&inc.confidence);
        s.push(Shape::Circle {
            x,
            y,
            r: incident_radius(&pr, inc),
            style: Style::fill(c).opacity(0.35).with_stroke(c, 1.5),
        });
    }
    for &i in order.iter().rev() {
        let inc = &report.incidents[i];
        let (x, y) = pr.xy([inc.lon, inc.lat]);
        let r = incident_radius(&pr, inc);
        s.bold(x + r.min(12.0) + 2.0, y - 2.0, &incident_label(i), 11.0, Anchor::Start);
    }
    s.push(Shape::ClipEnd);
    // North arrow, top right.
    let (nx, ny) = (pr.x0 + pr.w - 24.0, pr.y0 + 14.0);
    s.push(Shape::Path {
        rings: vec![vec![(nx, ny), (nx + 8.0, ny + 24.0), (nx, ny + 18.0), (nx - 8.0, ny + 24.0)]],
        closed: true,
        style: Style::fill(INK),
    });
    s.bold(nx, ny + 38.0, "N", 12.0, Anchor::Middle);
    // Scale bar, bottom right.
    let ppk = pr.px_per_km();
    let km = nice_step(pr.w / 5.0 / ppk);
    let len = km * ppk;
    let (bx, by) = (pr.x0 + pr.w - 20.0 - len, pr.y0 + pr.h - 16.0);
    s.rect(bx - 6.0, by - 20.0, len + 12.0, 28.0, Style::fill(Rgb(0xff, 0xff, 0xff)).opacity(0.8));
    s.rect(bx, by - 4.0, len / 2.0, 4.0, Style::fill(INK));
    s.rect(bx + len / 2.0, by - 4.0, len / 2.0, 4.0, Style::fill(Rgb(0xff, 0xff, 0xff)).with_stroke(INK, 1.0));
    s.text(bx, by - 8.0, "0", 10.0, Anchor::Middle);
    s.text(bx + len, by - 8.0, &format!("{} km", trim_num(km)), 10.0, Anchor::Middle);
    // Legend, under the map.
    let ly = top + pr.h + 20.0;
    let mut x = pad;
    let mut key = |s: &mut Scene, draw: &dyn Fn(&mut Scene, f64, f64), label: &str| {
        draw(s, x, ly);
        s.text(x + 26.0, ly + 4.0, label, 11.0, Anchor::Start);
        // Browsers' sans fonts run wider than Helvetica's metrics: leave slack.
        x += 40.0 + 1.2 * crate::text::approx_width(label, 11.0);
    };
    key(&mut s, &|s, x, y| s.line(vec![(x, y), (x + 20.0, y)], Style::stroke(LINE, 3.0)), "contact line");
    key(&mut s, &|s, x, y| s.rect(x, y - 6.0, 20.0, 12.0, Style::fill(OCCUPIED_FILL)), "occupied");
    key(
        &mut s,
        &|s, x, y| s.rect(x, y - 6.0, 20.0, 12.0, Style::fill(ZONE).opacity(0.08).with_stroke(ZONE, 1.5).dashed(6.0, 3.0)),
        "zone",
    );
    for conf in ["verified", "corroborated", "single_source"] {
        let c = confidence_colour(conf);
        key(
            &mut s,
            &|s, x, y| s.push(Shape::Circle { x: x + 10.0, y, r: 6.0, style: Style::fill(c).opacity(0.35).with_stroke(c, 1.5) }),
            &conf.replace('_', " "),
        );
    }
    let caption = format!(
        "Circle: incident, radius its uncertainty (at least {INCIDENT_RADIUS_PX_MIN} px); number: its row in the incident table. Contact line of {}. Equirectangular, true scale at {:.1}\u{b0} N.",
        m.line_date.as_deref().unwrap_or("unknown date"),
        (pr.bbox[1] + pr.bbox[3]) / 2.0
    );
    s.text(pad, ly + 30.0, &caption, 11.0, Anchor::Start);
    s
}

/// The map as a standalone SVG document.
pub fn map_svg(report: &DailyReport) -> String {
    map_scene(report).to_svg()
}

fn incident_radius(pr: &Projection, inc: &IncidentRow) -> f64 {
    let r = inc.uncertainty_m.max(0.0) / 1000.0 * pr.px_per_km();
    if r.is_finite() { r.max(INCIDENT_RADIUS_PX_MIN) } else { INCIDENT_RADIUS_PX_MIN }
}

/// Above a zone: the mean x and the top of its exterior rings, clamped into the drawing
/// area (a label inside the zone would cover its incidents).
fn label_point<'a>(pr: &Projection, rings: impl Iterator<Item = &'a Vec<[f64; 2]>>) -> Option<(f64, f64)> {
    let (mut sx, mut top, mut n) = (0.0, f64::INFINITY, 0usize);
    for r in rings {
        for p in r {
            let (x, y) = pr.xy(*p);
            sx += x;
            top = top.min(y);
            n += 1;
        }
    }
    (n > 0).then(|| {
        (
            (sx / n as f64).clamp(pr.x0 + 40.0, pr.x0 + pr.w - 40.0),
            (top - 5.0).clamp(pr.y0 + 14.0, pr.y0 + pr.h - 6.0),
        )
    })
}

pub(crate) fn trim_num(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v}") }
}
