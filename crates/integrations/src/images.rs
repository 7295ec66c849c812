//! Merchant uploads of dish photos: sniff, decode within strict limits, and re-encode as
//! a square thumbnail and a detail picture, so nothing the merchant sent is ever served as-is.

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use std::io::Cursor;

/// Phone photos are 2–6 MB; anything larger is not a dish photo worth the bandwidth.
pub const MAX_UPLOAD_BYTES: usize = 8 * 1024 * 1024;
/// A 36-megapixel limit covers every phone camera while keeping decode memory bounded.
pub const MAX_SIDE_PX: u32 = 6000;
const MAX_DECODE_ALLOC: u64 = 256 * 1024 * 1024;
pub const THUMBNAIL_SIDE_PX: u32 = 320;
pub const DETAIL_MAX_SIDE_PX: u32 = 1080;
const JPEG_QUALITY: u8 = 82;

/// The two pictures the menu serves for one dish photo, both JPEG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedImage {
    /// Square, centre-cropped, for menu lists.
    pub thumbnail: Vec<u8>,
    /// Fits within 1080×1080, for the dish page.
    pub detail: Vec<u8>,
    /// Size of `detail`.
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("image is larger than {MAX_UPLOAD_BYTES} bytes")]
    TooLarge,
    #[error("only JPEG, PNG and WebP images are accepted")]
    UnsupportedFormat,
    #[error("image dimensions exceed {MAX_SIDE_PX}x{MAX_SIDE_PX}")]
    TooManyPixels,
    #[error("image could not be decoded: {0}")]
    Corrupt(String),
}

impl ImageError {
    pub fn code(&self) -> &'static str {
        match self {
            ImageError::TooLarge => "IMAGE_TOO_LARGE",
            ImageError::UnsupportedFormat => "IMAGE_UNSUPPORTED_FORMAT",
            ImageError::TooManyPixels => "IMAGE_TOO_MANY_PIXELS",
            ImageError::Corrupt(_) => "IMAGE_CORRUPT",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            ImageError::TooLarge => "图片不能超过 8 MB".into(),
            ImageError::UnsupportedFormat => "只支持 JPEG、PNG 或 WebP 图片".into(),
            ImageError::TooManyPixels => {
                format!("图片尺寸不能超过 {MAX_SIDE_PX}×{MAX_SIDE_PX} 像素")
            }
            ImageError::Corrupt(_) => "图片已损坏，无法读取".into(),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            ImageError::TooLarge => "The image must be at most 8 MB".into(),
            ImageError::UnsupportedFormat => "Only JPEG, PNG or WebP images are accepted".into(),
            ImageError::TooManyPixels => {
                format!("The image must be at most {MAX_SIDE_PX}×{MAX_SIDE_PX} pixels")
            }
            ImageError::Corrupt(_) => "The image is damaged and cannot be read".into(),
        }
    }
}

/// Checks, decodes and re-encodes one uploaded dish photo.
pub fn process_upload(bytes: &[u8]) -> Result<ProcessedImage, ImageError> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(ImageError::TooLarge);
    }
    let format = sniff_format(bytes).ok_or(ImageError::UnsupportedFormat)?;
    let photo = flatten_onto_white(decode_within_limits(bytes, format)?);
    let thumbnail = DynamicImage::ImageRgb8(photo.clone()).resize_to_fill(
        THUMBNAIL_SIDE_PX,
        THUMBNAIL_SIDE_PX,
        FilterType::Triangle,
    );
    let detail = fit_within(photo, DETAIL_MAX_SIDE_PX);
    Ok(ProcessedImage {
        thumbnail: encode_jpeg(&thumbnail.to_rgb8())?,
        width: detail.width(),
        height: detail.height(),
        detail: encode_jpeg(&detail)?,
    })
}

/// Trusts the bytes, never the file name: a text file renamed `.jpg` is refused here.
fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if bytes.starts_with(PNG) {
        Some(ImageFormat::Png)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::WebP)
    } else {
        None
    }
}

/// Reads the header first, so a decompression bomb is refused before its pixels are allocated.
fn decode_within_limits(bytes: &[u8], format: ImageFormat) -> Result<DynamicImage, ImageError> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(from_decode_error)?;
    limits
        .reserve(decoder.total_bytes())
        .map_err(from_decode_error)?;
    // Phones store portrait photos sideways plus an EXIF note; a missing or broken note
    // is not worth refusing the photo over.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut photo = DynamicImage::from_decoder(decoder).map_err(from_decode_error)?;
    photo.apply_orientation(orientation);
    Ok(photo)
}

