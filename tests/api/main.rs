//! The JSON API of SPEC §5 through real HTTP, each test on its own database.

#[path = "../common/mod.rs"]
mod common;

mod boards;
mod cli;
mod events;
mod hostile;
mod ordering;
mod outage;
mod slow_bodies;
mod tokens;
mod widgets;
