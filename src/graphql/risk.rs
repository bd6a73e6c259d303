//! The stakes of AI for territories, as the network frames them: a taxonomy
//! of risks (whose roots are the five risks of the Commission Numérique —
//! bias and inequality, opacity, environment, data and sovereignty, work and
//! employment), the risks declared for each deployment, the opportunities,
//! and the levers that mitigate the risks.

use async_graphql::Context;

use super::{
    Contribution, Deployment, StudyFinding,
    engine::node::{maybe_one, one},
    engine::relation::{Rel, RelDef},
    enums::{Likelihood, MitigationStatus, Severity},
    source::{Linked, linked},
};

static LEVER_RISKS: Rel<entity::lever_risk_category::Entity> = Rel::new(RelDef {
    name: "Lever.riskCategoryLinks",
    child: "lever_risk_category",
    via: via!(entity::lever_risk_category::Entity; column(lever_id)),
    only: None,
});

node! {
    /// A category of the risk taxonomy; the roots are the network's five risks.
    RiskCategory(risk_category), provenance;
    root RiskCategoryRoot {
        /// All risk categories.
        list: risk_categories,
        /// One risk category, by exactly one of `id` or `key`; `null` if none
        /// matches.
        one: risk_category(key: "Stable key, e.g. `OPACITY`."),
    }
    filter RiskCategoryFilter {
        /// Stable key.
        key: string;
        /// Title.
        title: text;
        /// What the risk is.
        description: text;
    } parents {
        /// The broader category matches.
        parent: RiskCategory = parent_id;
    }
    order RiskCategoryOrder by RiskCategoryOrderField {
        /// Stable key.
        Key = key;
        /// Title.
        Title = title;
    }
    groups RiskCategoryGroup by RiskCategoryGroupKey {
        /// The broader category.
        Parent = key!(record by title: risk_category.parent_id -> risk_category);
    } numbers RiskCategoryNumbers {}
    fields {
        /// Stable key (e.g. `BIAS_AND_INEQUALITY`).
        async fn key(&self) -> &str {
            &self.0.key
        }

        /// Title, in French.
        async fn title(&self) -> &str {
            &self.0.title
        }

        /// What the risk is.
        async fn description(&self) -> Option<&str> {
            self.0.description.as_deref()
        }

        /// The broader category, if this is not a root.
        async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<RiskCategory>> {
            maybe_one(ctx, self.0.parent_id).await
        }
    }
    relations {
        /// Narrower categories.
        children: RiskCategory = column(parent_id);
        /// Risks of this category declared for deployments.
        deployment_risks: DeploymentRisk = column(risk_category_id);
        /// Contributions of concertations about this risk.
        contributions: Contribution = link(contribution_risk_category: contribution_id, risk_category_id);
        /// Citizen concerns about this risk.
        concerns: Contribution = link(contribution_risk_category: contribution_id, risk_category_id), only(kind = ContributionKind::Concern);
        /// Levers that mitigate this risk.
        levers: Lever = link(lever_risk_category: lever_id, risk_category_id);
        /// Study findings about this risk.
        findings: StudyFinding = link(finding_risk_category: finding_id, risk_category_id);
    }
}

