mod audit;
mod board_file;
mod boards;
mod debug;
mod events;
mod health;
pub mod layout;
pub mod playlists;
mod shares;
mod smashing;
mod stream;
mod tokens;
mod widgets;

use actix_web::web;

/// Routes of `dashboard serve`: the JSON API, the Smashing push API and the stream.
pub fn api(cfg: &mut web::ServiceConfig) {
    stream_only(cfg);
    cfg.service(web::resource("/dashboard").get(boards::list))
        .service(web::resource("/dashboard/boards").post(boards::create))
        .service(web::resource("/dashboard/audit").get(audit::list))
        .service(web::resource("/dashboard/export").get(board_file::export))
        .service(web::resource("/dashboard/import").post(board_file::import))
        .service(web::resource("/dashboard/events").post(events::push_batch))
        .service(web::resource("/dashboard/tokens").get(tokens::list).post(tokens::create))
        .service(web::resource("/dashboard/tokens/{name}").delete(tokens::revoke))
        .service(
            web::resource("/dashboard/boards/{board}").get(boards::show).patch(boards::update).delete(boards::delete),
        )
        .service(web::resource("/dashboard/boards/{board}/shares").get(shares::list).post(shares::create))
        .service(web::resource("/dashboard/boards/{board}/shares/{id}").delete(shares::revoke))
        .service(web::resource("/dashboard/boards/{board}/widgets").post(widgets::create))
        .service(web::resource("/dashboard/boards/{board}/layout").put(layout::save))
        .service(web::resource("/dashboard/playlists").get(playlists::list).post(playlists::create))
        .service(
            web::resource("/dashboard/playlists/{playlist}")
                .get(playlists::show)
                .patch(playlists::update)
                .delete(playlists::delete),
        )
        .service(
            web::resource("/dashboard/playlists/{playlist}/shares")
                .get(shares::list_for_playlist)
                .post(shares::create_for_playlist),
        )
        .service(web::resource("/dashboard/playlists/{playlist}/shares/{id}").delete(shares::revoke_for_playlist))
        .service(
            web::resource("/dashboard/boards/{board}/widgets/{widget}")
                .get(widgets::show)
                .patch(widgets::update)
                .delete(widgets::delete),
        )
        .service(
            web::resource("/dashboard/boards/{board}/widgets/{widget}/events").get(events::history).post(events::push),
        )
        .service(web::resource("/widgets/{id}").post(smashing::push))
        .service(web::resource("/dashboards/{board}").post(smashing::reload))
        .service(web::resource("/metrics").get(super::metrics::render));
}

/// Routes of `dashboard stream`: the stream, its debug page and health, nothing that writes.
pub fn stream_only(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").get(health::health).head(health::health))
        .service(web::resource("/dashboard/debug").get(debug::debug))
        .service(web::resource("/dashboard/stream").get(stream::stream));
}
