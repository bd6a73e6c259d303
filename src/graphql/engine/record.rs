//! What a record type of the graph is to the engine: its GraphQL name, its
//! table and entity, its filter, sort and group inputs, and its numbers.
//! Every record type implements it (through `node!`); it uses the engine's
//! inputs below it.

use async_graphql::OutputType;
use entity::records::Declared;
use sea_orm::EntityTrait;

use super::{
    aggregate::{GroupKeyInput, GroupRow},
    filter::Filter,
    paging::OrderInput,
    relation::Record,
};

/// A record type of the graph, backed by one table.
pub trait NodeType: From<<Self::Entity as EntityTrait>::Model> + OutputType {
    /// The GraphQL type name, also the prefix of its global IDs (as its
    /// entity declares it).
    const TYPE: &'static str = <Self::Entity as Declared>::TYPE;
    /// The table behind it.
    const TABLE: &'static str = <Self::Entity as Declared>::TABLE;
    type Entity: EntityTrait<Model: Record + Clone + Send + Sync> + Declared;
    /// Its filter input.
    type Filter: Filter;
    /// Its sort-key input.
    type Order: OrderInput;
    /// What its lists can be grouped by.
    type GroupKey: GroupKeyInput;
    /// A group of its records.
    type Group: OutputType + From<GroupRow>;
    /// Its numeric columns, which groups sum, average, and bound.
    const NUMBERS: &'static [&'static str];
}

/// Whether two names are the same, at compile time: `node!` checks with it
/// that a GraphQL object is named as its entity declares.
pub const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
