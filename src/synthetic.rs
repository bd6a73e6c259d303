//! Synthetic data at scale, for benchmarks and load tests: territories,
//! organizations, deployments with their links and risks, concertations and
//! their contributions, in the proportions of a national library. Every
//! name says it is synthetic, and the generator only fills an empty
//! database, so synthetic records never mix with the reference data. The
//! same scale and seed always give the same rows.

use anyhow::bail;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use entity::{enums::*, source::SYNTHETIC_DOCUMENT_PREFIX, *};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
};

use crate::{
    progress::Progress,
    store::{Author, bulk},
};

/// How many records a scale of 1 makes.
pub const AT_SCALE_ONE: Counts = Counts {
    territories: 1_000,
    organizations: 500,
    deployments: 50_000,
    concertations: 2_000,
    contributions: 200_000,
};

/// How many records of each main kind a seeding makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub territories: i64,
    pub organizations: i64,
    pub deployments: i64,
    pub concertations: i64,
    pub contributions: i64,
}

impl Counts {
    /// The counts at `scale` (at least one of each).
    pub fn at(scale: f64) -> Counts {
        let n = |base: i64| ((base as f64 * scale).round() as i64).max(1);
        Counts {
            territories: n(AT_SCALE_ONE.territories),
            organizations: n(AT_SCALE_ONE.organizations),
            deployments: n(AT_SCALE_ONE.deployments),
            concertations: n(AT_SCALE_ONE.concertations),
            contributions: n(AT_SCALE_ONE.contributions),
        }
    }
}

/// SplitMix64: a small generator whose sequence never changes, so that the
/// same seed gives the same data on every machine and version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A number in `low..=high`.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low + 1) as u64) as i64
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// One of `items`, each as likely as its weight.
    fn weighted<T: Copy>(&mut self, items: &[(T, u64)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut roll = self.below(total);
        for (item, weight) in items {
            if roll < *weight {
                return *item;
            }
            roll -= weight;
        }
        items[items.len() - 1].0
    }
}

const REGIONS: &[&str] = &[
    "Auvergne-Rhône-Alpes",
    "Bourgogne-Franche-Comté",
    "Bretagne",
    "Centre-Val de Loire",
    "Corse",
    "Grand Est",
    "Hauts-de-France",
    "Île-de-France",
    "Normandie",
    "Nouvelle-Aquitaine",
    "Occitanie",
    "Pays de la Loire",
    "Provence-Alpes-Côte d'Azur",
];

const PURPOSES: &[&str] = &[
    "Répondre aux questions des usagers à l'accueil",
    "Trier et orienter le courrier entrant",
    "Prévoir la fréquentation des équipements",
    "Détecter les fuites sur le réseau d'eau",
    "Aider à l'instruction des demandes d'aides sociales",
    "Résumer les comptes rendus des conseils",
    "Optimiser les tournées de collecte des déchets",
    "Repérer les dépôts sauvages sur la voirie",
];

const CONCERNS: &[&str] = &[
    "Crainte d'une décision prise sans intervention humaine",
    "Inquiétude sur la protection des données personnelles",
    "Peur d'une fracture numérique accrue pour les personnes âgées",
    "Doute sur la transparence des algorithmes utilisés",
    "Crainte d'un impact environnemental non maîtrisé",
    "Inquiétude sur l'avenir des métiers d'accueil",
];

const PROPOSALS: &[&str] = &[
    "Publier un registre des algorithmes de la collectivité",
    "Associer un comité citoyen au suivi des usages",
    "Former les agents avant tout déploiement",
    "Évaluer chaque usage un an après sa mise en service",
];

/// The instant every synthetic record says it was created at: fixed, so
/// that rows are the same from one run to the next.
fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid instant")
}

/// The number of times a seed writes generated rows (see [`Seeding`]).
const WRITES: u64 = 17;

/// A seed's writes, in one transaction, and how far they have gone.
struct Seeding<'a> {
    txn: &'a DatabaseTransaction,
    progress: Progress,
    done: u64,
}

