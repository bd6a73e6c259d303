//! Resources (guides, sheets, reports, templates) and events: what the
//! network and its territories publish and hold to help others.

use async_graphql::Context;

use super::{
    Concertation, Territory, engine::node::maybe_one, engine::scalars::Date, enums::ResourceKind,
};

node! {
    /// A guide, sheet, report or template.
    Resource(resource), provenance;
    root ResourceRoot {
        /// All resources.
        list: resources,
        /// One resource, by `id`; `null` if none matches.
        one: resource(),
    }
    filter ResourceFilter {
        /// Title.
        title: text;
        /// Where to read it.
        url: string;
        /// What it is.
        kind: ResourceKind;
        /// What it contains.
        description: text;
    } parents {
        /// The territory that published it matches.
        territory: Territory = territory_id;
        /// The concertation it comes from matches.
        concertation: Concertation = concertation_id;
    }
    order ResourceOrder by ResourceOrderField {
        /// Title.
        Title = title;
        /// Kind (alphabetically by value).
        Kind = kind;
    }
    groups ResourceGroup by ResourceGroupKey {
        /// What it is.
        Kind = key!(ResourceKind: resource.kind);
        /// The territory that published it.
        Territory = key!(record by name: resource.territory_id -> territory);
    } numbers ResourceNumbers {}
    fields {
        /// Title, in French.
        async fn title(&self) -> &str {
            &self.0.title
        }

        /// Where to read it.
        async fn url(&self) -> Option<&str> {
            self.0.url.as_deref()
        }

        /// What it is.
        async fn kind(&self) -> ResourceKind {
            self.0.kind.into()
        }

        /// What it contains.
        async fn description(&self) -> Option<&str> {
            self.0.description.as_deref()
        }

        /// The territory that published it, if one did.
        async fn territory(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Territory>> {
            maybe_one(ctx, self.0.territory_id).await
        }

        /// The concertation it comes from, if any.
        async fn concertation(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Concertation>> {
            maybe_one(ctx, self.0.concertation_id).await
        }
    }
    relations {}
}

node! {
    /// An event of the network (it holds 5 to 7 a year).
    Event(event), provenance;
    root EventRoot {
        /// All events.
        list: events,
        /// One event, by `id`; `null` if none matches.
        one: event(),
    }
    filter EventFilter {
        /// Title.
        title: text;
        /// First day.
        starts_on: date;
        /// Last day.
        ends_on: date;
        /// Where it is held.
        location: text;
    } parents {
        /// The hosting territory matches.
        territory: Territory = territory_id;
    }
    order EventOrder by EventOrderField {
        /// First day.
        StartsOn = starts_on;
        /// Title.
        Title = title;
    }
    groups EventGroup by EventGroupKey {
        /// The hosting territory.
        Territory = key!(record by name: event.territory_id -> territory);
        /// The région of the hosting territory.
        Region = key!(event.territory_id -> territory.region);
        /// The département of the hosting territory, as a record.
        InDepartment = key!(record by name: event.territory_id -> territory.department_id -> territory);
        /// The région of the hosting territory, as a record.
        InRegion = key!(record by name: event.territory_id -> territory.region_id -> territory);
        /// The year it starts.
        Year = key!(year_of_date: event.starts_on);
    } numbers EventNumbers {}
    fields {
        /// Title, in French.
        async fn title(&self) -> &str {
            &self.0.title
        }

        /// What happens there.
        async fn description(&self) -> Option<&str> {
            self.0.description.as_deref()
        }

        /// First day.
        async fn starts_on(&self) -> Date {
            Date(self.0.starts_on)
        }

        /// Last day, if it lasts more than one.
        async fn ends_on(&self) -> Option<Date> {
            self.0.ends_on.map(Date)
        }

        /// Where it is held.
        async fn location(&self) -> Option<&str> {
            self.0.location.as_deref()
        }

        /// Its page.
        async fn url(&self) -> Option<&str> {
            self.0.url.as_deref()
        }

        /// The territory hosting it, if any.
        async fn territory(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Territory>> {
            maybe_one(ctx, self.0.territory_id).await
        }
    }
    relations {}
}
