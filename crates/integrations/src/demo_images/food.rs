//! The food itself, one painter per dish style. Each fills a `Region` (a circle on the canvas)
//! so a combo plate can reuse the single dishes at a smaller size.

use super::canvas::{
    Blob, Canvas, Colour, Dice, dome_light, hash2, mix, noise, rgb, scale, smoothstep,
};
use super::{Region, angle_of};
use std::f32::consts::{PI, TAU};

const WHITE: Colour = [1.0, 1.0, 1.0];

/// A point inside `region`, never closer to its edge than `margin` (fraction of the radius).
fn spot_in(region: Region, dice: &mut Dice, margin: f32) -> (f32, f32) {
    let angle = dice.range(0.0, TAU);
    let distance = dice.range(0.0, 1.0).sqrt() * region.r * (1.0 - margin);
    (
        region.cx + angle.cos() * distance,
        region.cy + angle.sin() * distance,
    )
}

/// A glossy soft highlight near the top left of a blob, as a wet or glazed surface shows.
fn gloss(lx: f32, ly: f32, size: f32) -> f32 {
    let (dx, dy) = (lx + 0.35, ly + 0.4);
    smoothstep(size, 0.0, (dx * dx + dy * dy).sqrt())
}

/// A liquid surface: darker at the wall, a broad reflection of the window, beads of oil.
fn liquid(canvas: &mut Canvas, at: Region, base: Colour, dice: &mut Dice) {
    let seed = dice.next_u64() as u32;
    canvas.blob(Blob::circle(at.cx, at.cy, at.r), |s| {
        let swirl = noise(s.x * 9.0, s.y * 9.0, seed);
        let colour = scale(
            base,
            0.86 + 0.14 * swirl - 0.18 * smoothstep(0.82, 1.0, s.q),
        );
        let reflection = smoothstep(
            0.55,
            0.1,
            ((s.lx + 0.35).powi(2) * 0.6 + (s.ly + 0.45).powi(2) * 2.2).sqrt(),
        );
        Some((mix(colour, WHITE, reflection * 0.22), 1.0))
    });
    for _ in 0..16 {
        let (x, y) = spot_in(at, dice, 0.08);
        canvas.blob(Blob::circle(x, y, dice.range(0.004, 0.012)), |s| {
            let rim = smoothstep(0.5, 0.9, s.q);
            Some((
                mix(
                    scale(base, 1.15),
                    WHITE,
                    rim * 0.5 + gloss(s.lx, s.ly, 0.4) * 0.5,
                ),
                0.6,
            ))
        });
    }
}

pub(super) fn noodles(canvas: &mut Canvas, bowl: Region, dice: &mut Dice) {
    let broth = dice.pick(&[rgb(150, 54, 22), rgb(168, 96, 40), rgb(118, 66, 32)]);
    let noodle = dice.pick(&[rgb(246, 222, 150), rgb(250, 238, 205), rgb(236, 200, 120)]);
    liquid(canvas, bowl, broth, dice);
    let tangle = dice.next_u64() as u32;
    let lie = dice.range(0.0, PI);
    for layer in 0..2 {
        // Strands mostly lie one way, as when lifted with chopsticks; the top layer drifts a little.
        let (sin, cos) = (lie + layer as f32 * dice.range(0.35, 0.6)).sin_cos();
        let phase = dice.range(0.0, TAU);
        let mound = Region {
            r: bowl.r * 0.8,
            ..bowl
        };
        canvas.blob(Blob::circle(mound.cx, mound.cy, mound.r), |s| {
            // The upper layer shows only in patches, so the strands seem to cross and tangle.
            let patch = if layer == 1 {
                smoothstep(0.42, 0.58, noise(s.x * 6.0, s.y * 6.0, tangle))
            } else {
                1.0
            };
            if patch <= 0.0 {
                return None;
            }
            let (u, v) = (s.lx * cos + s.ly * sin, -s.lx * sin + s.ly * cos);
            let wave = v * 6.5
                + 1.4 * (u * 2.0 + phase).sin()
                + 1.2 * noise(u * 1.6 + 9.0, v * 1.6, tangle);
            let across = (wave.rem_euclid(1.0) - 0.5).abs() / 0.4;
            let strand = smoothstep(1.2, 1.0, across);
            let round = 1.0 - 0.45 * across * across;
            let under = smoothstep(
                1.0,
                0.85,
                s.q + 0.1 * noise(s.x * 12.0, s.y * 12.0, tangle ^ 7),
            );
            Some((
                scale(noodle, round * dome_light(s.lx, s.ly, 0.6)),
                strand * under * patch,
            ))
        });
    }
    for _ in 0..(3 + dice.next_u64() % 3) {
        let (x, y) = spot_in(bowl, dice, 0.45);
        braised_slice(
            canvas,
            Blob::ellipse(x, y, bowl.r * 0.24, bowl.r * 0.15, dice.range(0.0, PI)),
            dice,
        );
    }
    if dice.range(0.0, 1.0) < 0.6 {
        let (x, y) = spot_in(bowl, dice, 0.5);
        half_egg(
            canvas,
            Blob::ellipse(x, y, bowl.r * 0.2, bowl.r * 0.15, dice.range(0.0, PI)),
        );
    }
    scallions(
        canvas,
        Region {
            r: bowl.r * 0.85,
            ..bowl
        },
        dice,
        22,
    );
}