fn from_decode_error(error: image::ImageError) -> ImageError {
    match error {
        image::ImageError::Limits(_) => ImageError::TooManyPixels,
        image::ImageError::Unsupported(_) => ImageError::UnsupportedFormat,
        other => ImageError::Corrupt(other.to_string()),
    }
}

/// JPEG has no transparency; transparent PNG corners would otherwise turn black.
fn flatten_onto_white(photo: DynamicImage) -> RgbImage {
    if !photo.color().has_alpha() {
        return photo.into_rgb8();
    }
    let rgba = photo.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white =
            |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

/// Shrinks to fit a square box, keeping the aspect ratio; small photos are never blown up.
fn fit_within(photo: RgbImage, max_side: u32) -> RgbImage {
    if photo.width() <= max_side && photo.height() <= max_side {
        return photo;
    }
    DynamicImage::ImageRgb8(photo)
        .resize(max_side, max_side, FilterType::CatmullRom)
        .into_rgb8()
}

fn encode_jpeg(picture: &RgbImage) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(picture)
        .map_err(|e| ImageError::Corrupt(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::png::PngEncoder;
    use image::{ImageEncoder, Rgba, RgbaImage};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = RgbaImage::from_fn(width, height, |x, y| {
            Rgba([
                (x % 256) as u8,
                (y % 256) as u8,
                120,
                if x < 4 { 0 } else { 255 },
            ])
        });
        let mut out = Vec::new();
        PngEncoder::new(&mut out)
            .write_image(
                picture.as_raw(),
                width,
                height,
                image::ExtendedColorType::Rgba8,
            )
            .expect("encode test png");
        out
    }

    fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
        assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]), "not a JPEG");
        let picture =
            image::load_from_memory_with_format(bytes, ImageFormat::Jpeg).expect("decodes");
        (picture.width(), picture.height())
    }

    /// PNG chunk checksum (CRC-32/ISO-HDLC), so a patched header still looks genuine.
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn a_landscape_photo_becomes_a_square_thumbnail_and_a_fitted_detail() {
        let processed = process_upload(&png(1600, 1200)).expect("processes");
        assert_eq!(jpeg_size(&processed.thumbnail), (320, 320));
        assert_eq!(jpeg_size(&processed.detail), (1080, 810));
        assert_eq!((processed.width, processed.height), (1080, 810));
    }

    #[test]
    fn a_small_photo_is_not_upscaled() {
        let processed = process_upload(&png(400, 300)).expect("processes");
        assert_eq!(jpeg_size(&processed.detail), (400, 300));
        assert_eq!(jpeg_size(&processed.thumbnail), (320, 320));
    }

    #[test]
    fn random_bytes_and_renamed_text_are_unsupported() {
        let noise: Vec<u8> = (0u32..4096)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(process_upload(&noise), Err(ImageError::UnsupportedFormat));
        assert_eq!(
            process_upload("红烧牛肉面 28 元".as_bytes()),
            Err(ImageError::UnsupportedFormat)
        );
        assert_eq!(
            ImageError::UnsupportedFormat.code(),
            "IMAGE_UNSUPPORTED_FORMAT"
        );
    }

    #[test]
    fn a_header_claiming_huge_dimensions_is_refused_before_decoding() {
        let mut bomb = png(2, 2);
        // IHDR data starts after the 8-byte signature, 4-byte length and 4-byte type.
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(process_upload(&bomb), Err(ImageError::TooManyPixels));
        assert_eq!(
            process_upload(&png(7000, 10)),
            Err(ImageError::TooManyPixels)
        );
    }

    #[test]
    fn oversized_uploads_are_refused_without_looking_inside() {
        let mut big = png(2, 2);
        big.resize(MAX_UPLOAD_BYTES + 1, 0);
        assert_eq!(process_upload(&big), Err(ImageError::TooLarge));
        assert_eq!(ImageError::TooLarge.message_zh(), "图片不能超过 8 MB");
    }

    #[test]
    fn a_truncated_png_is_corrupt() {
        let broken = &png(64, 64)[..60];
        assert_eq!(
            process_upload(broken).map_err(|e| e.code()),
            Err("IMAGE_CORRUPT")
        );
    }
}
