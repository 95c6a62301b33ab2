//! Validated domain types. Requests are parsed into these once, at the HTTP edge; past that
//! point a `Slug` is a valid slug and a `Value` fits its widget's kind.

mod board;
mod board_file;
mod fields;
mod image;
mod layout;
mod numbers;
mod playlist;
mod role;
mod share;
mod slug;
pub mod smashing;
pub mod source;
mod token;
mod value;
mod visibility;
mod widget;
mod widget_config;

pub use board::{BoardPatch, NewBoard};
pub use board_file::{BOARD_FILE_VERSION, BoardFile, BoardSpec, FileError};
pub use fields::{Fields, ValidationErrors};
pub use image::{ImageHosts, ImageSource};
pub use layout::{Layout, MAX_PLACEMENTS, Placement};
pub use playlist::{MAX_BOARDS as MAX_PLAYLIST_BOARDS, MIN_INTERVAL_S, NewPlaylist, PlaylistPatch};
pub use role::Role;
pub use share::{NewShare, PlaylistSharePath, SharePath, parse_lifetime};
pub use slug::Slug;
pub use token::{BOOTSTRAP_TOKEN_NAME, CLI_ACTOR, DEFAULT_ROLE, NewToken};
pub use value::{MAX_BATCH, MAX_VALUE_BYTES, Value};
pub use visibility::{Audience, Visibility};
pub use widget::{MAX_POSITION, NewWidget, WidgetKind, WidgetPatch};
pub use widget_config::{ConfigKeys, MAX_HEIGHT, MAX_WIDTH, Threshold, WidgetConfig};
