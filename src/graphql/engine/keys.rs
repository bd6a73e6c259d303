//! The keys the batching loader answers: a record by id or by a unique
//! column, a page of a relation for one parent, every row of a relation,
//! a relation's count; and the columns a list reads. Keys are compared and
//! hashed so that the same question asked twice in a request is one key.
//! It uses the relation model and paging below it.

use std::{
    hash::{Hash, Hasher},
    marker::PhantomData,
    sync::Arc,
};

use super::{
    filter::Pred,
    paging::Shape,
    relation::{RelDef, hash_rel, same_rel},
};

/// Declares a loader key generic over an entity, with the trait impls a
/// [`DataLoader`] needs (derives would wrongly require them of the entity).
macro_rules! key {
    ($(#[$meta:meta])* $name:ident { $($field:ident: $ty:ty),+ $(,)? } eq: |$a:ident, $b:ident| $eq:expr; hash: |$k:ident, $state:ident| $hash:expr;) => {
        $(#[$meta])*
        pub struct $name<E> {
            $(pub $field: $ty,)+
            _entity: PhantomData<fn() -> E>,
        }

        impl<E> $name<E> {
            pub fn new($($field: $ty),+) -> Self {
                $name { $($field,)+ _entity: PhantomData }
            }
        }

        impl<E> Clone for $name<E> {
            fn clone(&self) -> Self {
                $name { $($field: self.$field.clone(),)+ _entity: PhantomData }
            }
        }

        impl<E> PartialEq for $name<E> {
            fn eq(&self, other: &Self) -> bool {
                let ($a, $b) = (self, other);
                $eq
            }
        }

        impl<E> Eq for $name<E> {}

        impl<E> Hash for $name<E> {
            fn hash<H: Hasher>(&self, state: &mut H) {
                let ($k, $state) = (self, state);
                $hash
            }
        }
    };
}

key!(
    /// One record by its id.
    ById { id: i64 }
    eq: |a, b| a.id == b.id;
    hash: |k, state| k.id.hash(state);
);

key!(
    /// One record by the value of a unique text column (slug, SIREN, key).
    ByKey { column: &'static str, value: String }
    eq: |a, b| a.column == b.column && a.value == b.value;
    hash: |k, state| (k.column, &k.value).hash(state);
);

key!(
    /// One page of the records related to one parent, read as far as
    /// `columns` go; `counted`: with the number of all the records the page
    /// is cut from.
    RelPage { rel: &'static RelDef, parent: i64, shape: Arc<Shape>, counted: bool, columns: Columns }
    eq: |a, b| same_rel(a.rel, b.rel) && a.parent == b.parent && a.shape == b.shape && a.counted == b.counted && a.columns == b.columns;
    hash: |k, state| { hash_rel(k.rel, state); (k.parent, &k.shape, k.counted, &k.columns).hash(state) };
);

/// The columns of a table a list's statement reads; it reads the others as
/// NULL. Only columns that may be NULL are left out, so that every row still
/// makes a whole model, and a resolver reading a column left out would see
/// an empty value: [`Columns::selected`] keeps every column a field reads.
#[derive(Clone, Debug)]
pub struct Columns(pub(crate) Arc<[&'static str]>);

/// The keys of one list field share one `Columns`: compared by pointer
/// first, and hashed by length alone (the keys' other parts tell them apart).
impl PartialEq for Columns {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Eq for Columns {}

impl Hash for Columns {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.len().hash(state);
    }
}

/// A page of related records, and the number of all the records it is cut
/// from when that was asked for.
#[derive(Clone)]
pub struct Page<M> {
    pub rows: Vec<M>,
    pub total: Option<i64>,
}

impl<M> Default for Page<M> {
    fn default() -> Self {
        Page {
            rows: Vec::new(),
            total: None,
        }
    }
}

key!(
    /// All the records related to one parent, for short closed lists.
    RelAll { rel: &'static RelDef, parent: i64 }
    eq: |a, b| same_rel(a.rel, b.rel) && a.parent == b.parent;
    hash: |k, state| { hash_rel(k.rel, state); k.parent.hash(state) };
);

/// How many records matching a condition are related to one parent.
#[derive(Clone)]
pub struct RelCount {
    pub rel: &'static RelDef,
    pub parent: i64,
    pub pred: Option<Arc<Pred>>,
}

impl PartialEq for RelCount {
    fn eq(&self, other: &Self) -> bool {
        same_rel(self.rel, other.rel) && self.parent == other.parent && self.pred == other.pred
    }
}

impl Eq for RelCount {}

impl Hash for RelCount {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_rel(self.rel, state);
        (self.parent, &self.pred).hash(state);
    }
}
