//! What a record type of the graph is to the engine: its GraphQL name, its
//! table and entity, its filter, sort and group inputs, and its numbers.
//! Every record type implements it (through `node!`); it uses the engine's
//! inputs below it.

use async_graphql::OutputType;
use sea_orm::EntityTrait;

use super::{
    aggregate::{GroupKeyInput, GroupRow},
    filter::Filter,
    paging::OrderInput,
    relation::Record,
};

/// A record type of the graph, backed by one table.
pub trait NodeType: From<<Self::Entity as EntityTrait>::Model> + OutputType {
    /// The GraphQL type name, also the prefix of its global IDs.
    const TYPE: &'static str;
    /// The table behind it.
    const TABLE: &'static str;
    type Entity: EntityTrait<Model: Record + Clone + Send + Sync>;
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
