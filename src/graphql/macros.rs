//! The declaration of a record type of the graph, in one place: its object
//! (fields written out, each with its doc), its relation lists (each a
//! batched, SQL-paginated connection) and its root fields.

/// `Some((a, b))` when given, `None` otherwise.
macro_rules! only {
    () => {
        None
    };
    ($column:literal = $value:literal) => {
        Some(($column, $value))
    };
}

/// The type of a look-up's `id` argument: required when it is the only key,
/// optional beside natural keys.
macro_rules! id_argument {
    () => {
        async_graphql::ID
    };
    ($($key:ident)+) => {
        Option<async_graphql::ID>
    };
}

/// Declares a record type of the graph.
///
/// ```text
/// node! {
///     /// What a territory is.
///     Territory(territory), provenance;
///     root TerritoryRoot {
///         /// Doc of the list.
///         list: territories,
///         /// Doc of the look-up.
///         one: territory(slug: "doc of slug", siren: "doc of siren"),
///     }
///     fields { /* #[Object] methods */ }
///     relations {
///         /// Doc of the relation.
///         deployments: Deployment = Via::Column("territory_id");
///     }
/// }
/// ```
///
/// The module named in parentheses is the entity module, named after its
/// table. `provenance` adds the `source` field.
macro_rules! node {
    (
        $(#[$meta:meta])*
        $name:ident($model:ident) $(, $provenance:ident)?;
        root $root:ident {
            $(#[$list_meta:meta])*
            list: $list:ident,
            $(#[$one_meta:meta])*
            one: $one:ident($($key:ident: $key_doc:literal),* $(,)?) $(,)?
        }
        fields { $($body:tt)* }
        relations {
            $(
                $(#[$rel_meta:meta])*
                $rel_field:ident: $rel_node:ident = $via:expr $(, only($only_column:literal = $only_value:literal))?;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        pub struct $name(pub entity::$model::Model);

        impl From<entity::$model::Model> for $name {
            fn from(model: entity::$model::Model) -> Self {
                $name(model)
            }
        }

        impl $crate::graphql::loader::Record for entity::$model::Model {
            fn id(&self) -> i64 {
                self.id
            }
        }

        impl $crate::graphql::node::NodeType for $name {
            const TYPE: &'static str = stringify!($name);
            const TABLE: &'static str = stringify!($model);
            type Entity = entity::$model::Entity;
        }

        $(#[$meta])*
        #[async_graphql::Object]
        impl $name {
            /// Global ID of this record, for `node(id:)` and this type's look-up.
            pub async fn id(&self) -> async_graphql::ID {
                $crate::graphql::id::encode(stringify!($name), self.0.id)
            }

            $($body)*

            $(
                $(#[$rel_meta])*
                #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
                async fn $rel_field(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                    #[graphql(desc = "Returns the first n items (default 20, at most 100).")]
                    first: Option<i32>,
                    #[graphql(desc = "Returns the items after this cursor.")]
                    after: Option<String>,
                    #[graphql(desc = "Returns the last n items (at most 100).")]
                    last: Option<i32>,
                    #[graphql(desc = "Returns the items before this cursor.")]
                    before: Option<String>,
                ) -> async_graphql::Result<$crate::graphql::connection::Connection<$rel_node>> {
                    static REL: $crate::graphql::loader::Rel<
                        <$rel_node as $crate::graphql::node::NodeType>::Entity,
                    > = $crate::graphql::loader::Rel::new($crate::graphql::loader::RelDef {
                        name: concat!(stringify!($name), ".", stringify!($rel_field)),
                        child: <$rel_node as $crate::graphql::node::NodeType>::TABLE,
                        via: $via,
                        only: only!($($only_column = $only_value)?),
                    });
                    let page = $crate::graphql::connection::PageArgs { first, after, last, before };
                    $crate::graphql::node::related(ctx, &REL, self.0.id, page).await
                }
            )*

            $(
                /// Where this record's facts come from.
                async fn source(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                ) -> async_graphql::Result<Option<$crate::graphql::source::Source>> {
                    let _ = stringify!($provenance);
                    $crate::graphql::node::maybe_one(ctx, self.0.source_id).await
                }
            )?

            /// When this record was created in the hub.
            async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
                self.0.created_at
            }

            /// When this record last changed in the hub.
            async fn updated_at(&self) -> chrono::DateTime<chrono::Utc> {
                self.0.updated_at
            }
        }

        /// Root fields of this type.
        #[derive(Default)]
        pub struct $root;

        #[async_graphql::Object]
        impl $root {
            $(#[$list_meta])*
            #[graphql(complexity = "crate::graphql::connection::cost(first, last, child_complexity)")]
            async fn $list(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "Returns the first n items (default 20, at most 100).")]
                first: Option<i32>,
                #[graphql(desc = "Returns the items after this cursor.")]
                after: Option<String>,
                #[graphql(desc = "Returns the last n items (at most 100).")]
                last: Option<i32>,
                #[graphql(desc = "Returns the items before this cursor.")]
                before: Option<String>,
            ) -> async_graphql::Result<$crate::graphql::connection::Connection<$name>> {
                let page = $crate::graphql::connection::PageArgs { first, after, last, before };
                $crate::graphql::node::root_list(ctx, page).await
            }

            $(#[$one_meta])*
            async fn $one(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "Global ID of the record.")]
                id: id_argument!($($key)*),
                $(
                    #[graphql(desc = $key_doc)]
                    $key: Option<String>,
                )*
            ) -> async_graphql::Result<Option<$name>> {
                $crate::graphql::node::lookup(ctx, id.into(), &[$((stringify!($key), $key)),*]).await
            }
        }
    };
}