impl Seeding<'_> {
    /// Writes generated rows through the store's bulk path (see
    /// [`crate::store::bulk`]), dated at the generator's epoch.
    async fn insert_all<A>(&mut self, rows: Vec<A>) -> anyhow::Result<()>
    where
        A: ActiveModelTrait + ActiveModelBehavior + Send,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A> + serde::Serialize,
    {
        let author = Author {
            key: None,
            label: "seed-synthetic",
            at: epoch(),
        };
        let table = sea_orm::EntityName::table_name(&A::Entity::default());
        bulk::insert(self.txn, rows, author).await?;
        self.done += 1;
        self.progress.at(self.done, table);
        Ok(())
    }
}

/// Fills an empty database with synthetic data at `scale` (1 ≈ 1,000
/// territories, 50,000 deployments, 2,000 concertations and 200,000
/// contributions), from `seed`.
pub async fn seed(db: &DatabaseConnection, scale: f64, seed: u64) -> anyhow::Result<Counts> {
    if !(scale > 0.0 && scale <= 100.0) {
        bail!("the scale is a number above 0 and at most 100");
    }
    if !crate::reference::is_empty(db).await? {
        bail!(
            "seed-synthetic fills an empty database only, so that synthetic records never mix \
             with real ones; this one already holds data"
        );
    }
    let counts = Counts::at(scale);
    let mut rng = Rng(seed);
    let txn = crate::store::begin(db).await?;
    let mut seeding = Seeding {
        txn: &txn,
        progress: Progress::new("synthetic data", WRITES),
        done: 0,
    };
    let document = format!("{SYNTHETIC_DOCUMENT_PREFIX}scale={scale} seed={seed}");
    seeding
        .insert_all(vec![source::ActiveModel {
            title: Set("Données synthétiques de Vigie (fictives, générées)".into()),
            publisher: Set(Some("Vigie".into())),
            document: Set(Some(document.clone())),
            ..Default::default()
        }])
        .await?;
    let source = source::Entity::find()
        .filter(source::Column::Document.eq(document))
        .one(&txn)
        .await?
        .map(|source| source.id);

    crate::reference::load_vocabulary(&txn).await?;
    let techniques: Vec<i64> = technique::Entity::find()
        .all(&txn)
        .await?
        .iter()
        .map(|t| t.id)
        .collect();
    let domains: Vec<domain::Model> = domain::Entity::find().all(&txn).await?;

    let mut risks = Vec::new();
    for i in 1..=15_i64 {
        risks.push(risk_category::ActiveModel {
            id: Set(i),
            key: Set(format!("SYNTHETIC_RISK_{i}")),
            parent_id: Set((i > 5).then_some((i - 1) % 5 + 1)),
            title: Set(format!("Risque synthétique {i}")),
            source_id: Set(source),
            ..Default::default()
        });
    }
    seeding.insert_all(risks).await?;

    seeding
        .insert_all(vec![concertation_programme::ActiveModel {
            id: Set(1),
            title: Set("Programme synthétique de concertations sur l'IA".into()),
            source_id: Set(source),
            ..Default::default()
        }])
        .await?;

    // Territories; the first fifth may be the EPCI of later ones.
    let mut territories = Vec::new();
    let mut participations = Vec::new();
    let epcis = (counts.territories / 5).max(1);
    for i in 1..=counts.territories {
        let kind = if i <= epcis {
            rng.pick(&[
                TerritoryKind::AgglomerationCommunity,
                TerritoryKind::Metropole,
                TerritoryKind::CommunityOfCommunes,
            ])
        } else {
            rng.weighted(&[
                (TerritoryKind::Municipality, 80),
                (TerritoryKind::Department, 5),
                (TerritoryKind::Region, 2),
                (TerritoryKind::University, 3),
                (TerritoryKind::Other, 10),
            ])
        };
        territories.push(territory::ActiveModel {
            id: Set(i),
            name: Set(format!("Territoire synthétique {i:05}")),
            slug: Set(format!("territoire-synthetique-{i:05}")),
            kind: Set(kind),
            region: Set(Some(rng.pick(REGIONS).to_owned())),
            department: Set(Some(format!("{:02}", rng.between(1, 95)))),
            population: Set(Some(rng.between(500, 600_000))),
            parent_id: Set((i > epcis && rng.chance(30)).then(|| rng.between(1, epcis))),
            source_id: Set(source),
            ..Default::default()
        });
        if rng.chance(50) {
            participations.push(programme_participation::ActiveModel {
                id: Set(participations.len() as i64 + 1),
                programme_id: Set(1),
                territory_id: Set(i),
                mode: Set(ParticipationMode::OwnConcertation),
                source_id: Set(source),
                ..Default::default()
            });
        }
    }
    seeding.insert_all(territories).await?;
    seeding.insert_all(participations).await?;

    let organizations: Vec<_> = (1..=counts.organizations)
        .map(|i| organization::ActiveModel {
            id: Set(i),
            name: Set(format!("Organisation synthétique {i:04}")),
            slug: Set(format!("organisation-synthetique-{i:04}")),
            kind: Set(rng.weighted(&[
                (OrganizationKind::Vendor, 60),
                (OrganizationKind::Integrator, 20),
                (OrganizationKind::Lab, 10),
                (OrganizationKind::Association, 5),
                (OrganizationKind::StateBody, 5),
            ])),
            source_id: Set(source),
            ..Default::default()
        })
        .collect();
    seeding.insert_all(organizations).await?;

    // Deployments, each with its technique(s), area, organization and risks.
    let mut by_territory: Vec<Vec<i64>> = vec![Vec::new(); counts.territories as usize + 1];
    let mut deployments = Vec::new();
    let mut deployment_techniques = Vec::new();
    let mut deployment_domains = Vec::new();
    let mut deployment_organizations = Vec::new();
    let mut deployment_risks = Vec::new();
    for i in 1..=counts.deployments {
        let territory = rng.between(1, counts.territories);
        by_territory[territory as usize].push(i);
        let domain = &domains[rng.below(domains.len() as u64) as usize];
        let purpose = rng.pick(PURPOSES);
        deployments.push(deployment::ActiveModel {
            id: Set(i),
            territory_id: Set(territory),
            title: Set(format!("Usage synthétique {i} : {}", domain.name)),
            summary: Set(Some(format!(
                "{purpose} (usage fictif, généré pour les essais)."
            ))),
            purpose: Set(Some(purpose.to_owned())),
            status: Set(rng.weighted(&[
                (DeploymentStatus::Idea, 5),
                (DeploymentStatus::Design, 10),
                (DeploymentStatus::Development, 10),
                (DeploymentStatus::Pilot, 25),
                (DeploymentStatus::Evaluation, 10),
                (DeploymentStatus::Production, 30),
                (DeploymentStatus::Retired, 5),
                (DeploymentStatus::Abandoned, 5),
            ])),
            start_month: Set((!rng.chance(10))
                .then(|| format!("{}-{:02}", rng.between(2018, 2026), rng.between(1, 12)))),
            decision_role: Set((!rng.chance(15)).then(|| {
                rng.pick(&[
                    DecisionRole::FullyAutomated,
                    DecisionRole::DecisionSupport,
                    DecisionRole::InternalProductivity,
                    DecisionRole::PublicInformation,
                ])
            })),
            audience: Set(Some(rng.pick(&[
                Audience::Agents,
                Audience::Public,
                Audience::Both,
            ]))),
            personal_data: Set(Some(rng.pick(&[
                PersonalData::None,
                PersonalData::Pseudonymised,
                PersonalData::Identified,
            ]))),
            ai_act_tier: Set(rng.weighted(&[
                (AiActTier::High, 10),
                (AiActTier::Limited, 35),
                (AiActTier::Minimal, 35),
                (AiActTier::NotAi, 5),
                (AiActTier::Unassessed, 15),
            ])),
            source_id: Set(source),
            ..Default::default()
        });
        let first = rng.pick(&techniques);
        deployment_techniques.push(deployment_technique::ActiveModel {
            deployment_id: Set(i),
            technique_id: Set(first),
            ..Default::default()
        });
        let second = rng.pick(&techniques);
        if second != first && rng.chance(30) {
            deployment_techniques.push(deployment_technique::ActiveModel {
                deployment_id: Set(i),
                technique_id: Set(second),
                ..Default::default()
            });
        }
        deployment_domains.push(deployment_domain::ActiveModel {
            deployment_id: Set(i),
            domain_id: Set(domain.id),
            ..Default::default()
        });
        deployment_organizations.push(deployment_organization::ActiveModel {
            id: Set(i),
            deployment_id: Set(i),
            organization_id: Set(rng.between(1, counts.organizations)),
            role: Set(rng.pick(&[
                OrganizationRole::Developer,
                OrganizationRole::Supplier,
                OrganizationRole::Integrator,
            ])),
            source_id: Set(source),
            ..Default::default()
        });
        let first_risk = rng.between(1, 15);
        for n in 0..rng.between(1, 3) {
            deployment_risks.push(deployment_risk::ActiveModel {
                id: Set(deployment_risks.len() as i64 + 1),
                deployment_id: Set(i),
                risk_category_id: Set(Some((first_risk + n * 5 - 1) % 15 + 1)),
                severity: Set(Some(rng.pick(&[
                    Severity::Low,
                    Severity::Moderate,
                    Severity::High,
                    Severity::Critical,
                ]))),
                likelihood: Set(Some(rng.pick(&[
                    Likelihood::Rare,
                    Likelihood::Unlikely,
                    Likelihood::Possible,
                    Likelihood::Likely,
                ]))),
                mitigation_status: Set(rng.pick(&[
                    MitigationStatus::None,
                    MitigationStatus::Planned,
                    MitigationStatus::InProgress,
                    MitigationStatus::Implemented,
                ])),
                source_id: Set(source),
                ..Default::default()
            });
        }
    }
    seeding.insert_all(deployments).await?;
    seeding.insert_all(deployment_techniques).await?;
    seeding.insert_all(deployment_domains).await?;
    seeding.insert_all(deployment_organizations).await?;
    seeding.insert_all(deployment_risks).await?;

    // Concertations, with their formats and publics.
    let mut concertations = Vec::new();
    let mut formats = Vec::new();
    let mut publics = Vec::new();
    let mut concertation_territory = vec![0_i64; counts.concertations as usize + 1];
    let first_day = NaiveDate::from_ymd_opt(2022, 1, 1).expect("a valid date");
    for i in 1..=counts.concertations {
        let territory = rng.between(1, counts.territories);
        concertation_territory[i as usize] = territory;
        let start = first_day + Duration::days(rng.between(0, 4 * 365));
        let domain = &domains[rng.below(domains.len() as u64) as usize];
        concertations.push(concertation::ActiveModel {
            id: Set(i),
            territory_id: Set(territory),
            programme_id: Set(Some(1)),
            title: Set(format!(
                "Concertation synthétique {i} : l'IA et {}",
                domain.name.to_lowercase()
            )),
            status: Set(rng.weighted(&[
                (ConcertationStatus::Planned, 10),
                (ConcertationStatus::Ongoing, 15),
                (ConcertationStatus::Completed, 45),
                (ConcertationStatus::ResultsPublished, 30),
            ])),
            start_date: Set(Some(start)),
            end_date: Set(Some(start + Duration::days(rng.between(1, 120)))),
            participant_count: Set(Some(rng.between(8, 600) as i32)),
            hours: Set(Some(rng.between(4, 400) as f64 / 4.0)),
            produced_local_charter: Set(rng.chance(10)),
            source_id: Set(source),
            ..Default::default()
        });
        let all_formats = [
            ConcertationFormat::Workshop,
            ConcertationFormat::PublicDebate,
            ConcertationFormat::Survey,
            ConcertationFormat::CitizenPanel,
            ConcertationFormat::OnlinePlatform,
        ];
        let offset = rng.below(all_formats.len() as u64) as usize;
        for n in 0..rng.between(1, 3) as usize {
            formats.push(concertation_format::ActiveModel {
                concertation_id: Set(i),
                format: Set(all_formats[(offset + n) % all_formats.len()]),
                ..Default::default()
            });
        }
        let all_publics = [
            Public::Citizens,
            Public::Agents,
            Public::ElectedOfficials,
            Public::Youth,
            Public::Associations,
        ];
        let offset = rng.below(all_publics.len() as u64) as usize;
        for n in 0..rng.between(1, 3) as usize {
            publics.push(concertation_public::ActiveModel {
                concertation_id: Set(i),
                public: Set(all_publics[(offset + n) % all_publics.len()]),
                ..Default::default()
            });
        }
    }
    seeding.insert_all(concertations).await?;
    seeding.insert_all(formats).await?;
    seeding.insert_all(publics).await?;

    // Contributions, spread over the concertations, each about a risk and
    // some naming a deployment of the concertation's territory.
    let mut contributions = Vec::new();
    let mut contribution_risks = Vec::new();
    let mut contribution_deployments = Vec::new();
    for i in 1..=counts.contributions {
        let concertation = (i - 1) % counts.concertations + 1;
        let kind = rng.weighted(&[
            (ContributionKind::Concern, 40),
            (ContributionKind::Expectation, 25),
            (ContributionKind::Proposal, 25),
            (ContributionKind::Opportunity, 10),
        ]);
        let text = match kind {
            ContributionKind::Proposal => rng.pick(PROPOSALS),
            _ => rng.pick(CONCERNS),
        };
        contributions.push(contribution::ActiveModel {
            id: Set(i),
            concertation_id: Set(Some(concertation)),
            kind: Set(kind),
            statement: Set(format!("{text} (contribution synthétique n° {i}).")),
            salience: Set(Some(rng.between(1, 5) as i32)),
            public: Set(Some(rng.pick(&[
                Public::Citizens,
                Public::Agents,
                Public::Youth,
                Public::ElectedOfficials,
            ]))),
            response_state: Set(rng.pick(&[
                ResponseState::Open,
                ResponseState::Acknowledged,
                ResponseState::Addressed,
                ResponseState::Declined,
            ])),
            source_id: Set(source),
            ..Default::default()
        });
        contribution_risks.push(contribution_risk_category::ActiveModel {
            contribution_id: Set(i),
            risk_category_id: Set(rng.between(1, 15)),
            ..Default::default()
        });
        let territory_deployments =
            &by_territory[concertation_territory[concertation as usize] as usize];
        if !territory_deployments.is_empty() && rng.chance(30) {
            contribution_deployments.push(contribution_deployment::ActiveModel {
                contribution_id: Set(i),
                deployment_id: Set(rng.pick(territory_deployments)),
                ..Default::default()
            });
        }
    }
    seeding.insert_all(contributions).await?;
    seeding.insert_all(contribution_risks).await?;
    seeding.insert_all(contribution_deployments).await?;

    seeding.progress.finish();
    // Ids were set here: new records must get ids after them.
    bulk::ids_given(&txn).await?;
    txn.commit().await?;
    // Fresh statistics, so that the planner knows the new tables' shape.
    crate::db::analyze(db).await?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_never_changes_its_sequence() {
        let mut rng = Rng(42);
        let first: Vec<u64> = (0..3).map(|_| rng.next()).collect();
        assert_eq!(
            first,
            vec![
                13679457532755275413,
                2949826092126892291,
                5139283748462763858
            ]
        );
        let mut rng = Rng(7);
        for _ in 0..1000 {
            let n = rng.between(3, 9);
            assert!((3..=9).contains(&n));
        }
    }

    #[test]
    fn counts_follow_the_scale() {
        assert_eq!(Counts::at(1.0), AT_SCALE_ONE);
        assert_eq!(Counts::at(0.01).deployments, 500);
        assert_eq!(Counts::at(0.000_01).territories, 1);
    }
}
