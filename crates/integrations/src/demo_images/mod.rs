//! Appetising dish pictures for the demo restaurant, painted procedurally on first start:
//! a table top, a plate or bowl with a soft shadow, and food drawn per dish style. Nothing is downloaded.

mod canvas;
mod food;

use canvas::{Blob, Canvas, Colour, Dice, mix, noise, rgb, scale, smoothstep};
use image::ImageEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use std::f32::consts::{PI, TAU};

/// Big enough for the dish page after `images::process_upload`, small enough to paint in
/// well under 150 ms in a debug build (the demo paints ~40 at first start).
pub const PICTURE_SIZE_PX: u32 = 480;

/// What kind of dish a demo picture shows; it decides the vessel and the food drawn in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DishStyle {
    Noodles,
    Soup,
    Rice,
    Dumplings,
    Greens,
    Drink,
    Dessert,
    Combo,
    Snack,
}

impl DishStyle {
    pub const ALL: [DishStyle; 9] = [
        DishStyle::Noodles,
        DishStyle::Soup,
        DishStyle::Rice,
        DishStyle::Dumplings,
        DishStyle::Greens,
        DishStyle::Drink,
        DishStyle::Dessert,
        DishStyle::Combo,
        DishStyle::Snack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DishStyle::Noodles => "noodles",
            DishStyle::Soup => "soup",
            DishStyle::Rice => "rice",
            DishStyle::Dumplings => "dumplings",
            DishStyle::Greens => "greens",
            DishStyle::Drink => "drink",
            DishStyle::Dessert => "dessert",
            DishStyle::Combo => "combo",
            DishStyle::Snack => "snack",
        }
    }
}

/// A square PNG of a dish in `style`; the same seed always gives the same picture.
pub fn dish_picture(seed: u64, style: DishStyle) -> Vec<u8> {
    let picture = paint(seed, style);
    let mut png = Vec::new();
    PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::Adaptive)
        .write_image(
            picture.as_raw(),
            picture.width(),
            picture.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encoding a well-formed image into memory cannot fail");
    png
}

/// A circular area of the canvas that one food fills.
#[derive(Clone, Copy)]
pub(super) struct Region {
    pub cx: f32,
    pub cy: f32,
    pub r: f32,
}

fn paint(seed: u64, style: DishStyle) -> image::RgbImage {
    let mut dice = Dice::new(seed.wrapping_mul(31).wrapping_add(style as u64));
    let mut canvas = table(&mut dice);
    let centre = (
        0.5 + dice.range(-0.015, 0.015),
        0.52 + dice.range(-0.015, 0.015),
    );
    let plate = Region {
        cx: centre.0,
        cy: centre.1,
        r: 0.40,
    };
    // Side pieces first: the dish's shadow falls over them, not the other way round.
    match style {
        DishStyle::Noodles | DishStyle::Rice => chopsticks(&mut canvas, &mut dice),
        DishStyle::Dumplings => {
            food::dipping_sauce(
                &mut canvas,
                Region {
                    cx: 0.87,
                    cy: 0.13,
                    r: 0.085,
                },
                rgb(60, 30, 20),
            );
        }
        DishStyle::Snack => {
            food::dipping_sauce(
                &mut canvas,
                Region {
                    cx: 0.86,
                    cy: 0.14,
                    r: 0.08,
                },
                rgb(205, 70, 35),
            );
        }
        _ => {}
    }
    let well = match style {
        DishStyle::Noodles | DishStyle::Soup => bowl(&mut canvas, plate, &mut dice),
        // A drink paints its own coaster and glass.
        DishStyle::Drink => plate,
        DishStyle::Dessert => dish_plate(&mut canvas, Region { r: 0.34, ..plate }, &mut dice),
        DishStyle::Combo => dish_plate(&mut canvas, Region { r: 0.42, ..plate }, &mut dice),
        _ => dish_plate(&mut canvas, plate, &mut dice),
    };
    let paint_food = match style {
        DishStyle::Noodles => food::noodles,
        DishStyle::Soup => food::soup,
        DishStyle::Rice => food::rice_bowl,
        DishStyle::Dumplings => food::dumplings,
        DishStyle::Greens => food::greens,
        DishStyle::Drink => food::drink,
        DishStyle::Dessert => food::dessert,
        DishStyle::Combo => food::combo,
        DishStyle::Snack => food::snack,
    };
    paint_food(&mut canvas, well, &mut dice);
    canvas.into_image()
}

