//! What an answer read and what a write touched, in one vocabulary: tags.
//!
//! A tag names a record type and a scope: all its records (`Deployment`),
//! one record with the rows that are parts of it (`Deployment/55`: its
//! risks, its links), or the records of one territory
//! (`Deployment/territory/12`). The engine tags every read of a request;
//! the store tags every write. A kept answer is dropped when a write
//! touches one of its tags: a read of a type's scope is touched by a write
//! of that type naming the same scope, or by a write naming the whole type
//! (a bulk import, direct SQL, a write whose scope is unknown).
//!
//! Answers carry their tags to HTTP caches as `Surrogate-Key` and
//! `Cache-Tag` keys, as they print (see [`keys`] and docs/operations.md).

use std::{collections::HashMap, fmt, sync::Mutex};

/// The records of a type that a read covers, or that a write touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// All of them: a read of a list of the whole type, a search, a count;
    /// a write whose scope is not known more closely.
    All,
    /// One record, and the rows that are parts of it.
    Record(i64),
    /// The records of one territory (the types in [`TERRITORIAL`]).
    Territory(i64),
}

/// A record type, and a scope of its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    pub type_name: &'static str,
    pub scope: Scope,
}

impl Tag {
    pub const fn all(type_name: &'static str) -> Tag {
        Tag {
            type_name,
            scope: Scope::All,
        }
    }

    pub const fn record(type_name: &'static str, id: i64) -> Tag {
        Tag {
            type_name,
            scope: Scope::Record(id),
        }
    }

    pub const fn territory(type_name: &'static str, id: i64) -> Tag {
        Tag {
            type_name,
            scope: Scope::Territory(id),
        }
    }

    /// Whether a write touching `written` changes what a read tagged `self`
    /// read.
    pub fn touched_by(&self, written: &Tag) -> bool {
        self.type_name == written.type_name
            && (self.scope == Scope::All
                || written.scope == Scope::All
                || self.scope == written.scope)
    }

    /// The key every answer that read records of `type_name` carries, in
    /// whatever scope: purged, it drops them all.
    pub fn any_key(type_name: &str) -> String {
        format!("{type_name}/any")
    }
}

/// A tag as HTTP caches purge by it: `Deployment`, `Deployment/55`,
/// `Deployment/territory/12`.
impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope {
            Scope::All => f.write_str(self.type_name),
            Scope::Record(id) => write!(f, "{}/{id}", self.type_name),
            Scope::Territory(id) => write!(f, "{}/territory/{id}", self.type_name),
        }
    }
}

/// The type the audit trail's events are read as: every write adds one.
pub const AUDIT: &str = "AuditEvent";

/// The record types whose writes name their territory (a deployment's,
/// a concertation's, and a contribution's through its concertation), so
/// that a territory's list of them is read under that territory's scope.
pub const TERRITORIAL: &[&str] = &["Deployment", "Concertation", "Contribution"];