/// Braised beef or pork: dark, glossy, a little fibrous.
fn braised_slice(canvas: &mut Canvas, slice: Blob, dice: &mut Dice) {
    let meat = dice.pick(&[rgb(150, 82, 48), rgb(164, 96, 58), rgb(132, 70, 40)]);
    let seed = dice.next_u64() as u32;
    let wobble = dice.range(0.0, TAU);
    canvas.shadow(
        Blob {
            cx: slice.cx + 0.006,
            cy: slice.cy + 0.009,
            ..slice
        },
        0.35,
    );
    canvas.blob(slice, |s| {
        // Sliced beef is flat and ragged, with fibres and a seam of tendon.
        let edge = 0.9 + 0.1 * (angle_of(s.lx, s.ly) * 4.0 + wobble).sin();
        if s.q > edge {
            return None;
        }
        let fibre = noise(s.lx * 2.0, s.ly * 14.0, seed);
        let tendon = smoothstep(0.12, 0.0, (s.ly - 0.3 * s.lx * s.lx + 0.1).abs()) * 0.5;
        let colour = mix(scale(meat, 0.75 + 0.35 * fibre), rgb(214, 170, 130), tendon);
        let colour = scale(
            colour,
            dome_light(s.lx, s.ly, 0.25) - 0.25 * smoothstep(0.7, 1.0, s.q / edge),
        );
        Some((mix(colour, WHITE, gloss(s.lx, s.ly, 0.3) * 0.25), 1.0))
    });
}

fn half_egg(canvas: &mut Canvas, egg: Blob) {
    canvas.shadow(
        Blob {
            cx: egg.cx + 0.006,
            cy: egg.cy + 0.009,
            ..egg
        },
        0.35,
    );
    canvas.blob(egg, |s| {
        let white = scale(rgb(250, 248, 240), dome_light(s.lx, s.ly, 0.4));
        let yolk_q = ((s.lx * 1.8).powi(2) + (s.ly * 1.6).powi(2)).sqrt();
        let yolk = mix(
            rgb(240, 150, 30),
            rgb(250, 190, 60),
            smoothstep(1.0, 0.2, yolk_q),
        );
        Some((mix(white, yolk, smoothstep(1.0, 0.93, yolk_q)), 1.0))
    });
}

/// Chopped spring onion: small green rings with pale centres.
fn scallions(canvas: &mut Canvas, over: Region, dice: &mut Dice, count: u32) {
    for _ in 0..count {
        let (x, y) = spot_in(over, dice, 0.1);
        let green = dice.pick(&[rgb(86, 160, 60), rgb(120, 190, 80), rgb(60, 130, 45)]);
        canvas.blob(
            Blob::ellipse(x, y, 0.011, 0.009, dice.range(0.0, PI)),
            |s| {
                let colour = mix(rgb(210, 235, 170), green, smoothstep(0.35, 0.6, s.q));
                Some((colour, 1.0))
            },
        );
    }
}

