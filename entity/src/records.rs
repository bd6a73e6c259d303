//! The record types of the graph, each declared once: its GraphQL name,
//! its table, the text columns its search words are made of, and whether
//! the API writes it (and so whether live subscribers may follow it). The
//! engine (node look-up, ids), the store (the write path, bulk writes),
//! search and live updates read this declaration, never a list of their
//! own. Search columns are the entity's typed columns: a misspelt one does
//! not compile.

use std::sync::OnceLock;

use sea_orm::{EntityTrait, IdenStatic};

/// A record type of the graph.
pub trait Declared: EntityTrait {
    /// Its GraphQL name, also the prefix of its global IDs.
    const TYPE: &'static str;
    /// Its table.
    const TABLE: &'static str;
    /// The text columns its search words are made of; none when it is not
    /// searchable.
    const SEARCH: &'static [Self::Column];
    /// Whether the API writes it: it has mutations, and subscribers may
    /// follow its writes.
    const WRITTEN: bool;

    /// The id of one of its records.
    fn id(model: &Self::Model) -> i64;
}

/// One record type, as lists see it.
#[derive(Debug)]
pub struct Record {
    pub type_name: &'static str,
    pub table: &'static str,
    /// The names of its search columns, in order.
    pub search: Vec<&'static str>,
    pub written: bool,
}

macro_rules! records {
    ($($module:ident => $name:ident { search: [$($column:ident),*], written: $written:literal })+) => {
        $(
            impl Declared for crate::$module::Entity {
                const TYPE: &'static str = stringify!($name);
                const TABLE: &'static str = stringify!($module);
                const SEARCH: &'static [crate::$module::Column] =
                    &[$(crate::$module::Column::$column),*];
                const WRITTEN: bool = $written;

                fn id(model: &crate::$module::Model) -> i64 {
                    model.id
                }
            }
        )+

        /// Every record type, in the order declared.
        pub fn all() -> &'static [Record] {
            static ALL: OnceLock<Vec<Record>> = OnceLock::new();
            ALL.get_or_init(|| vec![$(record::<crate::$module::Entity>()),+])
        }
    };
}

fn record<E: Declared>() -> Record {
    Record {
        type_name: E::TYPE,
        table: E::TABLE,
        search: E::SEARCH.iter().map(IdenStatic::as_str).collect(),
        written: E::WRITTEN,
    }
}

records! {
    source => Source { search: [], written: false }
    network => Network { search: [], written: false }
    axis => Axis { search: [], written: false }
    territory => Territory { search: [Name, Region], written: true }
    organization => Organization { search: [], written: true }
    deployment => Deployment { search: [Title, Summary, Purpose], written: true }
    deployment_organization => DeploymentOrganization { search: [], written: false }
    domain => Domain { search: [], written: false }
    technique => Technique { search: [], written: false }
    risk_category => RiskCategory { search: [], written: false }
    deployment_risk => DeploymentRisk { search: [], written: false }
    concertation_programme => ConcertationProgramme { search: [], written: false }
    programme_participation => ProgrammeParticipation { search: [], written: false }
    concertation => Concertation { search: [Title, Summary], written: true }
    contribution => Contribution { search: [Statement, Response], written: true }
    opportunity => Opportunity { search: [], written: false }
    lever => Lever { search: [], written: false }
    charter => Charter { search: [], written: false }
    charter_signature => CharterSignature { search: [], written: true }
    study => Study { search: [], written: true }
    study_finding => StudyFinding { search: [Statement, JobFamily, Metric], written: true }
    resource => Resource { search: [Title, Description], written: true }
    event => Event { search: [], written: true }
}

/// The record type of a table, if it is one.
pub fn of_table(table: &str) -> Option<&'static Record> {
    all().iter().find(|record| record.table == table)
}

/// The record type of a GraphQL name, if it is one.
pub fn of_type(type_name: &str) -> Option<&'static Record> {
    all().iter().find(|record| record.type_name == type_name)
}

/// The GraphQL names of the types the API writes (and subscribers follow).
pub fn written() -> impl Iterator<Item = &'static str> {
    all()
        .iter()
        .filter(|record| record.written)
        .map(|record| record.type_name)
}
