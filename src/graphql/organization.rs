//! Organizations: the vendors, integrators, labs, associations and State
//! bodies that build, supply, fund or audit the territories' AI systems.

use super::{CharterSignature, DeploymentOrganization, enums::OrganizationKind};

node! {
    /// A vendor, integrator, lab, association or State body.
    Organization(organization), provenance;
    root OrganizationRoot {
        /// All organizations, in the order they were recorded.
        list: organizations,
        /// One organization, by exactly one of `id`, `slug` or `siren`;
        /// `null` if none matches.
        one: organization(
            slug: "URL-friendly name, e.g. `interconnectes`.",
            siren: "The organization's 9-digit SIREN number.",
        ),
    }
    filter OrganizationFilter {
        /// Name.
        name: text;
        /// URL-friendly name.
        slug: string;
        /// What kind of body it is.
        kind: OrganizationKind;
        /// SIREN number.
        siren: string;
        /// What the organization does.
        description: text;
    } parents {}
    order OrganizationOrder by OrganizationOrderField {
        /// Name.
        Name = name;
        /// URL-friendly name.
        Slug = slug;
        /// Kind of body.
        Kind = kind;
    }
    groups OrganizationGroup by OrganizationGroupKey {
        /// Kind of body.
        Kind = key!(OrganizationKind: organization.kind);
    } numbers OrganizationNumbers {}
    fields {
        /// Name of the organization.
        async fn name(&self) -> &str {
            &self.0.name
        }

        /// URL-friendly name, unique in the hub.
        async fn slug(&self) -> &str {
            &self.0.slug
        }

        /// What kind of body it is.
        async fn kind(&self) -> OrganizationKind {
            self.0.kind.into()
        }

        /// SIREN number (9 digits), if known.
        async fn siren(&self) -> Option<&str> {
            self.0.siren.as_deref()
        }

        /// Website.
        async fn website(&self) -> Option<&str> {
            self.0.website.as_deref()
        }

        /// What the organization does.
        async fn description(&self) -> Option<&str> {
            self.0.description.as_deref()
        }
    }
    relations {
        /// The deployments this organization takes part in, with its role.
        deployments: DeploymentOrganization = column(organization_id);
        /// Charters this organization signed.
        charter_signatures: CharterSignature = column(organization_id);
    }
}
