//! Studies and their findings: the network's study of how AI changes the
//! jobs of the territorial civil service (axis 3), and the learnings drawn
//! from the concertations (« résultats et enseignements »).

use async_graphql::Context;

use super::{
    Axis, Concertation, ConcertationProgramme, Lever, RiskCategory,
    engine::node::{maybe_one, one},
    engine::relation::{Rel, RelDef},
    engine::scalars::Date,
    enums::{ExposureLevel, FindingKind},
    source::{Linked, linked},
};

static FINDING_RISKS: Rel<entity::finding_risk_category::Entity> = Rel::new(RelDef {
    name: "StudyFinding.riskCategoryLinks",
    child: "finding_risk_category",
    via: via!(entity::finding_risk_category::Entity; column(finding_id)),
    only: None,
});
static FINDING_LEVERS: Rel<entity::finding_lever::Entity> = Rel::new(RelDef {
    name: "StudyFinding.leverLinks",
    child: "finding_lever",
    via: via!(entity::finding_lever::Entity; column(finding_id)),
    only: None,
});

node! {
    /// A study: its question, and the findings it came to.
    Study(study), provenance;
    root StudyRoot {
        /// All studies.
        list: studies,
        /// One study, by `id`; `null` if none matches.
        one: study(),
    }
    filter StudyFilter {
        /// Title.
        title: text;
        /// What it is about.
        description: text;
        /// When it was published.
        published_on: date;
    } parents {
        /// The work axis matches.
        axis: Axis = axis_id;
        /// The programme matches.
        programme: ConcertationProgramme = programme_id;
    }
    order StudyOrder by StudyOrderField {
        /// Title.
        Title = title;
        /// When it was published.
        PublishedOn = published_on;
    }
    groups StudyGroup by StudyGroupKey {
        /// The work axis.
        Axis = key!(record by title: study.axis_id -> axis);
        /// The year it was published.
        Year = key!(year_of_date: study.published_on);
    } numbers StudyNumbers {}
    fields {
        /// Title, in French.
        async fn title(&self) -> &str {
            &self.0.title
        }

        /// What the study is about.
        async fn description(&self) -> Option<&str> {
            self.0.description.as_deref()
        }

        /// When it was published, if it was.
        async fn published_on(&self) -> Option<Date> {
            self.0.published_on.map(Date)
        }

        /// Link to the study.
        async fn url(&self) -> Option<&str> {
            self.0.url.as_deref()
        }

        /// The network's work axis it belongs to.
        async fn axis(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Axis>> {
            maybe_one(ctx, self.0.axis_id).await
        }

        /// The concertation programme it draws on.
        async fn programme(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ConcertationProgramme>> {
            maybe_one(ctx, self.0.programme_id).await
        }
    }
    relations {
        /// What the study found.
        findings: StudyFinding = column(study_id);
    }
}

node! {
    /// A finding of a study: a learning, a job family's exposure, a figure
    /// or a recommendation.
    StudyFinding(study_finding), provenance;
    root StudyFindingRoot {
        /// All study findings.
        list: study_findings,
        /// One finding, by `id`; `null` if none matches.
        one: study_finding(),
    }
    filter StudyFindingFilter {
        /// What the finding is.
        kind: FindingKind;
        /// Position in the study's list.
        rank: int;
        /// The finding.
        statement: text;
        /// What is measured.
        metric: string;
        /// The measured value.
        value: float;
        /// The job family concerned.
        job_family: text;
        /// How exposed the job family is.
        exposure_level: ExposureLevel;
    } parents {
        /// The study matches.
        study: Study = study_id;
    }
    order StudyFindingOrder by StudyFindingOrderField {
        /// Kind (alphabetically by value).
        Kind = kind;
        /// Position in the study's list.
        Rank = rank;
        /// The measured value.
        Value = value;
    }
    groups StudyFindingGroup by StudyFindingGroupKey {
        /// What the finding is.
        Kind = key!(FindingKind: study_finding.kind);
        /// How exposed the job family is.
        ExposureLevel = key!(ExposureLevel: study_finding.exposure_level);
        /// The job family concerned.
        JobFamily = key!(study_finding.job_family);
        /// The study.
        Study = key!(record by title: study_finding.study_id -> study);
    } numbers StudyFindingNumbers {
        /// The measured value.
        value;
    }
    fields {
        /// The risk categories it relates to (as `riskCategories`), each with the source of its link.
        async fn risk_category_links(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Linked<RiskCategory>>> {
            linked(ctx, &FINDING_RISKS, self.0.id, |link| (link.risk_category_id, link.source_id)).await
        }

        /// The levers it calls for (as `levers`), each with the source of its link.
        async fn lever_links(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Linked<Lever>>> {
            linked(ctx, &FINDING_LEVERS, self.0.id, |link| (link.lever_id, link.source_id)).await
        }

        /// What the finding is.
        async fn kind(&self) -> FindingKind {
            self.0.kind.into()
        }

        /// Position in the study's list (1 first), when it has one.
        async fn rank(&self) -> Option<i32> {
            self.0.rank
        }

        /// The finding, in French.
        async fn statement(&self) -> &str {
            &self.0.statement
        }

        /// What is measured, for a figure.
        async fn metric(&self) -> Option<&str> {
            self.0.metric.as_deref()
        }

        /// The measured value, for a figure.
        async fn value(&self) -> Option<f64> {
            self.0.value
        }

        /// The job family concerned, for a job's exposure.
        async fn job_family(&self) -> Option<&str> {
            self.0.job_family.as_deref()
        }

        /// How exposed the job family is.
        async fn exposure_level(&self) -> Option<ExposureLevel> {
            self.0.exposure_level.map(Into::into)
        }

        /// The study.
        async fn study(&self, ctx: &Context<'_>) -> async_graphql::Result<Study> {
            one(ctx, self.0.study_id).await
        }
    }
    relations {
        /// Risk categories the finding is about.
        risk_categories: RiskCategory = link(finding_risk_category: risk_category_id, finding_id);
        /// Levers the finding points to.
        levers: Lever = link(finding_lever: lever_id, finding_id);
        /// Concertations the finding draws on.
        concertations: Concertation = link(finding_concertation: concertation_id, finding_id);
    }
}
