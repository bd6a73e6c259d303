//! Deployments: the entries of the library of territorialised AI
//! (« bibliothèque d'IA territorialisées »). Each is one AI use in one
//! territory — a chatbot at the front desk, a tool to sort mail, a model
//! forecasting water use — with its stage, its weight on decisions, its
//! EU AI Act tier, the risks declared for it and who built it.

use async_graphql::Context;

use super::{
    Contribution, DeploymentRisk, Organization, Territory,
    engine::node::{all_related, one},
    engine::relation::{Rel, RelDef},
    engine::scalars::Date,
    enums::{
        AiActTier, AnnexIiiArea, Audience, DecisionRole, DeploymentStatus, OrganizationRole,
        PersonalData,
    },
    source::Source,
};

/// A deployment's entry in a public register of algorithms.
#[derive(async_graphql::SimpleObject)]
pub struct RegisterEntry {
    /// The register: `nl-algoritmeregister`, `uk-atrs`, `fr-etalab`…
    pub register: String,
    /// The entry's id in that register.
    pub external_id: String,
    /// Where the register shows the entry.
    pub url: Option<String>,
    /// When the register published the entry.
    pub published_on: Option<Date>,
    /// When the register last revised the entry.
    pub revised_on: Option<Date>,
    /// When the register stopped listing the entry (an import then
    /// archived the deployment); `null` while it is listed.
    pub withdrawn_on: Option<Date>,
}

static REGISTER_ENTRIES: Rel<entity::deployment_register_entry::Entity> = Rel::new(RelDef {
    name: "Deployment.registerEntries",
    child: "deployment_register_entry",
    via: via!(entity::deployment_register_entry::Entity; column(deployment_id)),
    only: None,
});