/// Warm wood planks with grain and a vignette, the way food is shot in a restaurant.
fn table(dice: &mut Dice) -> Canvas {
    let wood = dice.pick(&[
        rgb(176, 124, 82),
        rgb(128, 84, 54),
        rgb(196, 156, 112),
        rgb(150, 104, 70),
    ]);
    let seed = dice.next_u64() as u32;
    let rings = dice.range(14.0, 24.0);
    let plank = dice.range(0.22, 0.34);
    let plank_offset = dice.range(0.0, plank);
    Canvas::with_background(PICTURE_SIZE_PX, |x, y| {
        let board = ((y + plank_offset) / plank).floor();
        let within = ((y + plank_offset) / plank).fract();
        let warp = noise(x * 2.5 + board * 7.0, y * 2.0, seed) * 2.2;
        let grain = 0.5 + 0.5 * ((y * rings + warp) * TAU).sin();
        let streak = noise(x * 3.0 + board * 13.0, y * 160.0, seed ^ 0xABCD);
        let seam = smoothstep(0.0, 0.012, within) * smoothstep(1.0, 0.985, within);
        let tint = 0.92 + 0.08 * noise(board * 3.1, 0.5, seed ^ 0x55);
        let (dx, dy) = (x - 0.5, y - 0.5);
        let vignette = 1.0 - 0.55 * (dx * dx + dy * dy);
        scale(
            wood,
            (0.84 + 0.10 * grain + 0.08 * streak) * (0.55 + 0.45 * seam) * tint * vignette,
        )
    })
}

/// A pair of chopsticks resting beside the dish.
fn chopsticks(canvas: &mut Canvas, dice: &mut Dice) {
    let colour = dice.pick(&[rgb(92, 52, 30), rgb(214, 184, 128), rgb(30, 26, 24)]);
    let angle = dice.range(-1.75, -1.45);
    for offset in [0.0, 0.035] {
        let stick = Blob {
            cx: 0.93 + offset,
            cy: 0.5,
            rx: 0.40,
            ry: 0.009,
            angle,
            squareness: 8.0,
        };
        canvas.shadow(
            Blob {
                cx: stick.cx + 0.012,
                cy: stick.cy + 0.015,
                ry: 0.014,
                ..stick
            },
            0.35,
        );
        canvas.blob(stick, |s| {
            Some((
                scale(colour, 0.8 + 0.35 * (1.0 - s.ly * s.ly) - 0.15 * s.ly),
                1.0,
            ))
        });
    }
}

/// A flat plate with a raised rim; returns the well where food goes.
fn dish_plate(canvas: &mut Canvas, at: Region, dice: &mut Dice) -> Region {
    let glaze = dice.pick(&[
        rgb(246, 244, 238),
        rgb(240, 236, 226),
        rgb(226, 232, 236),
        rgb(58, 60, 64),
    ]);
    let band = dice.pick(&[None, Some(rgb(44, 84, 150)), Some(rgb(160, 120, 60))]);
    canvas.shadow(Blob::circle(at.cx + 0.02, at.cy + 0.03, at.r), 0.6);
    canvas.blob(Blob::circle(at.cx, at.cy, at.r), |s| {
        Some((ceramic(s.lx, s.ly, s.q, glaze, band, 0.78), 1.0))
    });
    Region {
        r: at.r * 0.74,
        ..at
    }
}