pub(super) fn soup(canvas: &mut Canvas, bowl: Region, dice: &mut Dice) {
    let broth = dice.pick(&[rgb(222, 110, 40), rgb(236, 214, 170), rgb(196, 150, 70)]);
    liquid(canvas, bowl, broth, dice);
    // Egg ribbons drifting in the broth.
    let ribbon_seed = dice.next_u64() as u32;
    canvas.blob(Blob::circle(bowl.cx, bowl.cy, bowl.r * 0.95), |s| {
        let cloud = noise(s.x * 10.0, s.y * 10.0, ribbon_seed);
        let ridge = 1.0 - (2.0 * cloud - 1.0).abs();
        let amount = smoothstep(0.78, 0.95, ridge)
            * smoothstep(0.35, 0.6, noise(s.x * 4.0, s.y * 4.0, ribbon_seed ^ 3));
        Some((scale(rgb(252, 222, 110), 0.9 + 0.15 * ridge), amount * 0.85))
    });
    for _ in 0..(4 + dice.next_u64() % 3) {
        let (x, y) = spot_in(bowl, dice, 0.25);
        let side = bowl.r * dice.range(0.09, 0.12);
        let cube = Blob {
            cx: x,
            cy: y,
            rx: side,
            ry: side,
            angle: dice.range(0.0, PI),
            squareness: 6.0,
        };
        canvas.shadow(
            Blob {
                cx: x + 0.005,
                cy: y + 0.007,
                ..cube
            },
            0.3,
        );
        canvas.blob(cube, |s| {
            let lit = 0.9 + 0.1 * (-s.lx - s.ly) * 0.5;
            Some((
                scale(rgb(248, 242, 222), lit - 0.12 * smoothstep(0.8, 1.0, s.q)),
                1.0,
            ))
        });
    }
    herbs(
        canvas,
        Region {
            r: bowl.r * 0.9,
            ..bowl
        },
        dice,
        14,
    );
}

/// Coriander leaves: small lobed green blobs.
fn herbs(canvas: &mut Canvas, over: Region, dice: &mut Dice, count: u32) {
    for _ in 0..count {
        let (x, y) = spot_in(over, dice, 0.1);
        let lobes = dice.range(0.0, TAU);
        let size = dice.range(0.012, 0.02);
        canvas.blob(Blob::circle(x, y, size), |s| {
            let edge = 0.75 + 0.25 * (angle_of(s.lx, s.ly) * 3.0 + lobes).cos();
            (s.q < edge).then_some((scale(rgb(64, 150, 50), 0.8 + 0.3 * (1.0 - s.q)), 1.0))
        });
    }
}

/// White rice with visible grains, shaded as a mound.
fn rice_mound(canvas: &mut Canvas, at: Region, dice: &mut Dice) {
    let seed = dice.next_u64() as u32;
    canvas.shadow(Blob::circle(at.cx + 0.01, at.cy + 0.015, at.r), 0.4);
    canvas.blob(Blob::circle(at.cx, at.cy, at.r), |s| {
        // One grain per cell at a random angle and offset: close enough to cooked rice.
        let grain_size = 0.016;
        let (gx, gy) = (s.x / grain_size, s.y / grain_size);
        let (cx, cy) = (gx.floor() as i32, gy.floor() as i32);
        let turn = hash2(cx, cy, seed) * PI;
        let jitter = (hash2(cx, cy, seed ^ 1) - 0.5) * 0.2;
        let (fx, fy) = (gx.fract() - 0.5 + jitter, gy.fract() - 0.5 - jitter);
        let (a, b) = (
            fx * turn.cos() + fy * turn.sin(),
            -fx * turn.sin() + fy * turn.cos(),
        );
        let d = (a / 0.45).powi(2) + (b / 0.26).powi(2);
        let grain = mix(
            rgb(228, 224, 212),
            rgb(253, 252, 248),
            smoothstep(1.3, 0.5, d),
        );
        let shaded = scale(grain, dome_light(s.lx, s.ly, 0.9));
        Some((shaded, 1.0))
    });
}

