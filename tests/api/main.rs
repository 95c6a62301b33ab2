//! The JSON API of SPEC §5 through real HTTP, each test on its own database.

#[path = "../common/mod.rs"]
mod common;

mod auth_first;
mod boards;
mod cli;
mod events;
mod hostile;
mod operator;
mod ordering;
mod outage;
mod private_boards;
mod slow_bodies;
mod tokens;
mod widgets;