/// A deep bowl: lit outer rim, shaded inner wall; returns the surface of what it holds.
fn bowl(canvas: &mut Canvas, at: Region, dice: &mut Dice) -> Region {
    let glaze = dice.pick(&[
        rgb(246, 244, 238),
        rgb(236, 230, 216),
        rgb(40, 42, 46),
        rgb(120, 60, 40),
    ]);
    let band = dice.pick(&[None, Some(rgb(44, 84, 150)), Some(rgb(170, 40, 40))]);
    canvas.shadow(Blob::circle(at.cx + 0.025, at.cy + 0.035, at.r), 0.7);
    canvas.blob(Blob::circle(at.cx, at.cy, at.r), |s| {
        let mut colour = ceramic(s.lx, s.ly, s.q, glaze, band, 0.88);
        if s.q < 0.88 {
            // The inner wall facing the light is bright, the one under the rim in shadow.
            let facing = (s.lx * -0.6 + s.ly * -0.75) / s.q.max(1e-3);
            let wall = smoothstep(0.6, 0.88, s.q);
            colour = scale(colour, 1.0 - wall * (0.18 + 0.2 * facing));
        }
        Some((colour, 1.0))
    });
    Region {
        r: at.r * 0.78,
        ..at
    }
}

/// Glazed ceramic seen from above: a flat well, a tilted rim with a highlight, an optional band.
fn ceramic(
    lx: f32,
    ly: f32,
    q: f32,
    glaze: Colour,
    band: Option<Colour>,
    rim_start: f32,
) -> Colour {
    let on_rim = smoothstep(rim_start - 0.03, rim_start + 0.02, q);
    let towards_light = -(lx * -0.6 + ly * -0.75) / q.max(1e-3);
    let mut colour = scale(
        glaze,
        0.93 + on_rim * 0.07 * towards_light - 0.04 * (lx + ly) * 0.5,
    );
    // The step between well and rim catches a thin shadow.
    let step = (1.0 - ((q - rim_start) / 0.02).abs()).max(0.0);
    colour = scale(colour, 1.0 - 0.12 * step);
    if let Some(band) = band {
        let stripe = smoothstep(0.9, 0.91, q) * smoothstep(0.95, 0.94, q);
        colour = mix(colour, band, stripe * 0.85);
    }
    if (0.86..0.99).contains(&q) {
        let angle = ly.atan2(lx);
        let glint = smoothstep(0.5, 0.0, (angle + 2.3).abs())
            * smoothstep(0.86, 0.93, q)
            * smoothstep(0.99, 0.95, q);
        colour = mix(colour, [1.0, 1.0, 1.0], glint * 0.55);
    }
    let lip = smoothstep(0.965, 1.0, q);
    scale(colour, 1.0 - 0.25 * lip)
}

/// Angle helper for radial patterns (lemon segments, plate glints).
pub(super) fn angle_of(lx: f32, ly: f32) -> f32 {
    ly.atan2(lx) + PI
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_style_paints_a_square_png_that_depends_on_the_seed() {
        for style in DishStyle::ALL {
            let png = dish_picture(7, style);
            let picture = image::load_from_memory(&png).expect("valid PNG");
            assert_eq!(
                (picture.width(), picture.height()),
                (PICTURE_SIZE_PX, PICTURE_SIZE_PX)
            );
            assert_eq!(
                png,
                dish_picture(7, style),
                "{} is not deterministic",
                style.as_str()
            );
            assert_ne!(
                png,
                dish_picture(8, style),
                "{} ignores the seed",
                style.as_str()
            );
        }
    }

    #[test]
    fn demo_pictures_feed_the_upload_pipeline() {
        let processed =
            crate::images::process_upload(&dish_picture(1, DishStyle::Noodles)).expect("accepted");
        assert_eq!(
            (processed.width, processed.height),
            (PICTURE_SIZE_PX, PICTURE_SIZE_PX)
        );
    }
}