/// Glossy cubes of red-braised pork with a band of fat.
fn pork_cubes(canvas: &mut Canvas, over: Region, dice: &mut Dice, count: u32) {
    for _ in 0..count {
        let (x, y) = spot_in(over, dice, 0.25);
        let side = over.r * dice.range(0.2, 0.26);
        let cube = Blob {
            cx: x,
            cy: y,
            rx: side,
            ry: side * 0.85,
            angle: dice.range(0.0, PI),
            squareness: 5.0,
        };
        canvas.shadow(
            Blob {
                cx: x + 0.007,
                cy: y + 0.01,
                ..cube
            },
            0.45,
        );
        canvas.blob(cube, |s| {
            let fat = smoothstep(0.18, 0.05, (s.ly + 0.1).abs());
            let colour = mix(rgb(150, 50, 22), rgb(214, 140, 90), fat * 0.8);
            let colour = scale(
                colour,
                0.8 + 0.25 * (-s.lx - s.ly) * 0.5 - 0.25 * smoothstep(0.8, 1.0, s.q),
            );
            Some((mix(colour, WHITE, gloss(s.lx, s.ly, 0.4) * 0.45), 1.0))
        });
    }
}

/// Halved baby bok choy: pale stem, dark glossy leaf.
fn bok_choy(canvas: &mut Canvas, at: (f32, f32), length: f32, angle: f32) {
    let leaf = Blob::ellipse(at.0, at.1, length, length * 0.42, angle);
    canvas.shadow(
        Blob {
            cx: at.0 + 0.006,
            cy: at.1 + 0.009,
            ..leaf
        },
        0.35,
    );
    canvas.blob(leaf, |s| {
        let stem = smoothstep(-0.1, 0.4, s.lx);
        let colour = mix(rgb(40, 110, 40), rgb(200, 230, 150), stem);
        let vein = smoothstep(0.12, 0.0, s.ly.abs()) * (1.0 - stem);
        let colour = mix(colour, rgb(150, 200, 110), vein * 0.6);
        let colour = scale(colour, dome_light(s.lx, s.ly, 0.5));
        Some((mix(colour, WHITE, gloss(s.lx, s.ly, 0.3) * 0.3), 1.0))
    });
}

pub(super) fn rice_bowl(canvas: &mut Canvas, well: Region, dice: &mut Dice) {
    rice_mound(
        canvas,
        Region {
            r: well.r * 0.92,
            ..well
        },
        dice,
    );
    let topping = Region {
        cx: well.cx + well.r * 0.22,
        cy: well.cy + well.r * 0.05,
        r: well.r * 0.5,
    };
    pork_cubes(canvas, topping, dice, 7);
    for i in 0..2 {
        let at = (
            well.cx - well.r * 0.42,
            well.cy - well.r * (0.3 - 0.45 * i as f32),
        );
        bok_choy(
            canvas,
            at,
            well.r * 0.36,
            dice.range(-0.4, 0.4) + PI * (0.9 + 0.2 * i as f32),
        );
    }
    scallions(canvas, topping, dice, 10);
}

pub(super) fn dumplings(canvas: &mut Canvas, well: Region, dice: &mut Dice) {
    let fried = dice.range(0.0, 1.0) < 0.4;
    let count = 6 + dice.next_u64() % 2;
    let start = dice.range(0.0, TAU);
    for i in 0..count {
        let around = start + TAU * i as f32 / count as f32;
        let ring = well.r * 0.58;
        let (x, y) = (well.cx + around.cos() * ring, well.cy + around.sin() * ring);
        dumpling(
            canvas,
            Blob::ellipse(x, y, well.r * 0.34, well.r * 0.21, around + PI / 2.0),
            fried,
        );
    }
    dumpling(
        canvas,
        Blob::ellipse(well.cx, well.cy, well.r * 0.34, well.r * 0.21, start),
        fried,
    );
}

/// A crescent of dough with pleats along its seam; pan-fried ones get a golden edge.
fn dumpling(canvas: &mut Canvas, body: Blob, fried: bool) {
    canvas.shadow(
        Blob {
            cx: body.cx + 0.008,
            cy: body.cy + 0.012,
            ..body
        },
        0.5,
    );
    canvas.blob(body, |s| {
        let pleat_zone =
            smoothstep(0.55, 0.1, (s.ly + 0.15).abs()) * smoothstep(0.95, 0.5, s.lx.abs());
        let pleats = 1.0 + 0.12 * pleat_zone * (s.lx * 22.0).sin();
        let seam = smoothstep(0.1, 0.0, (s.ly + 0.15).abs()) * smoothstep(0.9, 0.4, s.lx.abs());
        let mut colour = scale(rgb(246, 238, 218), dome_light(s.lx, s.ly, 0.7) * pleats);
        colour = mix(colour, rgb(255, 252, 240), seam * 0.5);
        if fried {
            colour = mix(colour, rgb(196, 130, 50), smoothstep(0.75, 1.0, s.q) * 0.8);
        }
        Some((mix(colour, WHITE, gloss(s.lx, s.ly, 0.3) * 0.25), 1.0))
    });
}

