//! A tiny software painter: a float RGB canvas, anti-aliased ellipses with per-pixel shaders,
//! seeded dice and value noise. Just enough to draw plates of food without fonts or crates.

use image::{Rgb, RgbImage};

pub(super) type Colour = [f32; 3];

pub(super) fn rgb(r: u8, g: u8, b: u8) -> Colour {
    [
        f32::from(r) / 255.0,
        f32::from(g) / 255.0,
        f32::from(b) / 255.0,
    ]
}

pub(super) fn mix(a: Colour, b: Colour, t: f32) -> Colour {
    let t = t.clamp(0.0, 1.0);
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

pub(super) fn scale(c: Colour, k: f32) -> Colour {
    [c[0] * k, c[1] * k, c[2] * k]
}

pub(super) fn smoothstep(edge0: f32, edge1: f32, x: f32) -> f32 {
    let t = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Light falls from the top left, as in most food photography.
pub(super) const LIGHT: [f32; 3] = [-0.45, -0.55, 0.70];

/// Lambert-ish shading of a dome: `lx`, `ly` are local coordinates with the rim at length 1.
/// `height` flattens (< 1) or sharpens (> 1) the dome.
pub(super) fn dome_light(lx: f32, ly: f32, height: f32) -> f32 {
    let q2 = (lx * lx + ly * ly).min(1.0);
    let z = (1.0 - q2).sqrt() * height;
    let length = (lx * lx + ly * ly + z * z).sqrt().max(1e-4);
    let lambert = (lx * LIGHT[0] + ly * LIGHT[1] + z * LIGHT[2]) / length;
    0.55 + 0.5 * lambert.max(0.0)
}

/// A deterministic dice from a seed (SplitMix64), so a dish keeps its picture across restarts.
pub(super) struct Dice(u64);

impl Dice {
    pub(super) fn new(seed: u64) -> Self {
        Dice(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[low, high)`.
    pub(super) fn range(&mut self, low: f32, high: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        low + (high - low) * unit
    }

    pub(super) fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
        choices[(self.next_u64() % choices.len() as u64) as usize]
    }
}

/// A repeatable random number in `[0, 1]` for one grid cell.
pub(super) fn hash2(x: i32, y: i32, seed: u32) -> f32 {
    let mut h = (x as u32).wrapping_mul(0x27D4_EB2D) ^ (y as u32).wrapping_mul(0x1656_67B1) ^ seed;
    h = (h ^ (h >> 15)).wrapping_mul(0x85EB_CA6B);
    h = (h ^ (h >> 13)).wrapping_mul(0xC2B2_AE35);
    (h ^ (h >> 16)) as f32 / u32::MAX as f32
}

/// Smooth value noise in `[0, 1]`.
pub(super) fn noise(x: f32, y: f32, seed: u32) -> f32 {
    let (ix, iy) = (x.floor(), y.floor());
    let (fx, fy) = (x - ix, y - iy);
    let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
    let (ix, iy) = (ix as i32, iy as i32);
    let top = hash2(ix, iy, seed) + (hash2(ix + 1, iy, seed) - hash2(ix, iy, seed)) * sx;
    let bottom =
        hash2(ix, iy + 1, seed) + (hash2(ix + 1, iy + 1, seed) - hash2(ix, iy + 1, seed)) * sx;
    top + (bottom - top) * sy
}

/// An ellipse in canvas units (the canvas is 1.0 wide), optionally rotated and squared off.
#[derive(Clone, Copy)]
pub(super) struct Blob {
    pub cx: f32,
    pub cy: f32,
    pub rx: f32,
    pub ry: f32,
    pub angle: f32,
    /// 2 is an ellipse; larger values give a rounded rectangle (tofu, spring rolls).
    pub squareness: f32,
}

impl Blob {
    pub(super) fn circle(cx: f32, cy: f32, r: f32) -> Blob {
        Blob {
            cx,
            cy,
            rx: r,
            ry: r,
            angle: 0.0,
            squareness: 2.0,
        }
    }

    pub(super) fn ellipse(cx: f32, cy: f32, rx: f32, ry: f32, angle: f32) -> Blob {
        Blob {
            cx,
            cy,
            rx,
            ry,
            angle,
            squareness: 2.0,
        }
    }
}

/// What a shader sees at one pixel of a blob.
#[derive(Clone, Copy)]
pub(super) struct Spot {
    /// Local coordinates, rotated with the blob, with the rim at 1.
    pub lx: f32,
    pub ly: f32,
    /// Distance from the centre in the blob's metric: 0 at the centre, 1 at the rim.
    pub q: f32,
    /// Canvas coordinates, for textures that must not rotate with the blob.
    pub x: f32,
    pub y: f32,
}

pub(super) struct Canvas {
    size: usize,
    pixels: Vec<Colour>,
}

impl Canvas {
    /// A canvas whose background is painted at half resolution and smoothly enlarged:
    /// four times cheaper, and the slight softness reads as the camera's depth of field.
    pub(super) fn with_background(size: u32, paint: impl Fn(f32, f32) -> Colour) -> Canvas {
        let size = size as usize;
        let half = size.div_ceil(2) + 1;
        let step = 2.0 / size as f32;
        let coarse: Vec<Colour> = (0..half * half)
            .map(|i| paint((i % half) as f32 * step, (i / half) as f32 * step))
            .collect();
        let pixels = (0..size * size)
            .map(|i| {
                let (x, y) = ((i % size) as f32 * 0.5, (i / size) as f32 * 0.5);
                let (x0, y0) = (x as usize, y as usize);
                let (fx, fy) = (x - x0 as f32, y - y0 as f32);
                let at = |cx: usize, cy: usize| coarse[cy.min(half - 1) * half + cx.min(half - 1)];
                let top = mix(at(x0, y0), at(x0 + 1, y0), fx);
                let bottom = mix(at(x0, y0 + 1), at(x0 + 1, y0 + 1), fx);
                mix(top, bottom, fy)
            })
            .collect();
        Canvas { size, pixels }
    }

    /// Paints a blob; the shader returns a colour and an opacity for each covered pixel.
    pub(super) fn blob(&mut self, blob: Blob, shader: impl Fn(Spot) -> Option<(Colour, f32)>) {
        let size = self.size as f32;
        let reach = blob.rx.max(blob.ry) * if blob.squareness > 2.0 { 1.42 } else { 1.0 };
        let span = |c: f32| {
            let low = ((c - reach) * size - 1.0).floor().max(0.0) as usize;
            let high = ((c + reach) * size + 1.0).ceil().clamp(0.0, size) as usize;
            (low, high)
        };
        let ((x0, x1), (y0, y1)) = (span(blob.cx), span(blob.cy));
        let (sin, cos) = blob.angle.sin_cos();
        // Anti-aliasing: the edge fades over one pixel of the blob's smaller radius.
        let edge = blob.rx.min(blob.ry) * size;
        for py in y0..y1 {
            for px in x0..x1 {
                let x = (px as f32 + 0.5) / size;
                let y = (py as f32 + 0.5) / size;
                let (dx, dy) = (x - blob.cx, y - blob.cy);
                let lx = (dx * cos + dy * sin) / blob.rx;
                let ly = (-dx * sin + dy * cos) / blob.ry;
                let q = if blob.squareness > 2.0 {
                    (lx.abs().powf(blob.squareness) + ly.abs().powf(blob.squareness))
                        .powf(1.0 / blob.squareness)
                } else {
                    (lx * lx + ly * ly).sqrt()
                };
                let coverage = ((1.0 - q) * edge + 0.5).clamp(0.0, 1.0);
                if coverage <= 0.0 {
                    continue;
                }
                if let Some((colour, alpha)) = shader(Spot { lx, ly, q, x, y }) {
                    let pixel = &mut self.pixels[py * self.size + px];
                    *pixel = mix(*pixel, colour, alpha * coverage);
                }
            }
        }
    }

    /// A soft shadow: darkens towards the centre of the blob, fading out well past its rim.
    pub(super) fn shadow(&mut self, blob: Blob, strength: f32) {
        let grown = Blob {
            rx: blob.rx * 1.25,
            ry: blob.ry * 1.25,
            ..blob
        };
        self.blob(grown, |spot| {
            let darkness = smoothstep(1.0, 0.55, spot.q) * strength;
            Some(([0.08, 0.05, 0.03], darkness))
        });
    }

    pub(super) fn into_image(self) -> RgbImage {
        let size = self.size as u32;
        RgbImage::from_fn(size, size, |x, y| {
            let c = self.pixels[y as usize * self.size + x as usize];
            let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
            Rgb([byte(c[0]), byte(c[1]), byte(c[2])])
        })
    }
}
