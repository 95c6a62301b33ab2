//! Share links. Only a SHA-256 of each secret is stored; a secret is shown once, at creation.
//! A link works while it is neither revoked nor expired, by the database's clock. A link admits
//! to one board, or to the boards of one playlist (those it has at the time of each request).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::tokens::hash;
use super::{Db, StoreError, StoreResult};
use crate::domain::NewShare;

/// A link "works": the condition on `shares s` every admission checks. Macros, so `concat!`
/// keeps the queries `&'static str`.
macro_rules! works {
    () => {
        "s.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > now())"
    };
}

/// The columns of a [`ShareRow`], from [`share_tables`].
macro_rules! share_columns {
    () => {
        "s.id, b.slug AS board, p.name AS playlist, s.name, s.created_at, s.expires_at, s.revoked_at,
         COALESCE(s.expires_at <= now(), false) AS expired"
    };
}

/// `shares s` with the board `b` or the playlist `p` it admits to (the other is all NULLs).
macro_rules! share_tables {
    ($shares:literal) => {
        concat!($shares, " s LEFT JOIN boards b ON b.id = s.board_id LEFT JOIN playlists p ON p.id = s.playlist_id")
    };
}

/// 32 random bytes (256 bits), hex, like a token's.
pub fn generate_secret() -> String {
    crate::config::random_hex(32)
}

/// The address that admits its holder.
pub fn path_of(secret: &str) -> String {
    format!("/s/{secret}")
}

/// What a link admits to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Board(&'a str),
    Playlist(&'a str),
}

impl<'a> Target<'a> {
    /// As bound to queries: (board slug, playlist name), one of them `None`.
    fn binds(self) -> (Option<&'a str>, Option<&'a str>) {
        match self {
            Self::Board(slug) => (Some(slug), None),
            Self::Playlist(name) => (None, Some(name)),
        }
    }
}

/// A board by its slug, a playlist as `playlist:<name>`: how the audit log and the CLI name it.
impl std::fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Board(slug) => f.write_str(slug),
            Self::Playlist(name) => write!(f, "playlist:{name}"),
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ShareRow {
    pub id: i64,
    /// The board it admits to, or (`None`) …
    pub board: Option<String>,
    /// … the playlist whose boards it admits to.
    pub playlist: Option<String>,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Past its `expires_at`, by the database's clock.
    pub expired: bool,
}

impl ShareRow {
    pub fn target(&self) -> Target<'_> {
        match (&self.board, &self.playlist) {
            (Some(board), _) => Target::Board(board),
            (None, Some(playlist)) => Target::Playlist(playlist),
            // The table's CHECK makes a link name exactly one of the two.
            (None, None) => unreachable!("share link {} admits to nothing", self.id),
        }
    }

    pub fn state(&self) -> &'static str {
        match (self.revoked_at, self.expired) {
            (Some(_), _) => "revoked",
            (None, true) => "expired",
            (None, false) => "active",
        }
    }
}

/// Makes a link to `target` and returns it with its secret, which is not stored anywhere.
/// `NotFound`: no such board or playlist. Not audited: a change made for a caller goes through
/// [`super::changes`].
pub async fn create(conn: &mut PgConnection, target: Target<'_>, new: &NewShare) -> StoreResult<(ShareRow, String)> {
    let secret = generate_secret();
    let (board, playlist) = target.binds();
    let row = sqlx::query_as(concat!(
        "WITH s AS (INSERT INTO shares (board_id, playlist_id, name, secret_hash, expires_at)
                    SELECT t.board_id, t.playlist_id, $3, $4, $5 FROM (
                        SELECT id AS board_id, NULL::bigint AS playlist_id FROM boards WHERE slug = $1
                        UNION ALL SELECT NULL, id FROM playlists WHERE name = $2) t
                    RETURNING *)
         SELECT ",
        share_columns!(),
        " FROM ",
        share_tables!("s")
    ))
    .bind(board)
    .bind(playlist)
    .bind(&new.name)
    .bind(&hash(&secret)[..])
    .bind(new.expires_at)
    .fetch_optional(conn)
    .await?;
    Ok((row.ok_or(StoreError::NotFound)?, secret))
}

/// The links of one board or playlist (`Some`) or all links, newest first; never their secrets.
pub async fn list(db: &Db, target: Option<Target<'_>>) -> StoreResult<Vec<ShareRow>> {
    let (board, playlist) = target.map_or((None, None), Target::binds);
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        share_columns!(),
        " FROM ",
        share_tables!("shares"),
        " WHERE ($1::text IS NULL AND $2::text IS NULL) OR b.slug = $1 OR p.name = $2
         ORDER BY s.created_at DESC, s.id DESC"
    ))
    .bind(board)
    .bind(playlist)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// Revokes link `id` of `target` (`None`: whichever it admits to); returns it. `NotFound` when
/// there is no such link that is not revoked already. Not audited: see [`create`].
pub async fn revoke(conn: &mut PgConnection, target: Option<Target<'_>>, id: i64) -> StoreResult<ShareRow> {
    let (board, playlist) = target.map_or((None, None), Target::binds);
    let row = sqlx::query_as(concat!(
        "WITH s AS (UPDATE shares SET revoked_at = now()
                    WHERE id = $1 AND revoked_at IS NULL
                      AND ($2::text IS NULL OR board_id = (SELECT id FROM boards WHERE slug = $2))
                      AND ($3::text IS NULL OR playlist_id = (SELECT id FROM playlists WHERE name = $3))
                    RETURNING *)
         SELECT ",
        share_columns!(),
        " FROM ",
        share_tables!("s")
    ))
    .bind(id)
    .bind(board)
    .bind(playlist)
    .fetch_optional(conn)
    .await?;
    row.ok_or(StoreError::NotFound)
}

/// A working link presented by a viewer: which link, and a board it admits to (a playlist's
/// link gives one admission per board).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Admission {
    pub id: i64,
    pub board: String,
}

/// The working links among these secrets, in one query.
pub async fn admissions<S: AsRef<str>>(db: &Db, secrets: &[S]) -> StoreResult<Vec<Admission>> {
    let hashes: Vec<Vec<u8>> = secrets.iter().map(|s| hash(s.as_ref()).to_vec()).collect();
    let rows = sqlx::query_as(concat!(
        "SELECT s.id, b.slug AS board FROM shares s
         JOIN boards b ON b.id = s.board_id
                       OR b.id IN (SELECT pb.board_id FROM playlist_boards pb WHERE pb.playlist_id = s.playlist_id)
         WHERE s.secret_hash = ANY($1) AND ",
        works!()
    ))
    .bind(&hashes)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// The working link of this secret, for `/s/<secret>`.
pub async fn find_working(db: &Db, secret: &str) -> StoreResult<Option<ShareRow>> {
    let row = sqlx::query_as(concat!(
        "SELECT ",
        share_columns!(),
        " FROM ",
        share_tables!("shares"),
        " WHERE s.secret_hash = $1 AND ",
        works!()
    ))
    .bind(&hash(secret)[..])
    .fetch_optional(db)
    .await?;
    Ok(row)
}

/// Which of these links still work (the others were revoked, expired or deleted with their board
/// or playlist).
pub async fn still_working(db: &Db, ids: &[i64]) -> StoreResult<Vec<i64>> {
    let ids = sqlx::query_scalar(concat!("SELECT s.id FROM shares s WHERE s.id = ANY($1) AND ", works!()))
        .bind(ids)
        .fetch_all(db)
        .await?;
    Ok(ids)
}
