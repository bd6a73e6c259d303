//! Seeded data: one of every record with every link (to follow each
//! relation both ways), and a scalable grid of territories × deployments ×
//! concerns (to count statements).

use chrono::NaiveDate;
use entity::{enums::*, *};
use sea_orm::{ActiveValue::Set, TransactionTrait};

use crate::helpers::{execute_sql, put, put_many};
use vigie::db::Db;

/// The ids of the records [`seed_everything`] creates.
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    pub source: i64,
    pub network: i64,
    pub axis: i64,
    pub epci: i64,
    pub commune: i64,
    pub region: i64,
    pub department: i64,
    pub organization: i64,
    pub deployment: i64,
    pub deployment_organization: i64,
    pub domain: i64,
    pub technique: i64,
    pub risk_root: i64,
    pub risk_child: i64,
    pub deployment_risk: i64,
    pub programme: i64,
    pub participation: i64,
    pub concertation: i64,
    pub concern: i64,
    pub proposal: i64,
    pub programme_concern: i64,
    pub opportunity: i64,
    pub lever: i64,
    pub charter: i64,
    pub local_charter: i64,
    pub territory_signature: i64,
    pub organization_signature: i64,
    pub study: i64,
    pub finding: i64,
    pub resource: i64,
    pub event: i64,
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// One of every record, each linked to the others as the model allows. The
/// commune belongs to the EPCI; the commune leads the concertation, the EPCI
/// co-organises it.
pub async fn seed_everything(db: &Db) -> Fixture {
    let source = put(
        db,
        source::ActiveModel {
            title: Set("Fixture source".into()),
            publisher: Set(Some("Tests".into())),
            ..Default::default()
        },
    )
    .await
    .id;
    let s = Some(source);
    let network = put(
        db,
        network::ActiveModel {
            name: Set("Réseau de test".into()),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let axis = put(
        db,
        axis::ActiveModel {
            network_id: Set(network),
            number: Set(1),
            title: Set("Axe".into()),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let epci = put(
        db,
        territory::ActiveModel {
            name: Set("Agglomération de Test".into()),
            slug: Set("agglomeration-de-test".into()),
            kind: Set(TerritoryKind::AgglomerationCommunity),
            siren: Set(Some("200000008".into())),
            region: Set(Some("Bretagne".into())),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let region = put(
        db,
        territory::ActiveModel {
            name: Set("Région de Test".into()),
            slug: Set("region-de-test".into()),
            kind: Set(TerritoryKind::Region),
            insee_code: Set(Some("53".into())),
            ..Default::default()
        },
    )
    .await
    .id;
    let department = put(
        db,
        territory::ActiveModel {
            name: Set("Département de Test".into()),
            slug: Set("departement-de-test".into()),
            kind: Set(TerritoryKind::Department),
            insee_code: Set(Some("35".into())),
            region_id: Set(Some(region)),
            ..Default::default()
        },
    )
    .await
    .id;
    let commune = put(
        db,
        territory::ActiveModel {
            name: Set("Ville de Test".into()),
            department_id: Set(Some(department)),
            region_id: Set(Some(region)),
            slug: Set("ville-de-test".into()),
            kind: Set(TerritoryKind::Municipality),
            siren: Set(Some("210000006".into())),
            parent_id: Set(Some(epci)),
            population: Set(Some(12_345)),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let organization = put(
        db,
        organization::ActiveModel {
            name: Set("Éditeur SAS".into()),
            slug: Set("editeur-sas".into()),
            kind: Set(OrganizationKind::Vendor),
            siren: Set(Some("300000007".into())),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let deployment = put(
        db,
        deployment::ActiveModel {
            territory_id: Set(commune),
            title: Set("Agent conversationnel d'accueil".into()),
            status: Set(DeploymentStatus::Production),
            ai_act_tier: Set(AiActTier::Limited),
            decision_role: Set(Some(DecisionRole::PublicInformation)),
            start_month: Set(Some("2025-03".into())),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let deployment_organization = put(
        db,
        deployment_organization::ActiveModel {
            deployment_id: Set(deployment),
            organization_id: Set(organization),
            role: Set(OrganizationRole::Supplier),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let domain = put(
        db,
        domain::ActiveModel {
            key: Set("CITIZEN_SERVICES".into()),
            name: Set("Accueil".into()),
            ..Default::default()
        },
    )
    .await
    .id;
    put(
        db,
        deployment_domain::ActiveModel {
            deployment_id: Set(deployment),
            domain_id: Set(domain),
            ..Default::default()
        },
    )
    .await;
    let technique = put(
        db,
        technique::ActiveModel {
            key: Set("GENERATIVE_TEXT".into()),
            name: Set("LLM".into()),
            ..Default::default()
        },
    )
    .await
    .id;
    put(
        db,
        deployment_technique::ActiveModel {
            deployment_id: Set(deployment),
            technique_id: Set(technique),
            ..Default::default()
        },
    )
    .await;
    let risk_root = put(
        db,
        risk_category::ActiveModel {
            key: Set("OPACITY".into()),
            title: Set("Opacité".into()),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let risk_child = put(
        db,
        risk_category::ActiveModel {
            key: Set("OPACITY_EXPLANATION".into()),
            title: Set("Droit à l'explication".into()),
            parent_id: Set(Some(risk_root)),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let deployment_risk = put(
        db,
        deployment_risk::ActiveModel {
            deployment_id: Set(deployment),
            risk_category_id: Set(Some(risk_child)),
            severity: Set(Some(Severity::High)),
            likelihood: Set(Some(Likelihood::Possible)),
            mitigation_status: Set(MitigationStatus::Planned),
            mitigation: Set(Some("Mention explicite de l'IA".into())),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let programme = put(
        db,
        concertation_programme::ActiveModel {
            axis_id: Set(Some(axis)),
            title: Set("Programme".into()),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let participation = put(
        db,
        programme_participation::ActiveModel {
            programme_id: Set(programme),
            territory_id: Set(commune),
            mode: Set(ParticipationMode::OwnConcertation),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let concertation = put(
        db,
        concertation::ActiveModel {
            territory_id: Set(commune),
            programme_id: Set(Some(programme)),
            title: Set("Concertation citoyenne".into()),
            status: Set(ConcertationStatus::Completed),
            start_date: Set(date(2025, 1, 15)),
            end_date: Set(date(2025, 3, 1)),
            participant_count: Set(Some(120)),
            hours: Set(Some(12.5)),
            produced_local_charter: Set(true),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    put(
        db,
        territory_membership::ActiveModel {
            grouping_id: Set(epci),
            member_id: Set(commune),
            ..Default::default()
        },
    )
    .await;
    put(
        db,
        territory_identifier::ActiveModel {
            scheme: Set("WIKIDATA".into()),
            value: Set("Q0".into()),
            territory_id: Set(commune),
            ..Default::default()
        },
    )
    .await;
    put(
        db,
        concertation_co_organizer::ActiveModel {
            concertation_id: Set(concertation),
            territory_id: Set(epci),
            ..Default::default()
        },
    )
    .await;
    for format in [ConcertationFormat::Workshop, ConcertationFormat::Survey] {
        put(
            db,
            concertation_format::ActiveModel {
                concertation_id: Set(concertation),
                format: Set(format),
                ..Default::default()
            },
        )
        .await;
    }
    put(
        db,
        concertation_public::ActiveModel {
            concertation_id: Set(concertation),
            public: Set(Public::Citizens),
            ..Default::default()
        },
    )
    .await;
    let contribution =
        |kind, concertation_id, programme_id, statement: &str| contribution::ActiveModel {
            concertation_id: Set(concertation_id),
            programme_id: Set(programme_id),
            kind: Set(kind),
            statement: Set(statement.into()),
            response_state: Set(ResponseState::Open),
            source_id: Set(s),
            ..Default::default()
        };
    let concern = put(
        db,
        contribution(
            ContributionKind::Concern,
            Some(concertation),
            None,
            "Crainte",
        ),
    )
    .await
    .id;
    let proposal = put(
        db,
        contribution(
            ContributionKind::Proposal,
            Some(concertation),
            None,
            "Proposition",
        ),
    )
    .await
    .id;
    let programme_concern = put(
        db,
        contribution(
            ContributionKind::Concern,
            None,
            Some(programme),
            "Crainte du programme",
        ),
    )
    .await
    .id;
    put(
        db,
        contribution_risk_category::ActiveModel {
            contribution_id: Set(concern),
            risk_category_id: Set(risk_child),
            ..Default::default()
        },
    )
    .await;
    put(
        db,
        contribution_deployment::ActiveModel {
            contribution_id: Set(concern),
            deployment_id: Set(deployment),
            ..Default::default()
        },
    )
    .await;
    put(
        db,
        contribution_deployment::ActiveModel {
            contribution_id: Set(proposal),
            deployment_id: Set(deployment),
            ..Default::default()
        },
    )
    .await;
    let opportunity = put(
        db,
        opportunity::ActiveModel {
            rank: Set(1),
            title: Set("Opportunité".into()),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let lever = put(
        db,
        lever::ActiveModel {
            rank: Set(1),
            title: Set("Levier".into()),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    put(
        db,
        lever_risk_category::ActiveModel {
            lever_id: Set(lever),
            risk_category_id: Set(risk_root),
            ..Default::default()
        },
    )
    .await;
    let charter = put(
        db,
        charter::ActiveModel {
            title: Set("Charte commune".into()),
            programme_id: Set(Some(programme)),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let local_charter = put(
        db,
        charter::ActiveModel {
            title: Set("Charte locale".into()),
            territory_id: Set(Some(commune)),
            concertation_id: Set(Some(concertation)),
            adopted_on: Set(date(2025, 6, 1)),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let territory_signature = put(
        db,
        charter_signature::ActiveModel {
            charter_id: Set(charter),
            territory_id: Set(Some(commune)),
            signed_on: Set(date(2024, 11, 1)),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let organization_signature = put(
        db,
        charter_signature::ActiveModel {
            charter_id: Set(charter),
            organization_id: Set(Some(organization)),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let study = put(
        db,
        study::ActiveModel {
            axis_id: Set(Some(axis)),
            programme_id: Set(Some(programme)),
            title: Set("Étude".into()),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let finding = put(
        db,
        study_finding::ActiveModel {
            study_id: Set(study),
            kind: Set(FindingKind::KeyLearning),
            rank: Set(Some(1)),
            statement: Set("Enseignement".into()),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    put(
        db,
        finding_risk_category::ActiveModel {
            finding_id: Set(finding),
            risk_category_id: Set(risk_root),
            ..Default::default()
        },
    )
    .await;
    put(
        db,
        finding_lever::ActiveModel {
            finding_id: Set(finding),
            lever_id: Set(lever),
            ..Default::default()
        },
    )
    .await;
    put(
        db,
        finding_concertation::ActiveModel {
            finding_id: Set(finding),
            concertation_id: Set(concertation),
            ..Default::default()
        },
    )
    .await;
    let resource = put(
        db,
        resource::ActiveModel {
            title: Set("Guide".into()),
            kind: Set(ResourceKind::Guide),
            territory_id: Set(Some(commune)),
            concertation_id: Set(Some(concertation)),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    let event = put(
        db,
        event::ActiveModel {
            title: Set("Rencontre".into()),
            starts_on: Set(NaiveDate::from_ymd_opt(2025, 9, 18).unwrap()),
            territory_id: Set(Some(epci)),
            source_id: Set(s),
            ..Default::default()
        },
    )
    .await
    .id;
    put(
        db,
        deployment_register_entry::ActiveModel {
            register: Set("registre-de-test".into()),
            external_id: Set("A-1".into()),
            deployment_id: Set(deployment),
            url: Set(Some("https://example.org/registre/A-1".into())),
            published_on: Set(Some(chrono::NaiveDate::from_ymd_opt(2025, 3, 1).unwrap())),
            ..Default::default()
        },
    )
    .await;
    Fixture {
        source,
        network,
        axis,
        epci,
        commune,
        region,
        department,
        organization,
        deployment,
        deployment_organization,
        domain,
        technique,
        risk_root,
        risk_child,
        deployment_risk,
        programme,
        participation,
        concertation,
        concern,
        proposal,
        programme_concern,
        opportunity,
        lever,
        charter,
        local_charter,
        territory_signature,
        organization_signature,
        study,
        finding,
        resource,
        event,
    }
}

/// The shape of a [`seed_grid`].
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    pub territories: i64,
    pub deployments_per_territory: i64,
    pub concerns_per_deployment: i64,
}

impl Grid {
    pub fn rows(&self) -> i64 {
        self.territories * self.deployments_per_territory * self.concerns_per_deployment
    }
}

/// `territories` territories, each leading one concertation and running
/// `deployments_per_territory` deployments; each deployment has two declared
/// risks and `concerns_per_deployment` citizen concerns of the territory's
/// concertation, each about one risk. Ids are assigned here, so that rows
/// go in with bulk inserts.
pub async fn seed_grid(db: &Db, grid: Grid) {
    let txn = db.conn.begin().await.unwrap();
    let risks: Vec<i64> = (1..=5).collect();
    put_many(
        &txn,
        risks
            .iter()
            .map(|&id| risk_category::ActiveModel {
                id: Set(id),
                key: Set(format!("RISK_{id}")),
                title: Set(format!("Risque {id}")),
                ..Default::default()
            })
            .collect(),
    )
    .await;
    let territories: Vec<i64> = (1..=grid.territories).collect();
    put_many(
        &txn,
        territories
            .iter()
            .map(|&id| territory::ActiveModel {
                id: Set(id),
                name: Set(format!("Territoire {id}")),
                slug: Set(format!("territoire-{id}")),
                kind: Set(TerritoryKind::Municipality),
                region: Set(Some(format!("Région {}", id % 13))),
                ..Default::default()
            })
            .collect(),
    )
    .await;
    put_many(
        &txn,
        territories
            .iter()
            .map(|&id| concertation::ActiveModel {
                id: Set(id),
                territory_id: Set(id),
                title: Set(format!("Concertation {id}")),
                status: Set(ConcertationStatus::Completed),
                produced_local_charter: Set(false),
                ..Default::default()
            })
            .collect(),
    )
    .await;
    let mut deployments = Vec::new();
    let mut risks_declared = Vec::new();
    let mut concerns = Vec::new();
    let mut concern_links = Vec::new();
    let mut concern_risks = Vec::new();
    let mut deployment_id = 0;
    let mut concern_id = 0;
    for &territory in &territories {
        for d in 0..grid.deployments_per_territory {
            deployment_id += 1;
            deployments.push(deployment::ActiveModel {
                id: Set(deployment_id),
                territory_id: Set(territory),
                // Titles that do not sort like ids, and months that are
                // sometimes missing, to exercise ordering.
                title: Set(format!("Usage {}", (deployment_id * 7919) % 1009)),
                status: Set(if d % 2 == 0 {
                    DeploymentStatus::Production
                } else {
                    DeploymentStatus::Pilot
                }),
                ai_act_tier: Set(AiActTier::Minimal),
                start_month: Set(
                    (d % 3 != 0).then(|| format!("20{}-{:02}", 20 + d % 5, 1 + deployment_id % 12))
                ),
                ..Default::default()
            });
            for (n, risk) in [risks[(d % 5) as usize], risks[((d + 1) % 5) as usize]]
                .into_iter()
                .enumerate()
            {
                risks_declared.push(deployment_risk::ActiveModel {
                    id: Set(deployment_id * 2 - 1 + n as i64),
                    deployment_id: Set(deployment_id),
                    risk_category_id: Set(Some(risk)),
                    severity: Set(Some(Severity::Moderate)),
                    mitigation_status: Set(MitigationStatus::Planned),
                    ..Default::default()
                });
            }
            for c in 0..grid.concerns_per_deployment {
                concern_id += 1;
                concerns.push(contribution::ActiveModel {
                    id: Set(concern_id),
                    concertation_id: Set(Some(territory)),
                    kind: Set(ContributionKind::Concern),
                    statement: Set(format!("Crainte {concern_id}")),
                    response_state: Set(ResponseState::Open),
                    ..Default::default()
                });
                concern_links.push(contribution_deployment::ActiveModel {
                    contribution_id: Set(concern_id),
                    deployment_id: Set(deployment_id),
                    ..Default::default()
                });
                concern_risks.push(contribution_risk_category::ActiveModel {
                    contribution_id: Set(concern_id),
                    risk_category_id: Set(risks[(c % 5) as usize]),
                    ..Default::default()
                });
            }
        }
    }
    put_many(&txn, deployments).await;
    put_many(&txn, risks_declared).await;
    put_many(&txn, concerns).await;
    put_many(&txn, concern_links).await;
    put_many(&txn, concern_risks).await;
    txn.commit().await.unwrap();
    resync_sequences(db).await;
}

/// After inserts with explicit ids, PostgreSQL's sequences must move past
/// them (SQLite needs nothing).
async fn resync_sequences(db: &Db) {
    use sea_orm::DatabaseBackend;
    if db.conn.get_database_backend() != DatabaseBackend::Postgres {
        return;
    }
    for table in [
        "risk_category",
        "territory",
        "concertation",
        "deployment",
        "deployment_risk",
        "contribution",
    ] {
        execute_sql(
            &db.conn,
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            ),
        )
        .await;
    }
}
