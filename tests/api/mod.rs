//! The JSON API through real HTTP, each test on its own database.

mod audit;
mod auth_first;
mod boards;
mod cli;
mod event_widgets;
mod events;
mod harness;
mod hostile;
mod import;
mod layout;
mod limits;
mod operator;
mod ordering;
mod outage;
mod playlists;
mod private_boards;
mod roles;
mod scripts;
mod shares;
mod slow_bodies;
mod smashing;
mod tokens;
mod widget_kinds;
mod widgets;