/// A small saucer of dipping sauce next to the plate.
pub(super) fn dipping_sauce(canvas: &mut Canvas, at: Region, sauce: Colour) {
    canvas.shadow(Blob::circle(at.cx + 0.01, at.cy + 0.015, at.r), 0.5);
    canvas.blob(Blob::circle(at.cx, at.cy, at.r), |s| {
        let rim = smoothstep(0.7, 0.8, s.q);
        let colour = mix(sauce, rgb(244, 242, 236), rim);
        let colour = mix(colour, WHITE, gloss(s.lx, s.ly, 0.25) * 0.35 * (1.0 - rim));
        Some((scale(colour, 1.0 - 0.2 * smoothstep(0.93, 1.0, s.q)), 1.0))
    });
}

pub(super) fn greens(canvas: &mut Canvas, well: Region, dice: &mut Dice) {
    let count = 26 + dice.next_u64() % 8;
    for _ in 0..count {
        let (x, y) = spot_in(well, dice, 0.3);
        let length = well.r * dice.range(0.22, 0.32);
        let leaf = Blob::ellipse(
            x,
            y,
            length,
            length * dice.range(0.35, 0.5),
            dice.range(0.0, TAU),
        );
        let shade = dice.range(0.7, 1.1);
        canvas.blob(leaf, |s| {
            let colour = scale(rgb(46, 120, 44), shade * dome_light(s.lx, s.ly, 0.4));
            let vein = smoothstep(0.08, 0.0, s.ly.abs()) * smoothstep(1.0, 0.2, s.lx.abs());
            let colour = mix(colour, rgb(170, 210, 120), vein * 0.7);
            let colour = scale(colour, 1.0 - 0.35 * smoothstep(0.7, 1.0, s.q));
            Some((mix(colour, WHITE, gloss(s.lx, s.ly, 0.25) * 0.35), 1.0))
        });
    }
    for _ in 0..14 {
        let (x, y) = spot_in(well, dice, 0.35);
        let (colour, size) = if dice.range(0.0, 1.0) < 0.6 {
            (rgb(246, 232, 180), 0.008)
        } else {
            (rgb(210, 40, 30), 0.011)
        };
        canvas.blob(
            Blob::ellipse(x, y, size, size * 0.6, dice.range(0.0, PI)),
            |s| Some((scale(colour, dome_light(s.lx, s.ly, 0.6)), 1.0)),
        );
    }
}

