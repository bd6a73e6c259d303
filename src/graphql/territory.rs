//! Territories: the collectivités and public bodies of the network — a
//! commune, an intercommunalité (EPCI), a métropole, a département, a région,
//! or a university — that document their AI uses and lead concertations.
//! With the official geography loaded, every commune, EPCI, EPT,
//! département and région is one, linked to its département and région
//! and to the groupings it is a member of.

use async_graphql::Context;

use super::{
    Charter, CharterSignature, Concertation, Contribution, Deployment, Event,
    ProgrammeParticipation, Resource,
    engine::node::{all_related, maybe_one},
    engine::relation::{Rel, RelDef},
    enums::TerritoryKind,
};

/// An official identifier of a public body in one scheme.
#[derive(async_graphql::SimpleObject)]
pub struct Identifier {
    /// The scheme: `SIREN`, `INSEE` (France), `NL-CBS` (the Netherlands'
    /// municipality, province and water board codes), `GOV.UK` (a GOV.UK
    /// organisation slug)…
    pub scheme: String,
    /// The identifier in that scheme.
    pub value: String,
}

static IDENTIFIERS: Rel<entity::territory_identifier::Entity> = Rel::new(RelDef {
    name: "Territory.identifiers",
    child: "territory_identifier",
    via: via!(entity::territory_identifier::Entity; column(territory_id)),
    only: None,
});

