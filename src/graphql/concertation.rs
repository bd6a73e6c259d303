//! Citizen concertations on AI. In the network's programme « Concertations
//! territoriales de l'IA », each volunteer territory leads, on its own terms,
//! one or more consultations of the publics it chooses (citizens, agents,
//! elected officials, youth…) and follows them up locally; a common charter
//! guarantees the sincerity of the approach. What a concertation raises —
//! concerns, expectations, proposals, opportunities — are its contributions;
//! the programme's ten citizen concerns are contributions of the programme
//! itself.

use async_graphql::Context;
use entity::{concertation_format, concertation_public};

use super::{
    Axis, Charter, Deployment, Resource, RiskCategory, Study, StudyFinding, Territory,
    engine::node::{all_related, maybe_one, one},
    engine::relation::{Rel, RelDef},
    engine::scalars::Date,
    enums::{
        ConcertationFormat, ConcertationStatus, ContributionKind, ParticipationMode, Public,
        ResponseState,
    },
    source::{Linked, linked},
};

static CONTRIBUTION_RISKS: Rel<entity::contribution_risk_category::Entity> = Rel::new(RelDef {
    name: "Contribution.riskCategoryLinks",
    child: "contribution_risk_category",
    via: via!(entity::contribution_risk_category::Entity; column(contribution_id)),
    only: None,
});