/// The record type whose writes write `table`: a record table's own type,
/// or for the rows that are parts of another record (its links, its
/// lists, the tallies kept of it), that record's type. The audit trail is
/// [`AUDIT`]; a table of no record type is its own name.
pub fn owner(table: &'static str) -> &'static str {
    match table {
        "deployment_risk"
        | "deployment_organization"
        | "deployment_domain"
        | "deployment_technique"
        | "deployment_register_entry"
        | "deployment_tally" => "Deployment",
        "territory_membership" | "territory_identifier" => "Territory",
        "concertation_co_organizer" | "concertation_format" | "concertation_public" => {
            "Concertation"
        }
        "contribution_risk_category" | "contribution_deployment" => "Contribution",
        "finding_risk_category" | "finding_lever" | "finding_concertation" => "StudyFinding",
        "lever_risk_category" => "Lever",
        "audit_event" => AUDIT,
        _ => entity::records::of_table(table).map_or(table, |record| record.type_name),
    }
}

/// Whether the rows of `table` are parts of another record (see [`owner`]).
pub fn is_part(table: &'static str) -> bool {
    entity::records::of_table(table).is_none_or(|record| record.type_name != owner(table))
}

/// The tags of a record of `table` read by its id: the record's own, or,
/// for a part of another record, all of that record's type.
pub fn of_row(table: &'static str, id: i64) -> Tag {
    if is_part(table) {
        Tag::all(owner(table))
    } else {
        Tag::record(owner(table), id)
    }
}

/// More tags of one type than this in one answer become one tag of the
/// whole type: the header stays short, and the index small.
const MOST_OF_A_TYPE: usize = 64;

/// The tags of what one request read, gathered while it runs.
#[derive(Default, Debug)]
pub struct Reads(Mutex<HashMap<&'static str, Read>>);

/// What a request read of one type.
#[derive(Default, Debug)]
enum Read {
    #[default]
    Nothing,
    Scopes(std::collections::BTreeSet<Scope>),
    All,
}

impl Reads {
    pub fn add(&self, tag: Tag) {
        let mut reads = self.0.lock().expect("reads poisoned");
        let read = reads.entry(tag.type_name).or_default();
        match (&mut *read, tag.scope) {
            (Read::All, _) => {}
            (_, Scope::All) => *read = Read::All,
            (Read::Scopes(scopes), scope) => {
                scopes.insert(scope);
                if scopes.len() > MOST_OF_A_TYPE {
                    *read = Read::All;
                }
            }
            (Read::Nothing, scope) => *read = Read::Scopes([scope].into()),
        }
    }

    pub fn add_all(&self, tags: impl IntoIterator<Item = Tag>) {
        for tag in tags {
            self.add(tag);
        }
    }

    /// The tags read, in order: each type's scopes, or the type alone.
    pub fn tags(&self) -> Vec<Tag> {
        let reads = self.0.lock().expect("reads poisoned");
        let mut tags: Vec<Tag> = reads
            .iter()
            .flat_map(|(type_name, read)| match read {
                Read::Nothing => Vec::new(),
                Read::All => vec![Tag::all(type_name)],
                Read::Scopes(scopes) => scopes
                    .iter()
                    .map(|scope| Tag {
                        type_name,
                        scope: *scope,
                    })
                    .collect(),
            })
            .collect();
        tags.sort();
        tags
    }
}

/// The keys of an answer that read `tags`, for `Surrogate-Key` (spaces
/// between) and `Cache-Tag` (commas): each tag's, and each type's
/// [`Tag::any_key`].
pub fn keys(tags: &[Tag]) -> Vec<String> {
    let mut keys: Vec<String> = tags.iter().map(Tag::to_string).collect();
    let mut types: Vec<&str> = tags.iter().map(|tag| tag.type_name).collect();
    types.sort_unstable();
    types.dedup();
    keys.extend(types.into_iter().map(Tag::any_key));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_is_touched_by_a_write_of_its_scope_or_of_the_whole_type() {
        let territory_12 = Tag::territory("Deployment", 12);
        assert!(territory_12.touched_by(&Tag::territory("Deployment", 12)));
        assert!(!territory_12.touched_by(&Tag::territory("Deployment", 13)));
        assert!(!territory_12.touched_by(&Tag::record("Deployment", 12)));
        assert!(territory_12.touched_by(&Tag::all("Deployment")));
        assert!(!territory_12.touched_by(&Tag::all("Concertation")));
        let every = Tag::all("Deployment");
        assert!(every.touched_by(&Tag::record("Deployment", 55)));
        assert!(every.touched_by(&Tag::territory("Deployment", 12)));
    }

    #[test]
    fn parts_belong_to_the_record_they_are_part_of() {
        assert_eq!(owner("deployment_risk"), "Deployment");
        assert_eq!(owner("deployment"), "Deployment");
        assert_eq!(owner("contribution_deployment"), "Contribution");
        assert_eq!(owner("territory"), "Territory");
        assert_eq!(owner("audit_event"), AUDIT);
        assert!(is_part("deployment_risk"));
        assert!(is_part("territory_membership"));
        assert!(!is_part("deployment"));
        assert!(!is_part("risk_category"));
        assert_eq!(of_row("deployment", 5), Tag::record("Deployment", 5));
        assert_eq!(of_row("deployment_risk", 5), Tag::all("Deployment"));
    }

    #[test]
    fn many_scopes_of_one_type_become_the_whole_type() {
        let reads = Reads::default();
        reads.add(Tag::record("Territory", 1));
        reads.add(Tag::territory("Deployment", 1));
        reads.add(Tag::record("Territory", 1));
        assert_eq!(
            reads.tags(),
            vec![Tag::territory("Deployment", 1), Tag::record("Territory", 1)]
        );
        for id in 0..=MOST_OF_A_TYPE as i64 {
            reads.add(Tag::record("Source", id));
        }
        assert!(reads.tags().contains(&Tag::all("Source")));
        assert_eq!(reads.tags().len(), 3);
        reads.add(Tag::all("Territory"));
        assert!(reads.tags().contains(&Tag::all("Territory")));
        assert_eq!(
            keys(&[Tag::record("Deployment", 5), Tag::all("Source")]),
            vec!["Deployment/5", "Source", "Deployment/any", "Source/any"]
        );
    }
}