node! {
    /// One AI use in one territory: an entry of the library of
    /// territorialised AI.
    Deployment(deployment), provenance;
    root DeploymentRoot {
        /// All deployments, in the order they were recorded.
        list: deployments,
        /// One deployment, by `id`; `null` if none matches.
        one: deployment(),
    }
    filter DeploymentFilter {
        /// Name of the AI use.
        title: text;
        /// What the system does.
        summary: text;
        /// The need it answers.
        purpose: text;
        /// Life-cycle stage.
        status: DeploymentStatus;
        /// Month the use started (`YYYY-MM`).
        start_month: string;
        /// Month the use ended (`YYYY-MM`).
        end_month: string;
        /// Weight on decisions.
        decision_role: DecisionRole;
        /// Who uses the system.
        audience: Audience;
        /// Personal data processed.
        personal_data: PersonalData;
        /// EU AI Act tier.
        ai_act_tier: AiActTier;
        /// Annex III area.
        annex_iii_area: AnnexIiiArea;
    } parents {
        /// The territory that uses it matches.
        territory: Territory = territory_id;
        /// Its source matches: a register of algorithms is one
        /// (`{ source: { document: { eq: "register uk-atrs" } } }`).
        source: Source = source_id;
    }
    order DeploymentOrder by DeploymentOrderField {
        /// Name.
        Title = title;
        /// Life-cycle stage (alphabetically by value).
        Status = status;
        /// Month started.
        StartMonth = start_month;
        /// Month ended.
        EndMonth = end_month;
        /// Weight on decisions (alphabetically by value).
        DecisionRole = decision_role;
        /// EU AI Act tier (alphabetically by value).
        AiActTier = ai_act_tier;
    }
    groups DeploymentGroup by DeploymentGroupKey {
        /// Life-cycle stage.
        Status = key!(DeploymentStatus: deployment.status);
        /// Weight on decisions.
        DecisionRole = key!(DecisionRole: deployment.decision_role);
        /// Who uses the system.
        Audience = key!(Audience: deployment.audience);
        /// Personal data processed.
        PersonalData = key!(PersonalData: deployment.personal_data);
        /// EU AI Act tier.
        AiActTier = key!(AiActTier: deployment.ai_act_tier);
        /// Annex III area.
        AnnexIiiArea = key!(AnnexIiiArea: deployment.annex_iii_area);
        /// The territory that uses it.
        Territory = key!(record by name: deployment.territory_id -> territory);
        /// Country of the territory (ISO 3166-1 alpha-2).
        Country = key!(deployment.territory_id -> territory.country);
        /// The région of the territory that uses it.
        Region = key!(deployment.territory_id -> territory.region);
        /// The département of the territory that uses it, as a record.
        InDepartment = key!(record by name: deployment.territory_id -> territory.department_id -> territory);
        /// The région of the territory that uses it, as a record.
        InRegion = key!(record by name: deployment.territory_id -> territory.region_id -> territory);
        /// The legal form of the territory that uses it.
        TerritoryKind = key!(TerritoryKind: deployment.territory_id -> territory.kind);
        /// The year the use started.
        Year = key!(year_of_month: deployment.start_month);
        /// Its source: the register of algorithms that lists it, the
        /// document, or who contributed it.
        Source = key!(record by title: deployment.source_id -> source);
    } numbers DeploymentNumbers {}
    fields {
        /// Name of the AI use.
        async fn title(&self) -> &str {
            &self.0.title
        }

        /// What the system does, in a few sentences.
        async fn summary(&self) -> Option<&str> {
            self.0.summary.as_deref()
        }

        /// The public-service need it answers.
        async fn purpose(&self) -> Option<&str> {
            self.0.purpose.as_deref()
        }

        /// Life-cycle stage.
        async fn status(&self) -> DeploymentStatus {
            self.0.status.into()
        }

        /// Month the use started, as `YYYY-MM`.
        async fn start_month(&self) -> Option<&str> {
            self.0.start_month.as_deref()
        }

        /// Month the use ended, as `YYYY-MM`.
        async fn end_month(&self) -> Option<&str> {
            self.0.end_month.as_deref()
        }

        /// How far the system weighs on decisions.
        async fn decision_role(&self) -> Option<DecisionRole> {
            self.0.decision_role.map(Into::into)
        }

        /// Who uses the system.
        async fn audience(&self) -> Option<Audience> {
            self.0.audience.map(Into::into)
        }

        /// Which personal data the system processes.
        async fn personal_data(&self) -> Option<PersonalData> {
            self.0.personal_data.map(Into::into)
        }

        /// Risk tier under the EU AI Act.
        async fn ai_act_tier(&self) -> AiActTier {
            self.0.ai_act_tier.into()
        }

        /// The Annex III area of the EU AI Act the use falls in, if any.
        async fn annex_iii_area(&self) -> Option<AnnexIiiArea> {
            self.0.annex_iii_area.map(Into::into)
        }

        /// How people oversee the system.
        async fn human_oversight(&self) -> Option<&str> {
            self.0.human_oversight.as_deref()
        }

        /// How someone affected can object to or appeal an outcome.
        async fn objection_procedure(&self) -> Option<&str> {
            self.0.objection_procedure.as_deref()
        }

        /// Link to the data-protection impact assessment (DPIA / AIPD).
        async fn dpia_url(&self) -> Option<&str> {
            self.0.dpia_url.as_deref()
        }

        /// Link to another impact assessment (fundamental rights, environment…).
        async fn impact_assessment_url(&self) -> Option<&str> {
            self.0.impact_assessment_url.as_deref()
        }

        /// Link to the source code.
        async fn code_url(&self) -> Option<&str> {
            self.0.code_url.as_deref()
        }

        /// Link to the entry in the territory's register of public algorithms.
        async fn algorithm_register_url(&self) -> Option<&str> {
            self.0.algorithm_register_url.as_deref()
        }

        /// The law or rule that allows the use, as its register states it.
        async fn legal_basis(&self) -> Option<&str> {
            self.0.legal_basis.as_deref()
        }

        /// The language of its texts (BCP 47: `fr`, `nl`, `en`).
        async fn language(&self) -> Option<&str> {
            self.0.language.as_deref()
        }

        /// Its entries in public registers of algorithms (one per register
        /// that lists it), by register then id: where each shows it, and
        /// when each published and revised it — dates of the register, not
        /// of the use (`startMonth`).
        async fn register_entries(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<RegisterEntry>> {
            let mut entries: Vec<RegisterEntry> = all_related(ctx, &REGISTER_ENTRIES, self.0.id)
                .await?
                .into_iter()
                .map(|row| RegisterEntry {
                    register: row.register,
                    external_id: row.external_id,
                    url: row.url,
                    published_on: row.published_on.map(Date),
                    revised_on: row.revised_on.map(Date),
                    withdrawn_on: row.withdrawn_on.map(Date),
                })
                .collect();
            entries.sort_by(|a, b| (&a.register, &a.external_id).cmp(&(&b.register, &b.external_id)));
            Ok(entries)
        }

        /// The territory that uses the system.
        async fn territory(&self, ctx: &Context<'_>) -> async_graphql::Result<Territory> {
            one(ctx, self.0.territory_id).await
        }
    }
    relations {
        /// The organizations involved, each with its role.
        organizations: DeploymentOrganization = column(deployment_id);
        /// Public-service areas the use serves.
        domains: Domain = link(deployment_domain: domain_id, deployment_id);
        /// AI techniques the system uses.
        techniques: Technique = link(deployment_technique: technique_id, deployment_id);
        /// Risks declared for this use, with severity, likelihood and mitigation.
        risks: DeploymentRisk = column(deployment_id);
        /// Contributions of concertations that name this use.
        contributions: Contribution = link(contribution_deployment: contribution_id, deployment_id);
        /// Citizen concerns that name this use.
        concerns: Contribution = link(contribution_deployment: contribution_id, deployment_id), only(kind = ContributionKind::Concern);
    }
}

node! {
    /// An organization's part in a deployment.
    DeploymentOrganization(deployment_organization), provenance;
    root DeploymentOrganizationRoot {
        /// Every part organizations play in deployments.
        list: deployment_organizations,
        /// One organization's part in a deployment, by `id`; `null` if none
        /// matches.
        one: deployment_organization(),
    }
    filter DeploymentOrganizationFilter {
        /// The part the organization plays.
        role: OrganizationRole;
    } parents {
        /// The deployment matches.
        deployment: Deployment = deployment_id;
        /// The organization matches.
        organization: Organization = organization_id;
    }
    order DeploymentOrganizationOrder by DeploymentOrganizationOrderField {
        /// Role (alphabetically by value).
        Role = role;
    }
    groups DeploymentOrganizationGroup by DeploymentOrganizationGroupKey {
        /// The part the organization plays.
        Role = key!(OrganizationRole: deployment_organization.role);
        /// The organization.
        Organization = key!(record by name: deployment_organization.organization_id -> organization);
    } numbers DeploymentOrganizationNumbers {}
    fields {
        /// The part the organization plays.
        async fn role(&self) -> OrganizationRole {
            self.0.role.into()
        }

        /// The deployment.
        async fn deployment(&self, ctx: &Context<'_>) -> async_graphql::Result<Deployment> {
            one(ctx, self.0.deployment_id).await
        }

        /// The organization.
        async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
            one(ctx, self.0.organization_id).await
        }
    }
    relations {}
}

