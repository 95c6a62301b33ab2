use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

/// Counters of the stream, kept in atomics so the hot path never takes a lock; `/metrics` and
/// `/dashboard/debug` read them.
#[derive(Debug)]
pub struct StreamStats {
    pub max_connections: usize,
    connections: Arc<AtomicUsize>,
    pub max_per_address: usize,
    /// Open streams of each client address that has one.
    per_address: Arc<DashMap<IpAddr, usize>>,
    events_published: AtomicU64,
    events_delivered: AtomicU64,
    heartbeats_sent: AtomicU64,
    redis_reconnects: AtomicU64,
    last_event_id: AtomicI64,
}

/// Holds one of the `SSE_MAX_CONNECTIONS` slots and one of its client address's
/// `SSE_MAX_CONNECTIONS_PER_IP`; dropping it (the stream ended) frees both.
#[derive(Debug)]
pub struct ConnectionSlot {
    connections: Arc<AtomicUsize>,
    _address: Option<AddressSlot>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.connections.fetch_sub(1, Relaxed);
    }
}

#[derive(Debug)]
struct AddressSlot {
    address: IpAddr,
    per_address: Arc<DashMap<IpAddr, usize>>,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        // An address without streams leaves the map, so passing clients do not fill it.
        if let Entry::Occupied(mut open) = self.per_address.entry(self.address) {
            *open.get_mut() -= 1;
            if *open.get() == 0 {
                open.remove();
            }
        }
    }
}

/// Which limit refused a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamsFull {
    /// `SSE_MAX_CONNECTIONS`.
    Process,
    /// `SSE_MAX_CONNECTIONS_PER_IP`.
    Address,
}

impl StreamStats {
    pub fn new(max_connections: usize, max_per_address: usize) -> Self {
        Self {
            max_connections,
            connections: Arc::default(),
            max_per_address,
            per_address: Arc::default(),
            events_published: AtomicU64::default(),
            events_delivered: AtomicU64::default(),
            heartbeats_sent: AtomicU64::default(),
            redis_reconnects: AtomicU64::default(),
            last_event_id: AtomicI64::default(),
        }
    }

    /// A slot for one more stream of this client address (`None`: a request without a socket).
    pub fn try_open(&self, address: Option<IpAddr>) -> Result<ConnectionSlot, StreamsFull> {
        let address_slot = address.map(|address| self.try_open_for(address)).transpose()?;
        self.connections
            .fetch_update(Relaxed, Relaxed, |n| (n < self.max_connections).then_some(n + 1))
            .map_err(|_| StreamsFull::Process)?;
        Ok(ConnectionSlot { connections: self.connections.clone(), _address: address_slot })
    }

    fn try_open_for(&self, address: IpAddr) -> Result<AddressSlot, StreamsFull> {
        let mut open = self.per_address.entry(address).or_insert(0);
        if *open >= self.max_per_address {
            return Err(StreamsFull::Address);
        }
        *open += 1;
        Ok(AddressSlot { address, per_address: self.per_address.clone() })
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Relaxed)
    }

    pub fn published(&self, last_event_id: i64) {
        self.events_published.fetch_add(1, Relaxed);
        self.last_event_id.store(last_event_id, Relaxed);
    }

    /// Where the dispatcher starts: the newest id at start-up.
    pub fn set_last_event_id(&self, id: i64) {
        self.last_event_id.store(id, Relaxed);
    }

    pub fn delivered(&self, events: u64, heartbeats: u64) {
        if events > 0 {
            self.events_delivered.fetch_add(events, Relaxed);
        }
        if heartbeats > 0 {
            self.heartbeats_sent.fetch_add(heartbeats, Relaxed);
        }
    }

    pub fn redis_reconnected(&self) {
        self.redis_reconnects.fetch_add(1, Relaxed);
    }

    pub fn events_published(&self) -> u64 {
        self.events_published.load(Relaxed)
    }

    pub fn events_delivered(&self) -> u64 {
        self.events_delivered.load(Relaxed)
    }

    pub fn heartbeats_sent(&self) -> u64 {
        self.heartbeats_sent.load(Relaxed)
    }

    pub fn redis_reconnects(&self) -> u64 {
        self.redis_reconnects.load(Relaxed)
    }

    pub fn last_event_id(&self) -> i64 {
        self.last_event_id.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([203, 0, 113, last]))
    }

    #[test]
    fn each_address_has_its_own_cap_within_the_process_cap() {
        let stats = StreamStats::new(3, 2);
        let first = stats.try_open(address(1)).unwrap();
        let _second = stats.try_open(address(1)).unwrap();
        assert_eq!(stats.try_open(address(1)).unwrap_err(), StreamsFull::Address);
        let _other = stats.try_open(address(2)).unwrap();
        assert_eq!(stats.try_open(address(3)).unwrap_err(), StreamsFull::Process);
        assert_eq!(stats.connections(), 3);

        drop(first);
        assert_eq!(stats.connections(), 2);
        let _again = stats.try_open(address(1)).unwrap();
    }

    #[test]
    fn an_address_without_streams_is_forgotten() {
        let stats = StreamStats::new(10, 2);
        let slot = stats.try_open(address(1)).unwrap();
        // Refused by the process cap: the address's slot taken on the way is given back.
        let full = StreamStats::new(0, 2);
        assert_eq!(full.try_open(address(1)).unwrap_err(), StreamsFull::Process);
        assert!(full.per_address.is_empty());
        drop(slot);
        assert!(stats.per_address.is_empty());
    }
}