node! {
    /// A programme of citizen concertations on AI run across territories.
    ConcertationProgramme(concertation_programme), provenance;
    root ConcertationProgrammeRoot {
        /// All concertation programmes.
        list: concertation_programmes,
        /// One concertation programme, by `id`; `null` if none matches.
        one: concertation_programme(),
    }
    filter ConcertationProgrammeFilter {
        /// Title.
        title: text;
    } parents {
        /// The work axis matches.
        axis: Axis = axis_id;
    }
    order ConcertationProgrammeOrder by ConcertationProgrammeOrderField {
        /// Title.
        Title = title;
    }
    groups ConcertationProgrammeGroup by ConcertationProgrammeGroupKey {
        /// The work axis.
        Axis = key!(record by title: concertation_programme.axis_id -> axis);
    } numbers ConcertationProgrammeNumbers {}
    fields {
        /// Title, in French.
        async fn title(&self) -> &str {
            &self.0.title
        }

        /// How the programme works.
        async fn operation(&self) -> Option<&str> {
            self.0.operation.as_deref()
        }

        /// The online space where territories inform, engage and document.
        async fn online_space(&self) -> Option<&str> {
            self.0.online_space.as_deref()
        }

        /// The methodological resources the programme offers.
        async fn methodological_resources(&self) -> Option<&str> {
            self.0.methodological_resources.as_deref()
        }

        /// The network's work axis the programme belongs to.
        async fn axis(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Axis>> {
            maybe_one(ctx, self.0.axis_id).await
        }
    }
    relations {
        /// The territories engaged in the programme, and how.
        participations: ProgrammeParticipation = column(programme_id);
        /// Concertations held within the programme.
        concertations: Concertation = column(programme_id);
        /// What the programme as a whole raised (not tied to one concertation).
        contributions: Contribution = column(programme_id);
        /// The citizen concerns the programme as a whole raised.
        concerns: Contribution = column(programme_id), only(kind = ContributionKind::Concern);
        /// The programme's charters.
        charters: Charter = column(programme_id);
        /// Studies drawn from the programme.
        studies: Study = column(programme_id);
    }
}

node! {
    /// A territory's engagement in a concertation programme.
    ProgrammeParticipation(programme_participation), provenance;
    root ProgrammeParticipationRoot {
        /// Every engagement of a territory in a programme.
        list: programme_participations,
        /// One engagement, by `id`; `null` if none matches.
        one: programme_participation(),
    }
    filter ProgrammeParticipationFilter {
        /// How the territory takes part.
        mode: ParticipationMode;
    } parents {
        /// The programme matches.
        programme: ConcertationProgramme = programme_id;
        /// The territory matches.
        territory: Territory = territory_id;
    }
    order ProgrammeParticipationOrder by ProgrammeParticipationOrderField {
        /// How the territory takes part (alphabetically by value).
        Mode = mode;
    }
    groups ProgrammeParticipationGroup by ProgrammeParticipationGroupKey {
        /// How the territory takes part.
        Mode = key!(ParticipationMode: programme_participation.mode);
        /// The programme.
        Programme = key!(record by title: programme_participation.programme_id -> concertation_programme);
        /// The région of the territory.
        Region = key!(programme_participation.territory_id -> territory.region);
        /// The département of the territory, as a record.
        InDepartment = key!(record by name: programme_participation.territory_id -> territory.department_id -> territory);
        /// The région of the territory, as a record.
        InRegion = key!(record by name: programme_participation.territory_id -> territory.region_id -> territory);
        /// The legal form of the territory.
        TerritoryKind = key!(TerritoryKind: programme_participation.territory_id -> territory.kind);
    } numbers ProgrammeParticipationNumbers {}
    fields {
        /// How the territory takes part.
        async fn mode(&self) -> ParticipationMode {
            self.0.mode.into()
        }

        /// The programme.
        async fn programme(&self, ctx: &Context<'_>) -> async_graphql::Result<ConcertationProgramme> {
            one(ctx, self.0.programme_id).await
        }

        /// The territory.
        async fn territory(&self, ctx: &Context<'_>) -> async_graphql::Result<Territory> {
            one(ctx, self.0.territory_id).await
        }
    }
    relations {}
}

static FORMATS: Rel<concertation_format::Entity> = Rel::new(RelDef {
    name: "Concertation.formats",
    child: "concertation_format",
    via: via!(concertation_format::Entity; column(concertation_id)),
    only: None,
});

static PUBLICS: Rel<concertation_public::Entity> = Rel::new(RelDef {
    name: "Concertation.publics",
    child: "concertation_public",
    via: via!(concertation_public::Entity; column(concertation_id)),
    only: None,
});

node! {
    /// A citizen consultation on AI led by a territory.
    Concertation(concertation), provenance;
    root ConcertationRoot {
        /// All concertations, in the order they were recorded.
        list: concertations,
        /// One concertation, by `id`; `null` if none matches.
        one: concertation(),
    }
    filter ConcertationFilter {
        /// Title.
        title: text;
        /// What it was about.
        summary: text;
        /// Stage.
        status: ConcertationStatus;
        /// First day.
        start_date: date;
        /// Last day.
        end_date: date;
        /// Number of participants.
        participant_count: int;
        /// Hours of debate.
        hours: float;
        /// Whether it produced a local charter.
        produced_local_charter: bool;
    } parents {
        /// The territory that leads it matches.
        territory: Territory = territory_id;
        /// Its programme matches.
        programme: ConcertationProgramme = programme_id;
    }
    order ConcertationOrder by ConcertationOrderField {
        /// Title.
        Title = title;
        /// Stage (alphabetically by value).
        Status = status;
        /// First day.
        StartDate = start_date;
        /// Last day.
        EndDate = end_date;
        /// Number of participants.
        ParticipantCount = participant_count;
        /// Hours of debate.
        Hours = hours;
    }
    groups ConcertationGroup by ConcertationGroupKey {
        /// Stage.
        Status = key!(ConcertationStatus: concertation.status);
        /// The territory that leads it.
        Territory = key!(record by name: concertation.territory_id -> territory);
        /// The région of the territory that leads it.
        Region = key!(concertation.territory_id -> territory.region);
        /// The département of the territory that leads it, as a record.
        InDepartment = key!(record by name: concertation.territory_id -> territory.department_id -> territory);
        /// The région of the territory that leads it, as a record.
        InRegion = key!(record by name: concertation.territory_id -> territory.region_id -> territory);
        /// The legal form of the territory that leads it.
        TerritoryKind = key!(TerritoryKind: concertation.territory_id -> territory.kind);
        /// The programme it belongs to.
        Programme = key!(record by title: concertation.programme_id -> concertation_programme);
        /// The year it started.
        Year = key!(year_of_date: concertation.start_date);
    } numbers ConcertationNumbers {
        /// Number of participants.
        participant_count;
        /// Hours of debate.
        hours;
    }
    fields {
        /// Title, in French.
        async fn title(&self) -> &str {
            &self.0.title
        }

        /// What the concertation was about and how it went.
        async fn summary(&self) -> Option<&str> {
            self.0.summary.as_deref()
        }

        /// Stage.
        async fn status(&self) -> ConcertationStatus {
            self.0.status.into()
        }

        /// First day.
        async fn start_date(&self) -> Option<Date> {
            self.0.start_date.map(Date)
        }

        /// Last day.
        async fn end_date(&self) -> Option<Date> {
            self.0.end_date.map(Date)
        }

        /// Number of participants, if counted.
        async fn participant_count(&self) -> Option<i32> {
            self.0.participant_count
        }

        /// Hours of debate, if counted.
        async fn hours(&self) -> Option<f64> {
            self.0.hours
        }

        /// Link to the report.
        async fn report_url(&self) -> Option<&str> {
            self.0.report_url.as_deref()
        }

        /// Whether the concertation produced a local charter.
        async fn produced_local_charter(&self) -> bool {
            self.0.produced_local_charter
        }

        /// Formats used (workshops, debates, surveys…), in the order of the
        /// `ConcertationFormat` values.
        async fn formats(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ConcertationFormat>> {
            let mut formats: Vec<_> = all_related(ctx, &FORMATS, self.0.id)
                .await?
                .into_iter()
                .map(|row| row.format)
                .collect();
            formats.sort();
            Ok(formats.into_iter().map(Into::into).collect())
        }

        /// Publics addressed, in the order of the `Public` values.
        async fn publics(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Public>> {
            let mut publics: Vec<_> = all_related(ctx, &PUBLICS, self.0.id)
                .await?
                .into_iter()
                .map(|row| row.public)
                .collect();
            publics.sort();
            Ok(publics.into_iter().map(Into::into).collect())
        }

        /// The territory that leads it.
        async fn territory(&self, ctx: &Context<'_>) -> async_graphql::Result<Territory> {
            one(ctx, self.0.territory_id).await
        }

        /// The programme it belongs to, if any.
        async fn programme(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ConcertationProgramme>> {
            maybe_one(ctx, self.0.programme_id).await
        }
    }
    relations {
        /// Other territories co-organising it.
        co_organizers: Territory = link(concertation_co_organizer: territory_id, concertation_id);
        /// What it raised.
        contributions: Contribution = column(concertation_id);
        /// The citizen concerns it raised.
        concerns: Contribution = column(concertation_id), only(kind = ContributionKind::Concern);
        /// Local charters it produced.
        charters: Charter = column(concertation_id);
        /// Study findings drawn from it.
        findings: StudyFinding = link(finding_concertation: finding_id, concertation_id);
        /// Resources it published.
        resources: Resource = column(concertation_id);
    }
}

node! {
    /// What a concertation (or a whole programme) raised: a concern, an
    /// expectation, a proposal or an opportunity.
    Contribution(contribution), provenance;
    root ContributionRoot {
        /// All contributions, in the order they were recorded.
        list: contributions,
        /// One contribution, by `id`; `null` if none matches.
        one: contribution(),
    }
    filter ContributionFilter {
        /// What the contribution is.
        kind: ContributionKind;
        /// Position in the source's list.
        rank: int;
        /// The words recorded.
        statement: text;
        /// How strongly it came out (1 to 5).
        salience: int;
        /// The public that raised it.
        public: Public;
        /// How the organisers answered it.
        response_state: ResponseState;
    } parents {
        /// The concertation that raised it matches.
        concertation: Concertation = concertation_id;
        /// The programme that raised it matches.
        programme: ConcertationProgramme = programme_id;
    }
    order ContributionOrder by ContributionOrderField {
        /// Kind (alphabetically by value).
        Kind = kind;
        /// Position in the source's list.
        Rank = rank;
        /// How strongly it came out.
        Salience = salience;
        /// How it was answered (alphabetically by value).
        ResponseState = response_state;
    }
    groups ContributionGroup by ContributionGroupKey {
        /// What the contribution is.
        Kind = key!(ContributionKind: contribution.kind);
        /// The public that raised it.
        Public = key!(Public: contribution.public);
        /// How the organisers answered it.
        ResponseState = key!(ResponseState: contribution.response_state);
        /// How strongly it came out.
        Salience = key!(contribution.salience);
        /// The concertation that raised it.
        Concertation = key!(record by title: contribution.concertation_id -> concertation);
        /// The territory that led the concertation.
        Territory = key!(record by name: contribution.concertation_id -> concertation.territory_id -> territory);
        /// The région of the territory that led the concertation.
        Region = key!(contribution.concertation_id -> concertation.territory_id -> territory.region);
        /// The département of the territory that led the concertation, as a record.
        InDepartment = key!(record by name: contribution.concertation_id -> concertation.territory_id -> territory.department_id -> territory);
        /// The région of the territory that led the concertation, as a record.
        InRegion = key!(record by name: contribution.concertation_id -> concertation.territory_id -> territory.region_id -> territory);
    } numbers ContributionNumbers {
        /// How strongly it came out (1 to 5).
        salience;
    }
    fields {
        /// The risk categories it relates to (as `riskCategories`), each with the source of its link.
        async fn risk_category_links(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Linked<RiskCategory>>> {
            linked(ctx, &CONTRIBUTION_RISKS, self.0.id, |link| (link.risk_category_id, link.source_id)).await
        }

        /// What the contribution is.
        async fn kind(&self) -> ContributionKind {
            self.0.kind.into()
        }

        /// Position in the source's list (1 first), when it has one.
        async fn rank(&self) -> Option<i32> {
            self.0.rank
        }

        /// The contribution, in the words recorded (French).
        async fn statement(&self) -> &str {
            &self.0.statement
        }

        /// How strongly it came out, from 1 (marginal) to 5 (dominant), if
        /// assessed.
        async fn salience(&self) -> Option<i32> {
            self.0.salience
        }

        /// The public that raised it, if known.
        async fn public(&self) -> Option<Public> {
            self.0.public.map(Into::into)
        }

        /// How the organisers answered it.
        async fn response_state(&self) -> ResponseState {
            self.0.response_state.into()
        }

        /// The organisers' answer.
        async fn response(&self) -> Option<&str> {
            self.0.response.as_deref()
        }

        /// The concertation that raised it; `null` for a programme-level
        /// contribution.
        async fn concertation(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Concertation>> {
            maybe_one(ctx, self.0.concertation_id).await
        }

        /// The programme that raised it as a whole, for a programme-level
        /// contribution.
        async fn programme(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ConcertationProgramme>> {
            maybe_one(ctx, self.0.programme_id).await
        }
    }
    relations {
        /// Risk categories it is about.
        risk_categories: RiskCategory = link(contribution_risk_category: risk_category_id, contribution_id);
        /// Deployments it names.
        deployments: Deployment = link(contribution_deployment: deployment_id, contribution_id);
    }
}
