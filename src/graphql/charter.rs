//! Charters: the common commitment charter of a concertation programme
//! (« un cadre d'engagement commun matérialisé par une charte garantit la
//! sincérité de la démarche »), and the local charters territories adopt,
//! with who signed them and when.

use async_graphql::Context;

use super::{
    Concertation, ConcertationProgramme, Organization, Territory,
    engine::node::{maybe_one, one},
    engine::scalars::Date,
};

node! {
    /// A commitment charter: a programme's common charter or a local one.
    Charter(charter), provenance;
    root CharterRoot {
        /// All charters.
        list: charters,
        /// One charter, by `id`; `null` if none matches.
        one: charter(),
    }
    filter CharterFilter {
        /// Title.
        title: text;
        /// What it commits to.
        description: text;
        /// When it was adopted.
        adopted_on: date;
    } parents {
        /// The programme matches.
        programme: ConcertationProgramme = programme_id;
        /// The territory matches.
        territory: Territory = territory_id;
        /// The concertation that produced it matches.
        concertation: Concertation = concertation_id;
    }
    order CharterOrder by CharterOrderField {
        /// Title.
        Title = title;
        /// When it was adopted.
        AdoptedOn = adopted_on;
    }
    groups CharterGroup by CharterGroupKey {
        /// The territory whose local charter it is.
        Territory = key!(record by name: charter.territory_id -> territory);
        /// The year it was adopted.
        Year = key!(year_of_date: charter.adopted_on);
    } numbers CharterNumbers {}
    fields {
        /// Title, in French.
        async fn title(&self) -> &str {
            &self.0.title
        }

        /// What the charter commits its signatories to.
        async fn description(&self) -> Option<&str> {
            self.0.description.as_deref()
        }

        /// When it was adopted.
        async fn adopted_on(&self) -> Option<Date> {
            self.0.adopted_on.map(Date)
        }

        /// Link to the text.
        async fn url(&self) -> Option<&str> {
            self.0.url.as_deref()
        }

        /// The programme whose common charter this is.
        async fn programme(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ConcertationProgramme>> {
            maybe_one(ctx, self.0.programme_id).await
        }

        /// The territory whose local charter this is.
        async fn territory(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Territory>> {
            maybe_one(ctx, self.0.territory_id).await
        }

        /// The concertation that produced it.
        async fn concertation(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Concertation>> {
            maybe_one(ctx, self.0.concertation_id).await
        }
    }
    relations {
        /// Who signed it.
        signatures: CharterSignature = column(charter_id);
    }
}

node! {
    /// A signature of a charter, by a territory or an organization.
    CharterSignature(charter_signature), provenance;
    root CharterSignatureRoot {
        /// All charter signatures.
        list: charter_signatures,
        /// One signature, by `id`; `null` if none matches.
        one: charter_signature(),
    }
    filter CharterSignatureFilter {
        /// Who signed, in person.
        signatory: string;
        /// When it was signed.
        signed_on: date;
    } parents {
        /// The charter matches.
        charter: Charter = charter_id;
        /// The signing territory matches.
        territory: Territory = territory_id;
        /// The signing organization matches.
        organization: Organization = organization_id;
    }
    order CharterSignatureOrder by CharterSignatureOrderField {
        /// When it was signed.
        SignedOn = signed_on;
    }
    groups CharterSignatureGroup by CharterSignatureGroupKey {
        /// The charter.
        Charter = key!(record by title: charter_signature.charter_id -> charter);
        /// The région of the signing territory.
        Region = key!(charter_signature.territory_id -> territory.region);
        /// The département of the signing territory, as a record.
        InDepartment = key!(record by name: charter_signature.territory_id -> territory.department_id -> territory);
        /// The région of the signing territory, as a record.
        InRegion = key!(record by name: charter_signature.territory_id -> territory.region_id -> territory);
        /// The year it was signed.
        Year = key!(year_of_date: charter_signature.signed_on);
    } numbers CharterSignatureNumbers {}
    fields {
        /// Who signed, in person (e.g. the elected official), if recorded.
        async fn signatory(&self) -> Option<&str> {
            self.0.signatory.as_deref()
        }

        /// When it was signed, if known.
        async fn signed_on(&self) -> Option<Date> {
            self.0.signed_on.map(Date)
        }

        /// The charter.
        async fn charter(&self, ctx: &Context<'_>) -> async_graphql::Result<Charter> {
            one(ctx, self.0.charter_id).await
        }

        /// The signing territory, if a territory signed.
        async fn territory(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Territory>> {
            maybe_one(ctx, self.0.territory_id).await
        }

        /// The signing organization, if an organization signed.
        async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
            maybe_one(ctx, self.0.organization_id).await
        }
    }
    relations {}
}
