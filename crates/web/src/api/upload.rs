//! Reading one uploaded file from a multipart body, with a size cap enforced while reading.

use crate::error::ApiError;
use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use axum::http::StatusCode;

pub struct UploadedFile {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "FILE_TOO_LARGE",
        format!("文件不能超过 {} MB", max / (1024 * 1024)),
        format!("The file must be at most {} MB", max / (1024 * 1024)),
    )
}

/// The `file` field of a multipart upload, refused as soon as it grows past `max_bytes`.
pub async fn single_file(
    mut multipart: Multipart,
    max_bytes: usize,
) -> Result<UploadedFile, ApiError> {
    let bad =
        |zh: &str, en: &str| ApiError::bad_request("INVALID_UPLOAD", zh.to_owned(), en.to_owned());
    // The whole body's limit can cut an upload off too: that is the same answer as a big file.
    let unreadable = |e: MultipartError, zh: &str, en: &str| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(max_bytes)
        } else {
            bad(zh, en)
        }
    };
    let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| unreadable(e, "上传内容无法读取", "The upload could not be read"))?
    else {
        return Err(bad(
            "请选择要上传的文件（字段名 file）",
            "Choose a file to upload (field name: file)",
        ));
    };
    // The document says `file` is the only part: another is refused, not skipped.
    let only_file = || {
        bad(
            "上传只能包含一个 file 字段",
            "An upload has one part only, named file",
        )
    };
    if field.name() != Some("file") {
        return Err(only_file());
    }
    let file_name = field.file_name().unwrap_or("upload").to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| unreadable(e, "上传中断", "The upload was interrupted"))?
    {
        if bytes.len() + chunk.len() > max_bytes {
            return Err(too_large(max_bytes));
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.is_empty() {
        return Err(bad("文件是空的", "The file is empty"));
    }
    drop(field);
    let more = multipart
        .next_field()
        .await
        .map_err(|e| unreadable(e, "上传内容无法读取", "The upload could not be read"))?;
    if more.is_some() {
        return Err(only_file());
    }
    Ok(UploadedFile { file_name, bytes })
}

pub fn image_error(error: diancan_integrations::images::ImageError) -> ApiError {
    use diancan_integrations::images::ImageError;
    let status = match error {
        ImageError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ImageError::UnsupportedFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, error.code(), error.message_zh(), error.message_en())
}
