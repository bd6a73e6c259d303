//! The query engine: what every record type shares, naming none of them.
//! Global ids, Relay connections and keyset paging, filters compiled to
//! SQL, ordering, the batching loader, aggregates (`groupBy`), look-ups by
//! id and key, what a request selects, and the bounds and error codes of
//! every request. It uses the entities and the hub's error type; the
//! domain modules above it declare their record types with it.

pub mod aggregate;
pub mod batch;
pub mod connection;
pub mod documents;
pub mod errors;
pub mod filter;
pub mod grouping;
pub mod guard;
pub mod id;
pub mod keys;
pub mod loader;
pub mod node;
pub mod paging;
pub mod predicate;
pub mod record;
pub mod relation;
pub mod scalars;
pub mod selection;