node! {
    /// A collectivité or public body: a commune, an intercommunalité, a
    /// métropole, a département, a région, a university…
    Territory(territory), provenance;
    root TerritoryRoot {
        /// All territories, in the order they were recorded.
        list: territories,
        /// One territory, by exactly one of `id`, `slug`, `siren` or
        /// `inseeCode`; `null` if none matches. A région and a département
        /// may share an INSEE code (`44`): such a code is an error naming
        /// the filter that lists both.
        one: territory(
            slug: "URL-friendly name, e.g. `nantes-metropole`.",
            siren: "The territory's 9-digit SIREN number.",
            insee_code: "Its code in INSEE's Code officiel géographique (`44109` for the commune of Nantes).",
        ),
    }
    filter TerritoryFilter {
        /// Name.
        name: text;
        /// Name in the official geography.
        official_name: text;
        /// URL-friendly name.
        slug: string;
        /// Legal form.
        kind: TerritoryKind;
        /// Country (ISO 3166-1 alpha-2).
        country: string;
        /// SIREN number.
        siren: string;
        /// INSEE code.
        insee_code: string;
        /// Région.
        region: text;
        /// Code of the département.
        department: string;
        /// Population.
        population: int;
    } parents {
        /// The territory it belongs to (a municipal arrondissement's
        /// commune) matches.
        parent: Territory = parent_id;
        /// Its département matches.
        in_department: Territory = department_id;
        /// Its région matches.
        in_region: Territory = region_id;
    }
    order TerritoryOrder by TerritoryOrderField {
        /// Name.
        Name = name;
        /// URL-friendly name.
        Slug = slug;
        /// Legal form.
        Kind = kind;
        /// Région.
        Region = region;
        /// Code of the département.
        Department = department;
        /// Population.
        Population = population;
    }
    groups TerritoryGroup by TerritoryGroupKey {
        /// Legal form.
        Kind = key!(TerritoryKind: territory.kind);
        /// Country (ISO 3166-1 alpha-2).
        Country = key!(territory.country);
        /// Région.
        Region = key!(territory.region);
        /// Code of the département.
        Department = key!(territory.department);
        /// The territory it belongs to.
        Parent = key!(record by name: territory.parent_id -> territory);
        /// Its département, as a record.
        InDepartment = key!(record by name: territory.department_id -> territory);
        /// Its région, as a record.
        InRegion = key!(record by name: territory.region_id -> territory);
    } numbers TerritoryNumbers {
        /// Population.
        population;
    }
    fields {
        /// Name of the territory, as it calls itself.
        async fn name(&self) -> &str {
            &self.0.name
        }

        /// Its name in the official geography (INSEE's Code officiel
        /// géographique), when it is one of its territories; it may differ
        /// from `name`, the network's own wording.
        async fn official_name(&self) -> Option<&str> {
            self.0.official_name.as_deref()
        }

        /// Its country, ISO 3166-1 alpha-2 (`FR`, `NL`, `GB`).
        async fn country(&self) -> &str {
            &self.0.country
        }

        /// Its official identifiers: its SIREN and INSEE code when it has
        /// them, and those of other schemes (`NL-CBS` `GM0363`, `GOV.UK`
        /// `hm-revenue-customs`…), by scheme then value.
        async fn identifiers(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Identifier>> {
            let mut identifiers: Vec<Identifier> = [("SIREN", &self.0.siren), ("INSEE", &self.0.insee_code)]
                .into_iter()
                .filter_map(|(scheme, value)| value.clone().map(|value| Identifier { scheme: scheme.to_owned(), value }))
                .collect();
            identifiers.extend(
                all_related(ctx, &IDENTIFIERS, self.0.id)
                    .await?
                    .into_iter()
                    .map(|row| Identifier { scheme: row.scheme, value: row.value }),
            );
            identifiers.sort_by(|a, b| (&a.scheme, &a.value).cmp(&(&b.scheme, &b.value)));
            Ok(identifiers)
        }

        /// Its name word for word as the territory's source document writes
        /// it (e.g. « l’agglomération du Sicoval »), when a document names
        /// it; `name` is the same name, cleaned.
        async fn name_in_source(&self) -> Option<&str> {
            self.0.name_in_source.as_deref()
        }

        /// URL-friendly name, unique in the hub (e.g. `nantes-metropole`).
        async fn slug(&self) -> &str {
            &self.0.slug
        }

        /// Legal form.
        async fn kind(&self) -> TerritoryKind {
            self.0.kind.into()
        }

        /// SIREN number (9 digits) in the French business register, if known.
        async fn siren(&self) -> Option<&str> {
            self.0.siren.as_deref()
        }

        /// Code in INSEE's Code officiel géographique (of a commune, a
        /// municipal arrondissement, a département or a région), if known.
        async fn insee_code(&self) -> Option<&str> {
            self.0.insee_code.as_deref()
        }

        /// Région the territory lies in.
        async fn region(&self) -> Option<&str> {
            self.0.region.as_deref()
        }

        /// Code of the département the territory lies in (e.g. `44`, `2A`);
        /// `null` for a région or a body spanning several.
        async fn department(&self) -> Option<&str> {
            self.0.department.as_deref()
        }

        /// Population, if known.
        async fn population(&self) -> Option<i64> {
            self.0.population
        }

        /// Website.
        async fn website(&self) -> Option<&str> {
            self.0.website.as_deref()
        }

        /// Remarks on how the territory is recorded (e.g. two bodies acting
        /// together).
        async fn notes(&self) -> Option<&str> {
            self.0.notes.as_deref()
        }

        /// The territory this one belongs to (a municipal arrondissement's
        /// commune), if any.
        async fn parent(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Territory>> {
            maybe_one(ctx, self.0.parent_id).await
        }

        /// The département it lies in, as a record (a département's is
        /// itself); `null` when unknown, or for a body spanning several.
        async fn in_department(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Territory>> {
            maybe_one(ctx, self.0.department_id).await
        }

        /// The région it lies in, as a record (a région's is itself); `null`
        /// when unknown, or for a body spanning several.
        async fn in_region(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Territory>> {
            maybe_one(ctx, self.0.region_id).await
        }
    }
    relations {
        /// Territories that belong to this one (the municipal
        /// arrondissements of Paris, Lyon and Marseille).
        children: Territory = column(parent_id);
        /// The groupings it is a member of: a commune's EPCI, and its EPT in
        /// the Métropole du Grand Paris.
        groupings: Territory = link(territory_membership: grouping_id, member_id);
        /// The member communes of a grouping (an EPCI, an EPT).
        members: Territory = link(territory_membership: member_id, grouping_id);
        /// The départements of a région.
        departments: Territory = column(region_id), only(kind = TerritoryKind::Department);
        /// The communes of a département.
        communes: Territory = column(department_id), only(kind = TerritoryKind::Municipality);
        /// AI uses of this territory: its entries of the library of
        /// territorialised AI.
        deployments: Deployment = column(territory_id);
        /// Citizen concertations this territory leads.
        concertations: Concertation = column(territory_id);
        /// Concertations led by another territory that this one co-organises.
        co_organized_concertations: Concertation = link(concertation_co_organizer: concertation_id, territory_id);
        /// Everything the concertations this territory leads raised.
        contributions: Contribution = through(concertation: concertation_id, territory_id);
        /// The citizen concerns raised in the concertations this territory
        /// leads.
        concerns: Contribution = through(concertation: concertation_id, territory_id), only(kind = ContributionKind::Concern);
        /// How this territory takes part in concertation programmes.
        participations: ProgrammeParticipation = column(territory_id);
        /// Local charters this territory adopted.
        charters: Charter = column(territory_id);
        /// Charters this territory signed.
        charter_signatures: CharterSignature = column(territory_id);
        /// Resources this territory published.
        resources: Resource = column(territory_id);
        /// Events held in this territory.
        events: Event = column(territory_id);
    }
}
