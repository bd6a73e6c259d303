//! The relation model: how the rows of a relation hang from their parent
//! record (a column, a link table, or through another table), each
//! relation known by its `Type.field` name, and what a read of it is
//! tagged with. It uses nothing else of the engine.

use std::{
    hash::{Hash, Hasher},
    marker::PhantomData,
};

use crate::tags::{self, Tag};

/// A model with an integer primary key named `id`.
pub trait Record {
    fn id(&self) -> i64;
}

/// How the rows of a relation hang from their parent record.
#[derive(Debug)]
pub enum Via {
    /// The child row's own column holds the parent id.
    Column(&'static str),
    /// A link table holds (child id, parent id) pairs.
    Link {
        table: &'static str,
        child: &'static str,
        parent: &'static str,
    },
    /// The child row points (`fk`) to a row of `table`, whose `parent`
    /// column holds the parent id.
    Through {
        table: &'static str,
        fk: &'static str,
        parent: &'static str,
    },
}

/// A one-to-many or many-to-many relation of the graph, known by its name.
#[derive(Debug)]
pub struct RelDef {
    /// `Type.field`, as in the schema.
    pub name: &'static str,
    /// Table of the related rows.
    pub child: &'static str,
    pub via: Via,
    /// A fixed condition on the related rows: `(column, value)`.
    pub only: Option<(&'static str, &'static str)>,
}

/// A relation whose rows are models of entity `E`.
pub struct Rel<E> {
    pub def: RelDef,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Rel<E> {
    pub const fn new(def: RelDef) -> Self {
        Rel {
            def,
            _entity: PhantomData,
        }
    }
}

/// A relation is named `Type.field`, once in the schema.
impl PartialEq for RelDef {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for RelDef {}

impl Hash for RelDef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

pub(super) fn same_rel(a: &RelDef, b: &RelDef) -> bool {
    a == b
}

pub(super) fn hash_rel<H: Hasher>(rel: &RelDef, state: &mut H) {
    rel.hash(state);
}

impl RelDef {
    /// The type of the records the relation hangs from: `Territory` of
    /// `Territory.deployments`.
    pub fn parent_type(&self) -> &'static str {
        self.name
            .split_once('.')
            .map_or(self.name, |(parent, _)| parent)
    }

    /// The tags of a read of this relation's rows under `parents` (see
    /// [`crate::tags`]): the parts of a record under that record; a
    /// territory's own deployments, concertations or contributions under
    /// that territory's scope; anything else as its whole type, with the
    /// table it is reached through.
    pub fn tags(&self, parents: &[i64]) -> Vec<Tag> {
        let parent = self.parent_type();
        let child = tags::owner(self.child);
        let each = |tag: fn(&'static str, i64) -> Tag, type_name| {
            parents.iter().map(move |id| tag(type_name, *id))
        };
        match self.via {
            Via::Column(_) if tags::is_part(self.child) && child == parent => {
                each(Tag::record, parent).collect()
            }
            Via::Column("territory_id")
                if parent == "Territory" && tags::TERRITORIAL.contains(&child) =>
            {
                each(Tag::territory, child).collect()
            }
            Via::Through {
                table,
                parent: "territory_id",
                ..
            } if parent == "Territory"
                && tags::TERRITORIAL.contains(&child)
                && tags::TERRITORIAL.contains(&tags::owner(table)) =>
            {
                each(Tag::territory, child)
                    .chain(each(Tag::territory, tags::owner(table)))
                    .collect()
            }
            Via::Column(_) => vec![Tag::all(child)],
            // Links that are parts of the parent (a deployment's
            // organizations) change with it alone.
            Via::Link { table, .. } | Via::Through { table, .. }
                if tags::is_part(table) && tags::owner(table) == parent =>
            {
                std::iter::once(Tag::all(child))
                    .chain(each(Tag::record, parent))
                    .collect()
            }
            Via::Link { table, .. } | Via::Through { table, .. } => {
                vec![Tag::all(child), Tag::all(tags::owner(table))]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(name: &'static str, child: &'static str, via: Via) -> RelDef {
        RelDef {
            name,
            child,
            via,
            only: None,
        }
    }

    #[test]
    fn a_read_of_a_relation_is_tagged_as_narrowly_as_its_writes_say() {
        let risks = rel(
            "Deployment.risks",
            "deployment_risk",
            Via::Column("deployment_id"),
        );
        assert_eq!(
            risks.tags(&[4, 5]),
            [Tag::record("Deployment", 4), Tag::record("Deployment", 5)]
        );
        let uses = rel(
            "Territory.deployments",
            "deployment",
            Via::Column("territory_id"),
        );
        assert_eq!(uses.tags(&[12]), [Tag::territory("Deployment", 12)]);
        let concerns = rel(
            "Territory.concerns",
            "contribution",
            Via::Through {
                table: "concertation",
                fk: "concertation_id",
                parent: "territory_id",
            },
        );
        assert_eq!(
            concerns.tags(&[12]),
            [
                Tag::territory("Contribution", 12),
                Tag::territory("Concertation", 12)
            ]
        );
        let children = rel("Territory.children", "territory", Via::Column("parent_id"));
        assert_eq!(children.tags(&[12]), [Tag::all("Territory")]);
        let suppliers = rel(
            "Deployment.organizations",
            "organization",
            Via::Link {
                table: "deployment_organization",
                child: "organization_id",
                parent: "deployment_id",
            },
        );
        assert_eq!(
            suppliers.tags(&[4]),
            [Tag::all("Organization"), Tag::record("Deployment", 4)]
        );
        let named = rel(
            "Deployment.concerns",
            "contribution",
            Via::Link {
                table: "contribution_deployment",
                child: "contribution_id",
                parent: "deployment_id",
            },
        );
        assert_eq!(
            named.tags(&[4]),
            [Tag::all("Contribution"), Tag::all("Contribution")]
        );
    }
}
