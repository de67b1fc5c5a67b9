//! A picture as a list of lines, rectangles and text, drawn either as SVG
//! or into an RGB pixel buffer (then PNG, through the `image` crate's
//! encoder). One description, two renderers, so the SVG and the PNG of a
//! plot always agree; the raster text uses the built-in pixel font, so no
//! font files or system font libraries are needed.

use std::path::Path;

use crate::model_error::NnError;
use crate::report::font;

pub type Rgb = [u8; 3];

pub const BLACK: Rgb = [0, 0, 0];
pub const GREY: Rgb = [160, 160, 160];
pub const LIGHT_GREY: Rgb = [225, 225, 225];
pub const WHITE: Rgb = [255, 255, 255];

/// Where a text's `x` is: its start, middle or end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Line {
        from: (f64, f64),
        to: (f64, f64),
        color: Rgb,
        width: f64,
    },
    Polyline {
        points: Vec<(f64, f64)>,
        color: Rgb,
        width: f64,
    },
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: Option<Rgb>,
        stroke: Option<Rgb>,
    },
    /// `at.1` is the text's vertical middle.
    Text {
        at: (f64, f64),
        text: String,
        anchor: Anchor,
        color: Rgb,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub width: usize,
    pub height: usize,
    pub items: Vec<Item>,
}

fn hex([r, g, b]: Rgb) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Text size: 12 px in SVG, the pixel font at scale 2 (10 px) in raster.
const FONT_SCALE: usize = 2;

impl Figure {
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            items: vec![Item::Rect {
                x: 0.0,
                y: 0.0,
                w: width as f64,
                h: height as f64,
                fill: Some(WHITE),
                stroke: None,
            }],
        }
    }

    pub fn svg(&self) -> String {
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n",
            self.width, self.height
        );
        for item in &self.items {
            match item {
                Item::Line { from, to, color, width } => out.push_str(&format!(
                    "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" stroke-width=\"{width}\"/>\n",
                    from.0,
                    from.1,
                    to.0,
                    to.1,
                    hex(*color)
                )),
                Item::Polyline { points, color, width } => {
                    let points: Vec<String> = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
                    out.push_str(&format!(
                        "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"{width}\" points=\"{}\"/>\n",
                        hex(*color),
                        points.join(" ")
                    ));
                }
                Item::Rect { x, y, w, h, fill, stroke } => out.push_str(&format!(
                    "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{}\" stroke=\"{}\"/>\n",
                    fill.map_or("none".into(), hex),
                    stroke.map_or("none".into(), hex)
                )),
                Item::Text { at, text, anchor, color } => {
                    let anchor = match anchor {
                        Anchor::Start => "start",
                        Anchor::Middle => "middle",
                        Anchor::End => "end",
                    };
                    out.push_str(&format!(
                        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" dominant-baseline=\"middle\" fill=\"{}\">{}</text>\n",
                        at.0,
                        at.1,
                        hex(*color),
                        crate::report::confusion::escape(text)
                    ));
                }
            }
        }
        out.push_str("</svg>\n");
        out
    }

    /// The picture as RGB pixels, row by row.
    pub fn raster(&self) -> Vec<u8> {
        let mut canvas = Canvas {
            width: self.width,
            height: self.height,
            pixels: vec![255; self.width * self.height * 3],
        };
        for item in &self.items {
            match item {
                Item::Line {
                    from,
                    to,
                    color,
                    width,
                } => canvas.line(*from, *to, *color, *width),
                Item::Polyline { points, color, width } => {
                    for pair in points.windows(2) {
                        canvas.line(pair[0], pair[1], *color, *width);
                    }
                    if points.len() == 1 {
                        canvas.line(points[0], points[0], *color, width * 2.0);
                    }
                }
                Item::Rect {
                    x,
                    y,
                    w,
                    h,
                    fill,
                    stroke,
                } => {
                    if let Some(fill) = fill {
                        canvas.fill(*x, *y, *w, *h, *fill);
                    }
                    if let Some(stroke) = stroke {
                        let (x1, y1) = (x + w, y + h);
                        canvas.line((*x, *y), (x1, *y), *stroke, 1.0);
                        canvas.line((x1, *y), (x1, y1), *stroke, 1.0);
                        canvas.line((x1, y1), (*x, y1), *stroke, 1.0);
                        canvas.line((*x, y1), (*x, *y), *stroke, 1.0);
                    }
                }
                Item::Text {
                    at,
                    text,
                    anchor,
                    color,
                } => {
                    let w = font::width(text, FONT_SCALE) as f64;
                    let left = match anchor {
                        Anchor::Start => at.0,
                        Anchor::Middle => at.0 - w / 2.0,
                        Anchor::End => at.0 - w,
                    };
                    let top = at.1 - font::height(FONT_SCALE) as f64 / 2.0;
                    font::draw(text, FONT_SCALE, |dx, dy| {
                        canvas.set(
                            left.round() as i64 + dx as i64,
                            top.round() as i64 + dy as i64,
                            *color,
                        )
                    });
                }
            }
        }
        canvas.pixels
    }

    /// Writes the PNG to a temporary file next to `path`, then renames it,
    /// so a failed write never leaves a half-written picture.
    pub fn save_png(&self, path: &Path) -> Result<(), NnError> {
        let pixels = self.raster();
        write_atomically(path, |tmp| {
            image::save_buffer_with_format(
                tmp,
                &pixels,
                self.width as u32,
                self.height as u32,
                image::ExtendedColorType::Rgb8,
                image::ImageFormat::Png,
            )
            .map_err(|e| e.to_string())
        })
    }

    pub fn save_svg(&self, path: &Path) -> Result<(), NnError> {
        let text = self.svg();
        write_atomically(path, |tmp| std::fs::write(tmp, &text).map_err(|e| e.to_string()))
    }
}

/// Runs `write` on a unique temporary name beside `path`, then renames it.
fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> Result<(), String>) -> Result<(), NnError> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_file_name(format!(".nn-{}-{n}.tmp", std::process::id()));
    let result = write(&tmp).and_then(|()| std::fs::rename(&tmp, path).map_err(|e| e.to_string()));
    if let Err(e) = result {
        std::fs::remove_file(&tmp).ok();
        return Err(NnError::Other(format!("cannot write `{}`: {e}", path.display())));
    }
    Ok(())
}

struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn set(&mut self, x: i64, y: i64, color: Rgb) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            let i = (y as usize * self.width + x as usize) * 3;
            self.pixels[i..i + 3].copy_from_slice(&color);
        }
    }

    fn fill(&mut self, x: f64, y: f64, w: f64, h: f64, color: Rgb) {
        for py in y.round() as i64..(y + h).round() as i64 {
            for px in x.round() as i64..(x + w).round() as i64 {
                self.set(px, py, color);
            }
        }
    }

    /// A line `width` pixels thick: squares stamped along it.
    fn line(&mut self, from: (f64, f64), to: (f64, f64), color: Rgb, width: f64) {
        let steps = (to.0 - from.0).abs().max((to.1 - from.1).abs()).ceil().max(1.0) as usize;
        let half = ((width - 1.0) / 2.0).max(0.0);
        for s in 0..=steps {
            let t = s as f64 / steps as f64;
            let (x, y) = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
            let (x0, x1) = ((x - half).round() as i64, (x + half).round() as i64);
            let (y0, y1) = ((y - half).round() as i64, (y + half).round() as i64);
            for py in y0..=y1 {
                for px in x0..=x1 {
                    self.set(px, py, color);
                }
            }
        }
    }
}
