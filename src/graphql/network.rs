//! The network itself: Interconnectés, 300 people and 50 collectivités, whose
//! Commission Numérique works on three axes — AI serving public policies
//! (the library of territorialised AI), AI, ethics and democracy (the
//! concertations), and AI and the transformation of public-service jobs
//! (a dedicated study).

use async_graphql::Context;

use super::{ConcertationProgramme, Study, engine::node::one};

node! {
    /// A network of collectivités working together on digital matters.
    Network(network), provenance;
    root NetworkRoot {
        /// All networks recorded (the hub's own first).
        list: networks,
        /// One network, by `id`; `null` if none matches.
        one: network(),
    }
    filter NetworkFilter {
        /// Name.
        name: text;
    } parents {}
    order NetworkOrder by NetworkOrderField {
        /// Name.
        Name = name;
    }
    groups NetworkGroup by NetworkGroupKey {} numbers NetworkNumbers {
        /// Number of people in the network.
        members_people;
        /// Number of member collectivités.
        member_collectivities;
    }
    fields {
        /// Name of the network.
        async fn name(&self) -> &str {
            &self.0.name
        }

        /// The body of the network that does this work (e.g. its commission).
        async fn body(&self) -> Option<&str> {
            self.0.body.as_deref()
        }

        /// Website.
        async fn website(&self) -> Option<&str> {
            self.0.website.as_deref()
        }

        /// Contact address of the network itself. Vigie keeps no person's
        /// address: the document gives none other, so this is `null`.
        #[graphql(deprecation = "Vigie keeps no person's address; always null for the network of the reference data.")]
        async fn contact_email(&self) -> Option<&str> {
            self.0.contact_email.as_deref()
        }

        /// Number of people in the network.
        async fn members_people(&self) -> Option<i32> {
            self.0.members_people
        }

        /// Number of member collectivités.
        async fn member_collectivities(&self) -> Option<i32> {
            self.0.member_collectivities
        }

        /// Fewest events the network holds in a year.
        async fn events_per_year_min(&self) -> Option<i32> {
            self.0.events_per_year_min
        }

        /// Most events the network holds in a year.
        async fn events_per_year_max(&self) -> Option<i32> {
            self.0.events_per_year_max
        }

        /// Lower bound of the number of participants in its work.
        async fn participants_at_least(&self) -> Option<i32> {
            self.0.participants_at_least
        }
    }
    relations {
        /// The network's work axes, in order.
        axes: Axis = column(network_id);
    }
}

node! {
    /// One of a network's work axes.
    Axis(axis), provenance;
    root AxisRoot {
        /// All work axes.
        list: axes,
        /// One work axis, by `id`; `null` if none matches.
        one: axis(),
    }
    filter AxisFilter {
        /// Number in the network's list.
        number: int;
        /// Title.
        title: text;
    } parents {
        /// The network matches.
        network: Network = network_id;
    }
    order AxisOrder by AxisOrderField {
        /// Number in the network's list.
        Number = number;
        /// Title.
        Title = title;
    }
    groups AxisGroup by AxisGroupKey {
        /// The network.
        Network = key!(record by name: axis.network_id -> network);
    } numbers AxisNumbers {}
    fields {
        /// Number of the axis in the network's list (1 first).
        async fn number(&self) -> i32 {
            self.0.number
        }

        /// Title, in French.
        async fn title(&self) -> &str {
            &self.0.title
        }

        /// What the axis covers.
        async fn description(&self) -> Option<&str> {
            self.0.description.as_deref()
        }

        /// The network.
        async fn network(&self, ctx: &Context<'_>) -> async_graphql::Result<Network> {
            one(ctx, self.0.network_id).await
        }
    }
    relations {
        /// Concertation programmes run under this axis.
        programmes: ConcertationProgramme = column(axis_id);
        /// Studies run under this axis.
        studies: Study = column(axis_id);
    }
}