pub(super) fn drink(canvas: &mut Canvas, at: Region, dice: &mut Dice) {
    let coaster = Region {
        r: at.r * 0.9,
        ..at
    };
    let cork = dice.next_u64() as u32;
    canvas.shadow(
        Blob::circle(coaster.cx + 0.012, coaster.cy + 0.018, coaster.r),
        0.45,
    );
    canvas.blob(Blob::circle(coaster.cx, coaster.cy, coaster.r), |s| {
        let speckle = noise(s.x * 120.0, s.y * 120.0, cork);
        Some((
            scale(
                rgb(196, 150, 104),
                0.85 + 0.2 * speckle - 0.15 * smoothstep(0.92, 1.0, s.q),
            ),
            1.0,
        ))
    });
    let glass = Region {
        r: at.r * 0.7,
        ..at
    };
    let (tea, pearls) = dice.pick(&[
        (rgb(200, 150, 104), true),
        (rgb(214, 120, 40), false),
        (rgb(226, 80, 90), false),
        (rgb(150, 180, 80), true),
    ]);
    canvas.shadow(Blob::circle(glass.cx + 0.03, glass.cy + 0.04, glass.r), 0.4);
    let liquid_seed = dice.next_u64() as u32;
    canvas.blob(Blob::circle(glass.cx, glass.cy, glass.r), |s| {
        let depth = 0.8 + 0.2 * noise(s.x * 8.0, s.y * 8.0, liquid_seed)
            - 0.25 * smoothstep(0.7, 0.93, s.q);
        let mut colour = scale(tea, depth);
        let rim = smoothstep(0.92, 0.95, s.q);
        colour = mix(colour, rgb(236, 240, 242), rim * 0.75);
        let glint = smoothstep(0.45, 0.0, (angle_of(s.lx, s.ly) - 0.85).abs()) * rim;
        Some((mix(colour, WHITE, glint * 0.8), 1.0))
    });
    let inside = Region {
        r: glass.r * 0.85,
        ..glass
    };
    if pearls {
        for _ in 0..18 {
            let (x, y) = spot_in(inside, dice, 0.1);
            canvas.blob(Blob::circle(x, y, 0.018), |s| {
                Some((
                    mix(rgb(40, 22, 14), WHITE, gloss(s.lx, s.ly, 0.35) * 0.5),
                    0.55,
                ))
            });
        }
    } else {
        lemon_slice(canvas, spot_in(inside, dice, 0.6), inside.r * 0.38);
    }
    for _ in 0..4 {
        let (x, y) = spot_in(inside, dice, 0.45);
        let side = inside.r * dice.range(0.16, 0.22);
        let cube = Blob {
            cx: x,
            cy: y,
            rx: side,
            ry: side,
            angle: dice.range(0.0, PI),
            squareness: 4.0,
        };
        canvas.blob(cube, |s| {
            let edge = smoothstep(0.6, 0.95, s.q);
            Some((
                mix(WHITE, rgb(230, 240, 246), s.lx * 0.5 + 0.5),
                0.18 + 0.45 * edge,
            ))
        });
    }
    straw(canvas, glass, dice);
}

fn lemon_slice(canvas: &mut Canvas, at: (f32, f32), r: f32) {
    canvas.blob(Blob::circle(at.0, at.1, r), |s| {
        let segment = (angle_of(s.lx, s.ly) * 9.0 / TAU).fract();
        let pith = smoothstep(0.08, 0.0, segment.min(1.0 - segment)) + smoothstep(0.2, 0.1, s.q);
        let flesh = mix(rgb(250, 222, 90), rgb(255, 248, 210), pith.min(1.0));
        let rind = smoothstep(0.82, 0.88, s.q);
        Some((mix(flesh, rgb(236, 200, 30), rind), 0.92))
    });
}

fn straw(canvas: &mut Canvas, glass: Region, dice: &mut Dice) {
    let colour = dice.pick(&[rgb(30, 30, 34), rgb(220, 60, 60), rgb(240, 240, 236)]);
    let angle = dice.range(-0.9, -0.5);
    let length = glass.r * 0.75;
    let (x, y) = (
        glass.cx + angle.cos() * length * 0.9,
        glass.cy + angle.sin() * length * 0.9,
    );
    let body = Blob {
        cx: x,
        cy: y,
        rx: length,
        ry: 0.022,
        angle,
        squareness: 10.0,
    };
    canvas.shadow(
        Blob {
            cx: x + 0.02,
            cy: y + 0.03,
            ..body
        },
        0.3,
    );
    canvas.blob(body, |s| {
        Some((
            scale(colour, 0.75 + 0.4 * (1.0 - s.ly * s.ly) - 0.2 * s.ly),
            1.0,
        ))
    });
}