node! {
    /// A risk declared for a deployment.
    DeploymentRisk(deployment_risk), provenance;
    root DeploymentRiskRoot {
        /// Every risk declared for a deployment.
        list: deployment_risks,
        /// One declared risk, by `id`; `null` if none matches.
        one: deployment_risk(),
    }
    filter DeploymentRiskFilter {
        /// How bad it would be.
        severity: Severity;
        /// How likely it is.
        likelihood: Likelihood;
        /// Where its mitigation stands.
        mitigation_status: MitigationStatus;
    } parents {
        /// The deployment matches.
        deployment: Deployment = deployment_id;
        /// The risk category matches.
        category: RiskCategory = risk_category_id;
    }
    order DeploymentRiskOrder by DeploymentRiskOrderField {
        /// Severity (alphabetically by value).
        Severity = severity;
        /// Likelihood (alphabetically by value).
        Likelihood = likelihood;
        /// Mitigation status (alphabetically by value).
        MitigationStatus = mitigation_status;
    }
    groups DeploymentRiskGroup by DeploymentRiskGroupKey {
        /// How bad it would be.
        Severity = key!(Severity: deployment_risk.severity);
        /// How likely it is.
        Likelihood = key!(Likelihood: deployment_risk.likelihood);
        /// Where its mitigation stands.
        MitigationStatus = key!(MitigationStatus: deployment_risk.mitigation_status);
        /// The risk category.
        Category = key!(record by title: deployment_risk.risk_category_id -> risk_category);
        /// The territory of the deployment.
        Territory = key!(record by name: deployment_risk.deployment_id -> deployment.territory_id -> territory);
        /// The région of the deployment's territory.
        Region = key!(deployment_risk.deployment_id -> deployment.territory_id -> territory.region);
        /// The département of the deployment's territory, as a record.
        InDepartment = key!(record by name: deployment_risk.deployment_id -> deployment.territory_id -> territory.department_id -> territory);
        /// The région of the deployment's territory, as a record.
        InRegion = key!(record by name: deployment_risk.deployment_id -> deployment.territory_id -> territory.region_id -> territory);
    } numbers DeploymentRiskNumbers {}
    fields {
        /// How bad it would be, if assessed.
        async fn severity(&self) -> Option<Severity> {
            self.0.severity.map(Into::into)
        }

        /// How likely it is, if assessed.
        async fn likelihood(&self) -> Option<Likelihood> {
            self.0.likelihood.map(Into::into)
        }

        /// Where its mitigation stands.
        async fn mitigation_status(&self) -> MitigationStatus {
            self.0.mitigation_status.into()
        }

        /// What is done to mitigate it.
        async fn mitigation(&self) -> Option<&str> {
            self.0.mitigation.as_deref()
        }

        /// The deployment the risk is declared for.
        async fn deployment(&self, ctx: &Context<'_>) -> async_graphql::Result<Deployment> {
            one(ctx, self.0.deployment_id).await
        }

        /// The category of the risk; `null` for a risk stated only in
        /// words, as registers of algorithms give them (see
        /// `description`).
        async fn category(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<RiskCategory>> {
            match self.0.risk_category_id {
                Some(id) => Ok(Some(one(ctx, id).await?)),
                None => Ok(None),
            }
        }

        /// The risk in its source's words, when the source states it (a
        /// register's text, without a category, severity or likelihood).
        async fn description(&self) -> Option<&str> {
            self.0.description.as_deref()
        }
    }
    relations {}
}

node! {
    /// An opportunity AI opens for territories.
    Opportunity(opportunity), provenance;
    root OpportunityRoot {
        /// All opportunities, in the document's order.
        list: opportunities,
        /// One opportunity, by `id`; `null` if none matches.
        one: opportunity(),
    }
    filter OpportunityFilter {
        /// Position in the source's list.
        rank: int;
        /// Title.
        title: text;
        /// What the opportunity is.
        description: text;
    } parents {}
    order OpportunityOrder by OpportunityOrderField {
        /// Position in the source's list.
        Rank = rank;
        /// Title.
        Title = title;
    }
    groups OpportunityGroup by OpportunityGroupKey {} numbers OpportunityNumbers {}
    fields {
        /// Position in the source's list (1 first).
        async fn rank(&self) -> i32 {
            self.0.rank
        }

        /// Title, in French.
        async fn title(&self) -> &str {
            &self.0.title
        }

        /// What the opportunity is.
        async fn description(&self) -> Option<&str> {
            self.0.description.as_deref()
        }
    }
    relations {}
}

node! {
    /// A lever for a responsible use of AI.
    Lever(lever), provenance;
    root LeverRoot {
        /// All levers, in the document's order.
        list: levers,
        /// One lever, by `id`; `null` if none matches.
        one: lever(),
    }
    filter LeverFilter {
        /// Position in the source's list.
        rank: int;
        /// Title.
        title: text;
        /// What the lever is.
        description: text;
    } parents {}
    order LeverOrder by LeverOrderField {
        /// Position in the source's list.
        Rank = rank;
        /// Title.
        Title = title;
    }
    groups LeverGroup by LeverGroupKey {} numbers LeverNumbers {}
    fields {
        /// The risk categories it mitigates (as `riskCategories`), each with the source of its link.
        async fn risk_category_links(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Linked<RiskCategory>>> {
            linked(ctx, &LEVER_RISKS, self.0.id, |link| (link.risk_category_id, link.source_id)).await
        }

        /// Position in the source's list (1 first).
        async fn rank(&self) -> i32 {
            self.0.rank
        }

        /// Title, in French.
        async fn title(&self) -> &str {
            &self.0.title
        }

        /// What the lever is.
        async fn description(&self) -> Option<&str> {
            self.0.description.as_deref()
        }
    }
    relations {
        /// Risks this lever mitigates.
        risk_categories: RiskCategory = link(lever_risk_category: risk_category_id, lever_id);
        /// Study findings that point to this lever.
        findings: StudyFinding = link(finding_lever: finding_id, lever_id);
    }
}
