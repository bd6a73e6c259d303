//! The tables of the graph, each declared once, parents before children:
//! the record types (their GraphQL name, the text columns their search
//! words are made of, and whether the API writes them, and so whether
//! live subscribers may follow them), the link tables between them, and
//! the closed vocabulary of each enum column. The engine (node look-up,
//! ids), the store (the write path, bulk writes), search, live updates and
//! import/export read this declaration, never a list of their own. Columns
//! are the entities' own: a misspelt one, or a vocabulary that is not the
//! column's type, does not compile.

use std::sync::OnceLock;

use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, EntityTrait, IdenStatic, IntoActiveModel, Iterable,
    TryIntoModel,
};

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

/// Generic code run on one table of the graph, whichever it is: [`visit`]
/// calls it with the table's entity.
pub trait Visit {
    type Output;

    fn visit<E>(self, table: &'static str) -> Self::Output
    where
        E: EntityTrait,
        E::Model: serde::Serialize + serde::de::DeserializeOwned + IntoActiveModel<E::ActiveModel>,
        E::ActiveModel:
            ActiveModelTrait<Entity = E> + ActiveModelBehavior + TryIntoModel<E::Model> + Send;
}

/// The stored names of an enum's values.
fn values<T: Iterable + Copy + Into<&'static str>>() -> Vec<&'static str> {
    T::iter().map(Into::into).collect()
}

/// Holds values of `T`: the column's type is `T`, or `Option<T>`. Checks,
/// when it compiles, that a column's declared vocabulary is its own.
pub trait Holds<T> {}
impl<T> Holds<T> for T {}
impl<T> Holds<T> for Option<T> {}

pub const fn holds<T, C: Holds<T>>(_: &C) {}

macro_rules! tables {
    ($(
        $module:ident
        $(=> $name:ident { search: [$($column:ident),*], written: $written:literal })?
        $(closed { $($field:ident: $vocabulary:ident),+ })?
        ;
    )+) => {
        $($(
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
        )?)+

        $($(
            const _: fn(&crate::$module::Model) = |row| {
                $(holds::<crate::enums::$vocabulary, _>(&row.$field);)+
            };
        )?)+

        /// Every table of the graph, parents before children (the order
        /// of an import).
        pub const TABLES: &[&str] = &[$(stringify!($module)),+];

        /// Every record type, parents before children.
        pub fn all() -> &'static [Record] {
            static ALL: OnceLock<Vec<Record>> = OnceLock::new();
            ALL.get_or_init(|| vec![$($(record::<crate::$module::Entity>(stringify!($name)),)?)+])
        }

        /// Runs `visitor` on the table of this name; `None` if it is not
        /// one of the graph's.
        pub fn visit<V: Visit>(table: &str, visitor: V) -> Option<V::Output> {
            match table {
                $(stringify!($module) => Some(visitor.visit::<crate::$module::Entity>(stringify!($module))),)+
                _ => None,
            }
        }

        /// The closed vocabulary of a column: the stored names of its
        /// values; `None` when any text goes.
        pub fn vocabulary(table: &str, column: &str) -> Option<Vec<&'static str>> {
            match (table, column) {
                $($($(
                    (stringify!($module), stringify!($field)) => Some(values::<crate::enums::$vocabulary>()),
                )+)?)+
                _ => None,
            }
        }
    };
}

/// A record type as lists see it; `name` is the one its declaration gives.
fn record<E: Declared>(name: &'static str) -> Record {
    debug_assert_eq!(E::TYPE, name);
    Record {
        type_name: E::TYPE,
        table: E::TABLE,
        search: E::SEARCH.iter().map(IdenStatic::as_str).collect(),
        written: E::WRITTEN,
    }
}

tables! {
    source => Source { search: [], written: false };
    network => Network { search: [], written: false };
    axis => Axis { search: [], written: false };
    territory => Territory { search: [Name, Region], written: true }
        closed { kind: TerritoryKind };
    territory_membership;
    territory_identifier;
    organization => Organization { search: [], written: true }
        closed { kind: OrganizationKind };
    deployment => Deployment { search: [Title, Summary, Purpose], written: true }
        closed {
            status: DeploymentStatus,
            decision_role: DecisionRole,
            audience: Audience,
            personal_data: PersonalData,
            ai_act_tier: AiActTier,
            annex_iii_area: AnnexIiiArea
        };
    deployment_organization => DeploymentOrganization { search: [], written: false }
        closed { role: OrganizationRole };
    deployment_register_entry;
    domain => Domain { search: [], written: false };
    deployment_domain;
    technique => Technique { search: [], written: false };
    deployment_technique;
    risk_category => RiskCategory { search: [], written: false };
    deployment_risk => DeploymentRisk { search: [], written: false }
        closed { severity: Severity, likelihood: Likelihood, mitigation_status: MitigationStatus };
    concertation_programme => ConcertationProgramme { search: [], written: false };
    programme_participation => ProgrammeParticipation { search: [], written: false }
        closed { mode: ParticipationMode };
    concertation => Concertation { search: [Title, Summary], written: true }
        closed { status: ConcertationStatus };
    concertation_co_organizer;
    concertation_format closed { format: ConcertationFormat };
    concertation_public closed { public: Public };
    contribution => Contribution { search: [Statement, Response], written: true }
        closed { kind: ContributionKind, public: Public, response_state: ResponseState };
    contribution_risk_category;
    contribution_deployment;
    opportunity => Opportunity { search: [], written: false };
    lever => Lever { search: [], written: false };
    lever_risk_category;
    charter => Charter { search: [], written: false };
    charter_signature => CharterSignature { search: [], written: true };
    study => Study { search: [], written: true };
    study_finding => StudyFinding { search: [Statement, JobFamily, Metric], written: true }
        closed { kind: FindingKind, exposure_level: ExposureLevel };
    finding_risk_category;
    finding_lever;
    finding_concertation;
    resource => Resource { search: [Title, Description], written: true }
        closed { kind: ResourceKind };
    event => Event { search: [], written: true };
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