pub(super) fn dessert(canvas: &mut Canvas, well: Region, dice: &mut Dice) {
    let (body, sauce) = dice.pick(&[
        (rgb(250, 176, 50), rgb(252, 248, 236)),
        (rgb(250, 240, 220), rgb(200, 40, 60)),
        (rgb(120, 70, 40), rgb(250, 236, 210)),
    ]);
    canvas.blob(Blob::circle(well.cx, well.cy, well.r * 0.85), |s| {
        let wobble = 0.92 + 0.08 * (angle_of(s.lx, s.ly) * 5.0).sin();
        (s.q < wobble).then_some((mix(sauce, WHITE, gloss(s.lx, s.ly, 0.5) * 0.3), 0.95))
    });
    let pudding = Blob::circle(well.cx, well.cy, well.r * 0.5);
    canvas.shadow(
        Blob {
            cx: pudding.cx + 0.012,
            cy: pudding.cy + 0.018,
            ..pudding
        },
        0.5,
    );
    canvas.blob(pudding, |s| {
        let colour = scale(body, dome_light(s.lx, s.ly, 1.2));
        Some((mix(colour, WHITE, gloss(s.lx, s.ly, 0.35) * 0.6), 1.0))
    });
    for _ in 0..3 {
        let (x, y) = spot_in(
            Region {
                r: well.r * 0.75,
                ..well
            },
            dice,
            0.0,
        );
        canvas.blob(Blob::circle(x, y, well.r * 0.08), |s| {
            let colour = scale(rgb(196, 20, 40), dome_light(s.lx, s.ly, 1.0));
            Some((mix(colour, WHITE, gloss(s.lx, s.ly, 0.3) * 0.7), 1.0))
        });
    }
    let mint = (well.cx + well.r * 0.05, well.cy - well.r * 0.12);
    for turn in [-0.6f32, 0.5] {
        let leaf = Blob::ellipse(
            mint.0 + turn * 0.02,
            mint.1,
            well.r * 0.16,
            well.r * 0.08,
            turn - PI / 2.0,
        );
        canvas.blob(leaf, |s| {
            let vein = smoothstep(0.12, 0.0, s.ly.abs());
            Some((
                mix(
                    scale(rgb(60, 150, 60), dome_light(s.lx, s.ly, 0.5)),
                    rgb(160, 220, 130),
                    vein * 0.6,
                ),
                1.0,
            ))
        });
    }
}

pub(super) fn combo(canvas: &mut Canvas, well: Region, dice: &mut Dice) {
    let rice = Region {
        cx: well.cx - well.r * 0.38,
        cy: well.cy + well.r * 0.1,
        r: well.r * 0.5,
    };
    rice_mound(canvas, rice, dice);
    let greens_at = Region {
        cx: well.cx + well.r * 0.3,
        cy: well.cy - well.r * 0.45,
        r: well.r * 0.45,
    };
    for _ in 0..12 {
        let (x, y) = spot_in(greens_at, dice, 0.3);
        bok_choy(canvas, (x, y), greens_at.r * 0.4, dice.range(0.0, TAU));
    }
    pork_cubes(
        canvas,
        Region {
            cx: well.cx + well.r * 0.3,
            cy: well.cy + well.r * 0.3,
            r: well.r * 0.42,
        },
        dice,
        5,
    );
    half_egg(
        canvas,
        Blob::ellipse(
            well.cx - well.r * 0.2,
            well.cy - well.r * 0.55,
            well.r * 0.2,
            well.r * 0.15,
            0.4,
        ),
    );
}

pub(super) fn snack(canvas: &mut Canvas, well: Region, dice: &mut Dice) {
    let crust = dice.next_u64() as u32;
    let start = dice.range(0.0, PI);
    for i in 0..5 {
        let angle = start + i as f32 * 0.5 + dice.range(-0.15, 0.15);
        let offset = (i as f32 - 2.0) * well.r * 0.2;
        let roll = Blob {
            cx: well.cx + offset * (angle + PI / 2.0).cos(),
            cy: well.cy + offset * (angle + PI / 2.0).sin(),
            rx: well.r * 0.62,
            ry: well.r * 0.15,
            angle,
            squareness: 5.0,
        };
        canvas.shadow(
            Blob {
                cx: roll.cx + 0.008,
                cy: roll.cy + 0.012,
                ..roll
            },
            0.5,
        );
        canvas.blob(roll, |s| {
            let blisters = 0.6 * noise(s.x * 40.0, s.y * 40.0, crust)
                + 0.4 * noise(s.x * 95.0, s.y * 95.0, crust ^ 9);
            let cylinder = 0.7 + 0.4 * (1.0 - s.ly * s.ly) - 0.15 * s.ly;
            let colour = mix(
                rgb(232, 168, 66),
                rgb(176, 100, 32),
                smoothstep(0.4, 0.85, blisters),
            );
            let colour = scale(colour, cylinder - 0.2 * smoothstep(0.85, 1.0, s.lx.abs()));
            Some((mix(colour, WHITE, gloss(s.lx * 0.3, s.ly, 0.25) * 0.3), 1.0))
        });
    }
}
