//! Paints one demo picture per dish style into /tmp so a person can judge them by eye,
//! plus a 3×3 contact sheet: `cargo run -p diancan-integrations --example demo_pictures [seed]`.

use diancan_integrations::demo_images::{DishStyle, dish_picture};
use image::imageops;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let tile = 320;
    let mut sheet = image::RgbImage::new(tile * 3, tile * 3);
    for (i, style) in DishStyle::ALL.into_iter().enumerate() {
        let started = Instant::now();
        let png = dish_picture(seed, style);
        let elapsed = started.elapsed();
        let path = format!("/tmp/demo-{}.png", style.as_str());
        std::fs::write(&path, &png)?;
        println!("{path}: {elapsed:?}");
        let small = image::load_from_memory(&png)?
            .thumbnail(tile, tile)
            .to_rgb8();
        let (x, y) = ((i as u32 % 3) * tile, (i as u32 / 3) * tile);
        imageops::overlay(&mut sheet, &small, i64::from(x), i64::from(y));
    }
    sheet.save("/tmp/demo-all.png")?;
    println!("/tmp/demo-all.png");
    Ok(())
}