node! {
    /// A public-service area (mobility, social action, front desk…).
    Domain(domain), provenance;
    root DomainRoot {
        /// All public-service areas.
        list: domains,
        /// One public-service area, by exactly one of `id` or `key`; `null`
        /// if none matches.
        one: domain(key: "Stable key, e.g. `MOBILITY`."),
    }
    filter DomainFilter {
        /// Stable key.
        key: string;
        /// Name.
        name: text;
    } parents {}
    order DomainOrder by DomainOrderField {
        /// Stable key.
        Key = key;
        /// Name.
        Name = name;
    }
    groups DomainGroup by DomainGroupKey {} numbers DomainNumbers {}
    fields {
        /// Stable key (e.g. `MOBILITY`).
        async fn key(&self) -> &str {
            &self.0.key
        }

        /// Name, in French.
        async fn name(&self) -> &str {
            &self.0.name
        }

        /// What the area covers.
        async fn description(&self) -> Option<&str> {
            self.0.description.as_deref()
        }
    }
    relations {
        /// Deployments serving this area.
        deployments: Deployment = link(deployment_domain: deployment_id, domain_id);
    }
}

node! {
    /// A family of AI techniques (rule-based, machine learning, generative…).
    Technique(technique), provenance;
    root TechniqueRoot {
        /// All technique families.
        list: techniques,
        /// One technique family, by exactly one of `id` or `key`; `null` if
        /// none matches.
        one: technique(key: "Stable key, e.g. `GENERATIVE_TEXT`."),
    }
    filter TechniqueFilter {
        /// Stable key.
        key: string;
        /// Name.
        name: text;
    } parents {}
    order TechniqueOrder by TechniqueOrderField {
        /// Stable key.
        Key = key;
        /// Name.
        Name = name;
    }
    groups TechniqueGroup by TechniqueGroupKey {} numbers TechniqueNumbers {}
    fields {
        /// Stable key (e.g. `GENERATIVE_TEXT`).
        async fn key(&self) -> &str {
            &self.0.key
        }

        /// Name, in French.
        async fn name(&self) -> &str {
            &self.0.name
        }

        /// What the family covers.
        async fn description(&self) -> Option<&str> {
            self.0.description.as_deref()
        }
    }
    relations {
        /// Deployments using this technique.
        deployments: Deployment = link(deployment_technique: deployment_id, technique_id);
    }
}
