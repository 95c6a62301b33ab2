//! The one TLS crypto provider of the process.

/// Every TLS client in the process (sqlx's PostgreSQL, redis's `rediss://`, reqwest's pull
/// sources and load tester) uses rustls with ring. rustls needs a process default to be named
/// before the first client is built; reqwest is built without a provider of its own, so it would
/// panic otherwise. Call before building any client; only the first call sets it.
pub fn use_ring() {
    let _already_chosen = rustls::crypto::ring::default_provider().install_default();
}
