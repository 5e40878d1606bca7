//! `uploads`: files representatives send, stored by hash in the media store and served at an
//! unguessable token URL that LINE fetches.

use super::sql::Db;
use super::StoreError;
use crate::args;

/// An upload to record.
#[derive(Debug, Clone, Copy)]
pub struct NewUpload<'a> {
    /// The URL token (256 random bits, URL-safe base64).
    pub token: &'a str,
    /// `image`, `video`, `audio` or `file`.
    pub kind: &'a str,
    /// SHA-256 (hex) of the bytes in the media store.
    pub sha256: &'a str,
    /// The content type it is served with.
    pub content_type: &'a str,
    /// Bytes.
    pub size: i64,
    /// The file's name as the representative chose it.
    pub file_name: &'a str,
    /// SHA-256 (hex) of its preview, if it has one.
    pub preview_sha256: Option<&'a str>,
    /// The channel it is sent on.
    pub channel_id: &'a str,
    /// Who uploaded it.
    pub uploaded_by: &'a str,
    /// Now, UTC ms.
    pub created_at: i64,
}

/// An upload as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// SHA-256 (hex) of the bytes in the media store.
    pub sha256: String,
    /// The content type it is served with.
    pub content_type: String,
    /// The file's name.
    pub file_name: String,
    /// SHA-256 (hex) of its preview, if it has one.
    pub preview_sha256: Option<String>,
}

/// Records an upload.
pub fn insert<'a>(db: impl Into<Db<'a>>, upload: &NewUpload<'_>) -> Result<(), StoreError> {
    let db = db.into();
    db.execute(
        "INSERT INTO uploads (token, kind, sha256, content_type, size, file_name, preview_sha256, channel_id,
             uploaded_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        args![
            upload.token,
            upload.kind,
            upload.sha256,
            upload.content_type,
            upload.size,
            upload.file_name,
            upload.preview_sha256,
            upload.channel_id,
            upload.uploaded_by,
            upload.created_at
        ],
    )?;
    Ok(())
}

/// The upload behind a token, if any.
pub fn get<'a>(db: impl Into<Db<'a>>, token: &str) -> Result<Option<Upload>, StoreError> {
    let db = db.into();
    db.query_opt(
        "SELECT sha256, content_type, file_name, preview_sha256 FROM uploads WHERE token = ?1",
        args![token],
        |r| {
            Ok(Upload {
                sha256: r.get(0)?,
                content_type: r.get(1)?,
                file_name: r.get(2)?,
                preview_sha256: r.get(3)?,
            })
        },
    )
}
