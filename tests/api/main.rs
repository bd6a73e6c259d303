//! Integration tests: the hub on real databases — SQLite files and
//! PostgreSQL — through its own migrations.

#[macro_use]
mod helpers;
mod fixtures;

mod abuse;
mod aggregates;
mod answers;
mod batching;
mod bodies;
mod cli;
mod columns;
mod durability;
mod errors;
mod federation;
mod filtering;
mod geography;
mod http;
mod live;
mod migrations;
mod ops;
mod ordering;
mod pagination;
mod persisted;
mod reference;
mod registers;
mod relations;
mod roles;
mod schema;
mod search;
mod shared_limits;
mod snapshots;
mod standbys;
mod synthetic;
mod time_limit;
mod transfer;
mod validated;
mod writes;
