//! The whole domain model: every table, foreign key, unique key and index.
//!
//! Written once for SQLite and PostgreSQL alike: text columns for enums,
//! constraints declared in `CREATE TABLE` (SQLite cannot add them later),
//! and no backend-specific types.

use sea_orm_migration::{prelude::*, schema::*};

use crate::kit::{Tables, foreign_key, link_table, record_table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Tables::new(manager);

        // Where a fact comes from: a document, a web page, a dataset.
        let mut table = record_table("source", false);
        table.col(text("title"));
        table.col(text_null("publisher"));
        table.col(text_null("url"));
        table.col(text_null("document"));
        table.col(date_null("retrieved_on"));
        t.create(table).await?;

        // A network of collectivités working together (Interconnectés).
        let mut table = record_table("network", true);
        table.col(text("name"));
        table.col(text_null("body"));
        table.col(text_null("website"));
        table.col(text_null("contact_email"));
        table.col(integer_null("members_people"));
        table.col(integer_null("member_collectivities"));
        table.col(integer_null("events_per_year_min"));
        table.col(integer_null("events_per_year_max"));
        table.col(integer_null("participants_at_least"));
        t.create(table).await?;
        t.index("network", &["source_id"]).await?;
        t.unique("network", &["name"]).await?;

        // One of the network's work axes.
        let mut table = record_table("axis", true);
        table.col(big_integer("network_id"));
        table.col(integer("number"));
        table.col(text("title"));
        table.col(text_null("description"));
        foreign_key(&mut table, "network_id", "network");
        t.create(table).await?;
        t.index("axis", &["network_id"]).await?;
        t.index("axis", &["source_id"]).await?;
        t.unique("axis", &["network_id", "number"]).await?;

        // A collectivité or public body.
        let mut table = record_table("territory", true);
        table.col(text("name"));
        table.col(text("slug"));
        table.col(text("kind"));
        table.col(text_null("siren"));
        table.col(text_null("insee_code"));
        table.col(text_null("region"));
        table.col(text_null("department"));
        table.col(big_integer_null("population"));
        table.col(big_integer_null("parent_id"));
        table.col(text_null("website"));
        table.col(text_null("notes"));
        foreign_key(&mut table, "parent_id", "territory");
        t.create(table).await?;
        t.index("territory", &["parent_id"]).await?;
        t.index("territory", &["source_id"]).await?;
        t.unique("territory", &["slug"]).await?;
        t.unique("territory", &["siren"]).await?;
        t.index("territory", &["kind"]).await?;
        t.index("territory", &["insee_code"]).await?;
        t.index("territory", &["region"]).await?;
        t.index("territory", &["department"]).await?;

        // A vendor, integrator, lab, association or state body.
        let mut table = record_table("organization", true);
        table.col(text("name"));
        table.col(text("slug"));
        table.col(text("kind"));
        table.col(text_null("siren"));
        table.col(text_null("website"));
        table.col(text_null("description"));
        t.create(table).await?;
        t.index("organization", &["source_id"]).await?;
        t.unique("organization", &["slug"]).await?;
        t.unique("organization", &["siren"]).await?;
        t.index("organization", &["kind"]).await?;

        // One AI use in one territory.
        let mut table = record_table("deployment", true);
        table.col(big_integer("territory_id"));
        table.col(text("title"));
        table.col(text_null("summary"));
        table.col(text_null("purpose"));
        table.col(text("status"));
        table.col(text_null("start_month"));
        table.col(text_null("end_month"));
        table.col(text_null("decision_role"));
        table.col(text_null("audience"));
        table.col(text_null("personal_data"));
        table.col(text("ai_act_tier"));
        table.col(text_null("annex_iii_area"));
        table.col(text_null("human_oversight"));
        table.col(text_null("objection_procedure"));
        table.col(text_null("dpia_url"));
        table.col(text_null("impact_assessment_url"));
        table.col(text_null("code_url"));
        table.col(text_null("algorithm_register_url"));
        foreign_key(&mut table, "territory_id", "territory");
        t.create(table).await?;
        t.index("deployment", &["territory_id"]).await?;
        t.index("deployment", &["source_id"]).await?;
        t.index("deployment", &["status"]).await?;
        t.index("deployment", &["start_month"]).await?;
        t.index("deployment", &["decision_role"]).await?;
        t.index("deployment", &["audience"]).await?;
        t.index("deployment", &["personal_data"]).await?;
        t.index("deployment", &["ai_act_tier"]).await?;
        t.index("deployment", &["annex_iii_area"]).await?;

        // An organization's role in a deployment.
        let mut table = record_table("deployment_organization", true);
        table.col(big_integer("deployment_id"));
        table.col(big_integer("organization_id"));
        table.col(text("role"));
        foreign_key(&mut table, "deployment_id", "deployment");
        foreign_key(&mut table, "organization_id", "organization");
        t.create(table).await?;
        t.index("deployment_organization", &["deployment_id"])
            .await?;
        t.index("deployment_organization", &["organization_id"])
            .await?;
        t.index("deployment_organization", &["source_id"]).await?;
        t.unique(
            "deployment_organization",
            &["deployment_id", "organization_id", "role"],
        )
        .await?;
        t.index("deployment_organization", &["role"]).await?;

        // A public-service area.
        let mut table = record_table("domain", true);
        table.col(text("key"));
        table.col(text("name"));
        table.col(text_null("description"));
        t.create(table).await?;
        t.index("domain", &["source_id"]).await?;
        t.unique("domain", &["key"]).await?;

        // Links a deployment to a public-service area.
        let mut table = link_table("deployment_domain");
        table.col(big_integer("deployment_id"));
        table.col(big_integer("domain_id"));
        foreign_key(&mut table, "deployment_id", "deployment");
        foreign_key(&mut table, "domain_id", "domain");
        table.primary_key(Index::create().col("deployment_id").col("domain_id"));
        t.create(table).await?;
        t.index("deployment_domain", &["domain_id"]).await?;

        // A family of AI techniques.
        let mut table = record_table("technique", true);
        table.col(text("key"));
        table.col(text("name"));
        table.col(text_null("description"));
        t.create(table).await?;
        t.index("technique", &["source_id"]).await?;
        t.unique("technique", &["key"]).await?;

        // Links a deployment to a technique it uses.
        let mut table = link_table("deployment_technique");
        table.col(big_integer("deployment_id"));
        table.col(big_integer("technique_id"));
        foreign_key(&mut table, "deployment_id", "deployment");
        foreign_key(&mut table, "technique_id", "technique");
        table.primary_key(Index::create().col("deployment_id").col("technique_id"));
        t.create(table).await?;
        t.index("deployment_technique", &["technique_id"]).await?;

        // A category of the risk taxonomy.
        let mut table = record_table("risk_category", true);
        table.col(text("key"));
        table.col(big_integer_null("parent_id"));
        table.col(text("title"));
        table.col(text_null("description"));
        foreign_key(&mut table, "parent_id", "risk_category");
        t.create(table).await?;
        t.index("risk_category", &["parent_id"]).await?;
        t.index("risk_category", &["source_id"]).await?;
        t.unique("risk_category", &["key"]).await?;

        // A risk declared for a deployment.
        let mut table = record_table("deployment_risk", true);
        table.col(big_integer("deployment_id"));
        table.col(big_integer("risk_category_id"));
        table.col(text_null("severity"));
        table.col(text_null("likelihood"));
        table.col(text("mitigation_status"));
        table.col(text_null("mitigation"));
        foreign_key(&mut table, "deployment_id", "deployment");
        foreign_key(&mut table, "risk_category_id", "risk_category");
        t.create(table).await?;
        t.index("deployment_risk", &["deployment_id"]).await?;
        t.index("deployment_risk", &["risk_category_id"]).await?;
        t.index("deployment_risk", &["source_id"]).await?;
        t.unique("deployment_risk", &["deployment_id", "risk_category_id"])
            .await?;
        t.index("deployment_risk", &["severity"]).await?;
        t.index("deployment_risk", &["likelihood"]).await?;
        t.index("deployment_risk", &["mitigation_status"]).await?;

        // A programme of citizen concertations on AI.
        let mut table = record_table("concertation_programme", true);
        table.col(big_integer_null("axis_id"));
        table.col(text("title"));
        table.col(text_null("operation"));
        table.col(text_null("online_space"));
        table.col(text_null("methodological_resources"));
        foreign_key(&mut table, "axis_id", "axis");
        t.create(table).await?;
        t.index("concertation_programme", &["axis_id"]).await?;
        t.index("concertation_programme", &["source_id"]).await?;
        t.unique("concertation_programme", &["title"]).await?;

        // A territory's engagement in a concertation programme.
        let mut table = record_table("programme_participation", true);
        table.col(big_integer("programme_id"));
        table.col(big_integer("territory_id"));
        table.col(text("mode"));
        foreign_key(&mut table, "programme_id", "concertation_programme");
        foreign_key(&mut table, "territory_id", "territory");
        t.create(table).await?;
        t.index("programme_participation", &["programme_id"])
            .await?;
        t.index("programme_participation", &["territory_id"])
            .await?;
        t.index("programme_participation", &["source_id"]).await?;
        t.unique(
            "programme_participation",
            &["programme_id", "territory_id", "mode"],
        )
        .await?;
        t.index("programme_participation", &["mode"]).await?;

        // A citizen consultation on AI led by a territory.
        let mut table = record_table("concertation", true);
        table.col(big_integer("territory_id"));
        table.col(big_integer_null("programme_id"));
        table.col(text("title"));
        table.col(text_null("summary"));
        table.col(text("status"));
        table.col(date_null("start_date"));
        table.col(date_null("end_date"));
        table.col(integer_null("participant_count"));
        table.col(double_null("hours"));
        table.col(text_null("report_url"));
        table.col(boolean("produced_local_charter").default(false));
        foreign_key(&mut table, "territory_id", "territory");
        foreign_key(&mut table, "programme_id", "concertation_programme");
        t.create(table).await?;
        t.index("concertation", &["territory_id"]).await?;
        t.index("concertation", &["programme_id"]).await?;
        t.index("concertation", &["source_id"]).await?;
        t.index("concertation", &["status"]).await?;
        t.index("concertation", &["start_date"]).await?;

        // A territory co-organising a concertation.
        let mut table = link_table("concertation_co_organizer");
        table.col(big_integer("concertation_id"));
        table.col(big_integer("territory_id"));
        foreign_key(&mut table, "concertation_id", "concertation");
        foreign_key(&mut table, "territory_id", "territory");
        table.primary_key(Index::create().col("concertation_id").col("territory_id"));
        t.create(table).await?;
        t.index("concertation_co_organizer", &["territory_id"])
            .await?;

        // A format a concertation used.
        let mut table = link_table("concertation_format");
        table.col(big_integer("concertation_id"));
        table.col(text("format"));
        foreign_key(&mut table, "concertation_id", "concertation");
        table.primary_key(Index::create().col("concertation_id").col("format"));
        t.create(table).await?;

        // A public a concertation addressed.
        let mut table = link_table("concertation_public");
        table.col(big_integer("concertation_id"));
        table.col(text("public"));
        foreign_key(&mut table, "concertation_id", "concertation");
        table.primary_key(Index::create().col("concertation_id").col("public"));
        t.create(table).await?;

        // What a concertation raised.
        let mut table = record_table("contribution", true);
        table.col(big_integer_null("concertation_id"));
        table.col(big_integer_null("programme_id"));
        table.col(text("kind"));
        table.col(integer_null("rank"));
        table.col(text("statement"));
        table.col(integer_null("salience"));
        table.col(text_null("public"));
        table.col(text("response_state"));
        table.col(text_null("response"));
        foreign_key(&mut table, "concertation_id", "concertation");
        foreign_key(&mut table, "programme_id", "concertation_programme");
        t.create(table).await?;
        t.index("contribution", &["concertation_id"]).await?;
        t.index("contribution", &["programme_id"]).await?;
        t.index("contribution", &["source_id"]).await?;
        t.index("contribution", &["kind"]).await?;
        t.index("contribution", &["public"]).await?;
        t.index("contribution", &["response_state"]).await?;

        // Links a contribution to a risk category.
        let mut table = link_table("contribution_risk_category");
        table.col(big_integer("contribution_id"));
        table.col(big_integer("risk_category_id"));
        foreign_key(&mut table, "contribution_id", "contribution");
        foreign_key(&mut table, "risk_category_id", "risk_category");
        table.primary_key(
            Index::create()
                .col("contribution_id")
                .col("risk_category_id"),
        );
        t.create(table).await?;
        t.index("contribution_risk_category", &["risk_category_id"])
            .await?;

        // Links a contribution to a deployment it names.
        let mut table = link_table("contribution_deployment");
        table.col(big_integer("contribution_id"));
        table.col(big_integer("deployment_id"));
        foreign_key(&mut table, "contribution_id", "contribution");
        foreign_key(&mut table, "deployment_id", "deployment");
        table.primary_key(Index::create().col("contribution_id").col("deployment_id"));
        t.create(table).await?;
        t.index("contribution_deployment", &["deployment_id"])
            .await?;

        // An opportunity of AI for territories.
        let mut table = record_table("opportunity", true);
        table.col(integer("rank"));
        table.col(text("title"));
        table.col(text_null("description"));
        t.create(table).await?;
        t.index("opportunity", &["source_id"]).await?;
        t.unique("opportunity", &["title"]).await?;

        // A lever for a responsible use of AI.
        let mut table = record_table("lever", true);
        table.col(integer("rank"));
        table.col(text("title"));
        table.col(text_null("description"));
        t.create(table).await?;
        t.index("lever", &["source_id"]).await?;
        t.unique("lever", &["title"]).await?;

        // Links a lever to a risk it mitigates.
        let mut table = link_table("lever_risk_category");
        table.col(big_integer("lever_id"));
        table.col(big_integer("risk_category_id"));
        foreign_key(&mut table, "lever_id", "lever");
        foreign_key(&mut table, "risk_category_id", "risk_category");
        table.primary_key(Index::create().col("lever_id").col("risk_category_id"));
        t.create(table).await?;
        t.index("lever_risk_category", &["risk_category_id"])
            .await?;

        // A commitment charter.
        let mut table = record_table("charter", true);
        table.col(text("title"));
        table.col(text_null("description"));
        table.col(big_integer_null("programme_id"));
        table.col(big_integer_null("territory_id"));
        table.col(big_integer_null("concertation_id"));
        table.col(date_null("adopted_on"));
        table.col(text_null("url"));
        foreign_key(&mut table, "programme_id", "concertation_programme");
        foreign_key(&mut table, "territory_id", "territory");
        foreign_key(&mut table, "concertation_id", "concertation");
        t.create(table).await?;
        t.index("charter", &["programme_id"]).await?;
        t.index("charter", &["territory_id"]).await?;
        t.index("charter", &["concertation_id"]).await?;
        t.index("charter", &["source_id"]).await?;

        // Who signed a charter, and when.
        let mut table = record_table("charter_signature", true);
        table.col(big_integer("charter_id"));
        table.col(big_integer_null("territory_id"));
        table.col(big_integer_null("organization_id"));
        table.col(text_null("signatory"));
        table.col(date_null("signed_on"));
        foreign_key(&mut table, "charter_id", "charter");
        foreign_key(&mut table, "territory_id", "territory");
        foreign_key(&mut table, "organization_id", "organization");
        t.create(table).await?;
        t.index("charter_signature", &["charter_id"]).await?;
        t.index("charter_signature", &["territory_id"]).await?;
        t.index("charter_signature", &["organization_id"]).await?;
        t.index("charter_signature", &["source_id"]).await?;
        t.index("charter_signature", &["signed_on"]).await?;

        // A study.
        let mut table = record_table("study", true);
        table.col(big_integer_null("axis_id"));
        table.col(big_integer_null("programme_id"));
        table.col(text("title"));
        table.col(text_null("description"));
        table.col(date_null("published_on"));
        table.col(text_null("url"));
        foreign_key(&mut table, "axis_id", "axis");
        foreign_key(&mut table, "programme_id", "concertation_programme");
        t.create(table).await?;
        t.index("study", &["axis_id"]).await?;
        t.index("study", &["programme_id"]).await?;
        t.index("study", &["source_id"]).await?;
        t.unique("study", &["title"]).await?;

        // A finding of a study.
        let mut table = record_table("study_finding", true);
        table.col(big_integer("study_id"));
        table.col(text("kind"));
        table.col(integer_null("rank"));
        table.col(text("statement"));
        table.col(text_null("metric"));
        table.col(double_null("value"));
        table.col(text_null("job_family"));
        table.col(text_null("exposure_level"));
        foreign_key(&mut table, "study_id", "study");
        t.create(table).await?;
        t.index("study_finding", &["study_id"]).await?;
        t.index("study_finding", &["source_id"]).await?;
        t.index("study_finding", &["kind"]).await?;
        t.index("study_finding", &["job_family"]).await?;
        t.index("study_finding", &["exposure_level"]).await?;

        // Links a finding to a risk category.
        let mut table = link_table("finding_risk_category");
        table.col(big_integer("finding_id"));
        table.col(big_integer("risk_category_id"));
        foreign_key(&mut table, "finding_id", "study_finding");
        foreign_key(&mut table, "risk_category_id", "risk_category");
        table.primary_key(Index::create().col("finding_id").col("risk_category_id"));
        t.create(table).await?;
        t.index("finding_risk_category", &["risk_category_id"])
            .await?;

        // Links a finding to a lever.
        let mut table = link_table("finding_lever");
        table.col(big_integer("finding_id"));
        table.col(big_integer("lever_id"));
        foreign_key(&mut table, "finding_id", "study_finding");
        foreign_key(&mut table, "lever_id", "lever");
        table.primary_key(Index::create().col("finding_id").col("lever_id"));
        t.create(table).await?;
        t.index("finding_lever", &["lever_id"]).await?;

        // Links a finding to a concertation it draws on.
        let mut table = link_table("finding_concertation");
        table.col(big_integer("finding_id"));
        table.col(big_integer("concertation_id"));
        foreign_key(&mut table, "finding_id", "study_finding");
        foreign_key(&mut table, "concertation_id", "concertation");
        table.primary_key(Index::create().col("finding_id").col("concertation_id"));
        t.create(table).await?;
        t.index("finding_concertation", &["concertation_id"])
            .await?;

        // A guide, sheet, report or template.
        let mut table = record_table("resource", true);
        table.col(text("title"));
        table.col(text_null("url"));
        table.col(text("kind"));
        table.col(text_null("description"));
        table.col(big_integer_null("territory_id"));
        table.col(big_integer_null("concertation_id"));
        foreign_key(&mut table, "territory_id", "territory");
        foreign_key(&mut table, "concertation_id", "concertation");
        t.create(table).await?;
        t.index("resource", &["territory_id"]).await?;
        t.index("resource", &["concertation_id"]).await?;
        t.index("resource", &["source_id"]).await?;
        t.index("resource", &["url"]).await?;
        t.index("resource", &["kind"]).await?;

        // An event of the network.
        let mut table = record_table("event", true);
        table.col(text("title"));
        table.col(text_null("description"));
        table.col(date("starts_on"));
        table.col(date_null("ends_on"));
        table.col(text_null("location"));
        table.col(text_null("url"));
        table.col(big_integer_null("territory_id"));
        foreign_key(&mut table, "territory_id", "territory");
        t.create(table).await?;
        t.index("event", &["territory_id"]).await?;
        t.index("event", &["source_id"]).await?;
        t.index("event", &["starts_on"]).await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(*table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Every table of this migration, in creation order.
const TABLES: &[&str] = &[
    "source",
    "network",
    "axis",
    "territory",
    "organization",
    "deployment",
    "deployment_organization",
    "domain",
    "deployment_domain",
    "technique",
    "deployment_technique",
    "risk_category",
    "deployment_risk",
    "concertation_programme",
    "programme_participation",
    "concertation",
    "concertation_co_organizer",
    "concertation_format",
    "concertation_public",
    "contribution",
    "contribution_risk_category",
    "contribution_deployment",
    "opportunity",
    "lever",
    "lever_risk_category",
    "charter",
    "charter_signature",
    "study",
    "study_finding",
    "finding_risk_category",
    "finding_lever",
    "finding_concertation",
    "resource",
    "event",
];
