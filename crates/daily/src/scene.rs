//! A small drawing model shared by the SVG and PDF editions: the map and the chart are
//! built once as a [`Scene`] of shapes in pixel coordinates (y down), then written as
//! SVG text or as PDF path operators, so both editions show the same picture.

use std::fmt::Write;

/// An RGB colour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub(crate) fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
    pub(crate) fn unit(self) -> (f32, f32, f32) {
        (self.0 as f32 / 255.0, self.1 as f32 / 255.0, self.2 as f32 / 255.0)
    }
}

/// How a shape is painted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    pub fill: Option<Rgb>,
    /// 1.0 opaque.
    pub fill_opacity: f64,
    pub stroke: Option<Rgb>,
    pub width: f64,
    /// Dash and gap lengths, in pixels.
    pub dash: Option<(f64, f64)>,
}

impl Style {
    pub fn stroke(c: Rgb, width: f64) -> Style {
        Style { fill: None, fill_opacity: 1.0, stroke: Some(c), width, dash: None }
    }
    pub fn fill(c: Rgb) -> Style {
        Style { fill: Some(c), fill_opacity: 1.0, stroke: None, width: 0.0, dash: None }
    }
    pub fn with_stroke(mut self, c: Rgb, width: f64) -> Style {
        self.stroke = Some(c);
        self.width = width;
        self
    }
    pub fn dashed(mut self, on: f64, off: f64) -> Style {
        self.dash = Some((on, off));
        self
    }
    pub fn opacity(mut self, o: f64) -> Style {
        self.fill_opacity = o;
        self
    }
}

/// Where a text's `x` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// One thing drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Rings or polylines; `closed` rings are filled together with the even-odd rule.
    Path { rings: Vec<Vec<(f64, f64)>>, closed: bool, style: Style },
    Circle { x: f64, y: f64, r: f64, style: Style },
    Text { x: f64, y: f64, text: String, size: f64, anchor: Anchor, bold: bool, colour: Rgb },
    /// Shapes until the matching `ClipEnd` are clipped to this rectangle.
    ClipBegin { x: f64, y: f64, w: f64, h: f64 },
    ClipEnd,
}

/// A picture: its size in pixels and its shapes, painted in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub width: f64,
    pub height: f64,
    /// For the SVG's `<title>` (accessibility).
    pub title: String,
    pub shapes: Vec<Shape>,
}

impl Scene {
    pub fn new(width: f64, height: f64, title: &str) -> Scene {
        Scene { width, height, title: title.to_string(), shapes: Vec::new() }
    }
    pub fn push(&mut self, s: Shape) {
        self.shapes.push(s);
    }
    pub fn line(&mut self, pts: Vec<(f64, f64)>, style: Style) {
        self.push(Shape::Path { rings: vec![pts], closed: false, style });
    }
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, style: Style) {
        let ring = vec![(x, y), (x + w, y), (x + w, y + h), (x, y + h)];
        self.push(Shape::Path { rings: vec![ring], closed: true, style });
    }
    pub fn text(&mut self, x: f64, y: f64, text: &str, size: f64, anchor: Anchor) {
        self.push(Shape::Text {
            x,
            y,
            text: text.to_string(),
            size,
            anchor,
            bold: false,
            colour: Rgb(0x22, 0x22, 0x22),
        });
    }
    pub fn bold(&mut self, x: f64, y: f64, text: &str, size: f64, anchor: Anchor) {
        self.push(Shape::Text {
            x,
            y,
            text: text.to_string(),
            size,
            anchor,
            bold: true,
            colour: Rgb(0x22, 0x22, 0x22),
        });
    }

    /// The scene as a standalone SVG document (with `xmlns`; every text escaped).
    pub fn to_svg(&self) -> String {
        let (w, h) = (self.width, self.height);
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"Helvetica, Arial, sans-serif\" role=\"img\">\n<title>{}</title>\n",
            xml_escape(&self.title)
        );
        let mut clips = 0;
        for shape in &self.shapes {
            match shape {
                Shape::Path { rings, closed, style } => {
                    let mut d = String::new();
                    for ring in rings.iter().filter(|r| !r.is_empty()) {
                        for (i, (x, y)) in ring.iter().enumerate() {
                            let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
                        }
                        if *closed {
                            d.push('Z');
                        }
                    }
                    if d.is_empty() {
                        continue;
                    }
                    let _ = writeln!(
                        s,
                        "<path d=\"{d}\"{}{}/>",
                        svg_style(style, *closed),
                        if *closed { " fill-rule=\"evenodd\"" } else { " stroke-linejoin=\"round\" stroke-linecap=\"round\"" }
                    );
                }
                Shape::Circle { x, y, r, style } => {
                    let _ = writeln!(
                        s,
                        "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r:.1}\"{}/>",
                        svg_style(style, true)
                    );
                }
                Shape::Text { x, y, text, size, anchor, bold, colour } => {
                    let a = match anchor {
                        Anchor::Start => "",
                        Anchor::Middle => " text-anchor=\"middle\"",
                        Anchor::End => " text-anchor=\"end\"",
                    };
                    let _ = writeln!(
                        s,
                        "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\"{a}{} fill=\"{}\">{}</text>",
                        if *bold { " font-weight=\"bold\"" } else { "" },
                        colour.hex(),
                        xml_escape(text)
                    );
                }
                Shape::ClipBegin { x, y, w, h } => {
                    clips += 1;
                    let _ = writeln!(
                        s,
                        "<clipPath id=\"clip{clips}\"><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\"/></clipPath>\n<g clip-path=\"url(#clip{clips})\">"
                    );
                }
                Shape::ClipEnd => s.push_str("</g>\n"),
            }
        }
        s.push_str("</svg>\n");
        s
    }
}

fn svg_style(st: &Style, fillable: bool) -> String {
    let mut s = String::new();
    match (st.fill, fillable) {
        (Some(c), true) => {
            let _ = write!(s, " fill=\"{}\"", c.hex());
            if st.fill_opacity < 1.0 {
                let _ = write!(s, " fill-opacity=\"{:.2}\"", st.fill_opacity);
            }
        }
        _ => s.push_str(" fill=\"none\""),
    }
    if let Some(c) = st.stroke {
        let _ = write!(s, " stroke=\"{}\" stroke-width=\"{}\"", c.hex(), st.width);
        if let Some((on, off)) = st.dash {
            let _ = write!(s, " stroke-dasharray=\"{on},{off}\"");
        }
    }
    s
}

/// Escapes text for XML and HTML content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A round step (1, 2 or 5 times a power of ten) at least `raw`.
pub fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= raw {
            return m * p;
        }
    }
    10.0 * p
}
