//! The declaration of a record type of the graph, in one place: its object
//! (fields written out, each with its doc), its relation lists (each a
//! batched, SQL-paginated connection), its filter and ordering inputs, and
//! its root fields.

/// The condition a relation puts on its child rows, if any:
/// `only(kind = ContributionKind::Concern)`, the rows whose enum column
/// holds that value. The column is checked against the child's model, and
/// the value against the column's type.
macro_rules! only {
    ($child:ty;) => {
        None
    };
    ($child:ty; $column:ident = $vocabulary:ident :: $value:ident) => {{
        const _: fn(&<$child as sea_orm::EntityTrait>::Model) = |row| {
            entity::records::holds::<entity::enums::$vocabulary, _>(&row.$column);
        };
        Some((
            stringify!($column),
            entity::enums::$vocabulary::$value.as_str(),
        ))
    }};
}

/// How a relation's rows hang from their parent, named with columns that
/// must exist: each is checked against its entity's model, so a misspelt
/// column does not compile. `column(c)`: the child row's column `c` holds
/// the parent's id; `link(t: c, p)`: link table `t` holds (child id `c`,
/// parent id `p`) pairs; `through(t: f, p)`: the child's column `f` names
/// a row of `t`, whose column `p` holds the parent's id. `$child` is the
/// child's entity.
macro_rules! via {
    ($child:ty; column($column:ident)) => {{
        const _: fn(&<$child as sea_orm::EntityTrait>::Model) = |row| {
            let _ = &row.$column;
        };
        $crate::graphql::engine::relation::Via::Column(stringify!($column))
    }};
    ($child:ty; link($table:ident: $to_child:ident, $to_parent:ident)) => {{
        const _: fn(&entity::$table::Model) = |row| {
            let _ = (&row.$to_child, &row.$to_parent);
        };
        $crate::graphql::engine::relation::Via::Link {
            table: stringify!($table),
            child: stringify!($to_child),
            parent: stringify!($to_parent),
        }
    }};
    ($child:ty; through($table:ident: $fk:ident, $parent:ident)) => {{
        const _: fn(&<$child as sea_orm::EntityTrait>::Model) = |row| {
            let _ = &row.$fk;
        };
        const _: fn(&entity::$table::Model) = |row| {
            let _ = &row.$parent;
        };
        $crate::graphql::engine::relation::Via::Through {
            table: stringify!($table),
            fk: stringify!($fk),
            parent: stringify!($parent),
        }
    }};
}

/// A key a type's records can be grouped by, named with columns that must
/// exist (each is checked against its entity's model):
/// - `key!(deployment.status)`: a column's value;
/// - `key!(DeploymentStatus: deployment.status)`: an enum column's value,
///   labelled;
/// - `key!(deployment.territory_id -> territory.region)`: a column of the
///   record a chain of foreign keys leads to (`->` may repeat);
/// - `key!(record by name: deployment.territory_id -> territory)`: that
///   record itself, labelled by one of its columns;
/// - `key!(year_of_month: deployment.start_month)`, `key!(year_of_date:
///   event.starts_on)`: the year of a month or date column.
macro_rules! key {
    (record by $label:ident: $($path:tt)+) => {
        key!(@record $label [] $($path)+)
    };
    (year_of_month: $table:ident . $column:ident) => {
        $crate::graphql::engine::aggregate::GroupKey::year_of_month(key!(@column $table . $column))
    };
    (year_of_date: $table:ident . $column:ident) => {
        $crate::graphql::engine::aggregate::GroupKey::year_of_date(key!(@column $table . $column))
    };
    (@column $table:ident . $column:ident) => {{
        const _: fn(&entity::$table::Model) = |row| {
            let _ = &row.$column;
        };
        stringify!($column)
    }};
    (@hop $table:ident . $fk:ident -> $to:ident) => {
        const _: fn(&entity::$table::Model, &entity::$to::Model) = |row, _| {
            let _ = &row.$fk;
        };
    };
    (@record $label:ident [$($hops:tt)*] $table:ident . $fk:ident -> $to:ident) => {{
        key!(@hop $table . $fk -> $to);
        $crate::graphql::engine::aggregate::GroupKey::record(
            &[$($hops)* (stringify!($fk), stringify!($to))],
            <entity::$to::Entity as entity::records::Declared>::TYPE,
            key!(@column $to . $label),
        )
    }};
    (@record $label:ident [$($hops:tt)*] $table:ident . $fk:ident -> $to:ident . $($rest:tt)+) => {{
        key!(@hop $table . $fk -> $to);
        key!(@record $label [$($hops)* (stringify!($fk), stringify!($to)),] $to . $($rest)+)
    }};
    (@value [$($hops:tt)*] $table:ident . $column:ident) => {
        $crate::graphql::engine::aggregate::GroupKey::value(key!(@column $table . $column))
            .at(&[$($hops)*])
    };
    (@value [$($hops:tt)*] $table:ident . $fk:ident -> $to:ident . $($rest:tt)+) => {{
        key!(@hop $table . $fk -> $to);
        key!(@value [$($hops)* (stringify!($fk), stringify!($to)),] $to . $($rest)+)
    }};
    ($vocabulary:ident : $($path:tt)+) => {
        key!(@value [] $($path)+).labelled_by(entity::enums::$vocabulary::label_of)
    };
    ($($path:tt)+) => {
        key!(@value [] $($path)+)
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

/// The filter input of a field, by kind: `text` (matched ignoring case and
/// accents), `string` (exact codes), `int`, `float`, `bool`, `date`, or the
/// name of an enum.
macro_rules! field_filter {
    (text) => {
        $crate::graphql::engine::filter::TextFilter
    };
    (string) => {
        $crate::graphql::engine::filter::StringFilter
    };
    (int) => {
        $crate::graphql::engine::filter::IntFilter
    };
    (float) => {
        $crate::graphql::engine::filter::FloatFilter
    };
    (bool) => {
        $crate::graphql::engine::filter::BooleanFilter
    };
    (date) => {
        $crate::graphql::engine::filter::DateFilter
    };
    ($enum:ident) => {
        $crate::graphql::inputs::EnumFilter<$enum>
    };
}

/// Declares the group object of a record type: keys and count, and, for a
/// type with numbers, their sum, average, minimum and maximum.
macro_rules! group_object {
    ($name:ident, $group:ident, $numbers:ident, []) => {
        #[doc = concat!("A group of ", stringify!($name), " records.")]
        #[derive(async_graphql::SimpleObject, Debug)]
        pub struct $group {
            /// The values of the keys the records were grouped by.
            pub keys: Vec<$crate::graphql::engine::aggregate::GroupKeyValue>,
            /// Number of records in the group.
            pub count: i64,
        }

        impl From<$crate::graphql::engine::aggregate::GroupRow> for $group {
            fn from(row: $crate::graphql::engine::aggregate::GroupRow) -> Self {
                $group {
                    keys: row.keys,
                    count: row.count,
                }
            }
        }
    };
    ($name:ident, $group:ident, $numbers:ident, [$($(#[$meta:meta])* $number:ident;)+]) => {
        #[doc = concat!("Numbers of ", stringify!($name), " records, each aggregated over a group.")]
        #[derive(async_graphql::SimpleObject, Debug, Default)]
        pub struct $numbers {
            $(
                $(#[$meta])*
                pub $number: Option<f64>,
            )+
        }

        impl $numbers {
            fn from_stats(values: &[Option<f64>]) -> Self {
                let mut values = values.iter().copied();
                $numbers {
                    $($number: values.next().flatten(),)+
                }
            }
        }

        #[doc = concat!("A group of ", stringify!($name), " records.")]
        #[derive(async_graphql::SimpleObject, Debug)]
        pub struct $group {
            /// The values of the keys the records were grouped by.
            pub keys: Vec<$crate::graphql::engine::aggregate::GroupKeyValue>,
            /// Number of records in the group.
            pub count: i64,
            /// Sum of each number over the group (empty values left out).
            pub sum: $numbers,
            /// Average of each number over the group (empty values left out).
            pub avg: $numbers,
            /// Smallest value of each number in the group.
            pub min: $numbers,
            /// Largest value of each number in the group.
            pub max: $numbers,
        }

        impl From<$crate::graphql::engine::aggregate::GroupRow> for $group {
            fn from(row: $crate::graphql::engine::aggregate::GroupRow) -> Self {
                $group {
                    keys: row.keys,
                    count: row.count,
                    sum: $numbers::from_stats(&row.stats.sum),
                    avg: $numbers::from_stats(&row.stats.avg),
                    min: $numbers::from_stats(&row.stats.min),
                    max: $numbers::from_stats(&row.stats.max),
                }
            }
        }
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
///     filter TerritoryFilter {
///         /// Doc of the field (its filter kind follows).
///         name: text;
///         kind: TerritoryKind;
///     } parents {
///         /// Doc of a to-one relation, filtered by its own filter.
///         parent: Territory = "parent_id";
///     }
///     order TerritoryOrder by TerritoryOrderField {
///         /// Doc of the sort key.
///         Name = name;
///     }
///     groups TerritoryGroup by TerritoryGroupKey {
///         /// Doc of the group key.
///         Kind = GroupKey::labelled("kind", TerritoryKind::label_of);
///     } numbers TerritoryNumbers {
///         /// Doc of a number groups aggregate.
///         population;
///     }
///     fields { /* #[Object] methods */ }
///     relations {
///         /// Doc of the relation.
///         deployments: Deployment = column(territory_id);
///     }
/// }
/// ```
///
/// The module named in parentheses is the entity module, named after its
/// table. `provenance` adds the `source` field. Every relation is a
/// connection field, a condition of the filter (`some`/`none`/`every`), and
/// an associated constant of the filter type, which describes it.
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
        filter $filter:ident {
            $(
                $(#[$field_meta:meta])*
                $field:ident: $kind:ident;
            )*
        } parents {
            $(
                $(#[$parent_meta:meta])*
                $parent:ident: $parent_node:ident = $fk:ident;
            )*
        }
        order $order:ident by $order_field:ident {
            $(
                $(#[$key_meta:meta])*
                $variant:ident = $column:ident;
            )*
        }
        groups $group:ident by $group_key:ident {
            $(
                $(#[$group_meta:meta])*
                $group_variant:ident = $group_spec:expr;
            )*
        } numbers $numbers:ident {
            $(
                $(#[$number_meta:meta])*
                $number:ident;
            )*
        }
        fields { $($body:tt)* }
        relations {
            $(
                $(#[$rel_meta:meta])*
                $rel_field:ident: $rel_node:ident = $via_kind:ident $via_args:tt $(, only($only_column:ident = $only_vocabulary:ident :: $only_value:ident))?;
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

        impl $crate::graphql::engine::relation::Record for entity::$model::Model {
            fn id(&self) -> i64 {
                self.id
            }
        }

        const _: () = assert!(
            $crate::graphql::engine::record::same_name(
                stringify!($name),
                <entity::$model::Entity as entity::records::Declared>::TYPE,
            ),
            concat!(stringify!($name), " is not the name its entity declares"),
        );

        // The columns look-ups, filters, orders and numbers name are the
        // entity's.
        const _: fn(&entity::$model::Model) = |row| {
            $(let _ = &row.$key;)*
            $(let _ = &row.$field;)*
            $(let _ = &row.$column;)*
            $(let _ = &row.$number;)*
        };

        impl $crate::graphql::engine::record::NodeType for $name {
            type Entity = entity::$model::Entity;
            type Filter = $filter;
            type Order = $order;
            type GroupKey = $group_key;
            type Group = $group;
            const NUMBERS: &'static [&'static str] = &[$(stringify!($number)),*];
        }

        #[doc = concat!("What ", stringify!($name), " lists can be grouped by.")]
        #[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
        pub enum $group_key {
            $(
                $(#[$group_meta])*
                $group_variant,
            )*
            /// The year the record was created in the hub.
            CreatedYear,
        }

        impl $crate::graphql::engine::aggregate::GroupKeyInput for $group_key {
            fn name(&self) -> &'static str {
                <Self as async_graphql::EnumType>::items()
                    .iter()
                    .find(|item| item.value == *self)
                    .map(|item| item.name)
                    .expect("every value is an item")
            }

            fn spec(&self) -> $crate::graphql::engine::aggregate::GroupKey {
                match self {
                    $(Self::$group_variant => $group_spec,)*
                    Self::CreatedYear => key!(year_of_date: $model.created_at),
                }
            }
        }

        group_object!($name, $group, $numbers, [$($(#[$number_meta])* $number;)*]);

        /// The relations of this type, as the loader and filters read them.
        #[allow(non_upper_case_globals)]
        impl $filter {
            $(
                pub const $rel_field: $crate::graphql::engine::relation::Rel<
                    <$rel_node as $crate::graphql::engine::record::NodeType>::Entity,
                > = $crate::graphql::engine::relation::Rel::new($crate::graphql::engine::relation::RelDef {
                    name: concat!(stringify!($name), ".", stringify!($rel_field)),
                    child: <$rel_node as $crate::graphql::engine::record::NodeType>::TABLE,
                    via: via!(
                        <$rel_node as $crate::graphql::engine::record::NodeType>::Entity;
                        $via_kind $via_args
                    ),
                    only: only!(
                        <$rel_node as $crate::graphql::engine::record::NodeType>::Entity;
                        $($only_column = $only_vocabulary::$only_value)?
                    ),
                });
            )*
        }

        $(#[$meta])*
        #[async_graphql::Object]
        impl $name {
            /// Global ID of this record, for `node(id:)` and this type's look-up.
            pub async fn id(&self) -> async_graphql::ID {
                $crate::graphql::engine::id::encode(stringify!($name), self.0.id)
            }

            $($body)*

            $(
                $(#[$rel_meta])*
                #[graphql(complexity = "crate::graphql::engine::paging::cost(first, last, child_complexity) + crate::graphql::engine::paging::filter_cost(&filter)")]
                #[allow(clippy::too_many_arguments)]
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
                    #[graphql(desc = "Only the items that match.")]
                    filter: Option<<$rel_node as $crate::graphql::engine::record::NodeType>::Filter>,
                    #[graphql(desc = "Sort keys, first the most significant (at most 5); ties are broken by ID.")]
                    order_by: Option<Vec<<$rel_node as $crate::graphql::engine::record::NodeType>::Order>>,
                    #[graphql(desc = "Also list archived records (default: false).")]
                    include_archived: Option<bool>,
                ) -> async_graphql::Result<$crate::graphql::engine::connection::Connection<$rel_node>> {
                    let page = $crate::graphql::engine::paging::PageArgs { first, after, last, before };
                    $crate::graphql::engine::node::related(
                        ctx,
                        &$filter::$rel_field,
                        self.0.id,
                        page,
                        filter,
                        order_by,
                        include_archived,
                    )
                    .await
                }
            )*

            $(
                /// Where this record's facts come from.
                async fn source(
                    &self,
                    ctx: &async_graphql::Context<'_>,
                ) -> async_graphql::Result<Option<$crate::graphql::source::Source>> {
                    let _ = stringify!($provenance);
                    $crate::graphql::engine::node::maybe_one(ctx, self.0.source_id).await
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

            /// The record's version: 1 when created, one more at each write.
            /// Updates and archiving send it back as `expectedVersion`.
            async fn version(&self) -> i32 {
                self.0.version
            }

            /// When the record was archived; archived records are left out
            /// of lists unless `includeArchived: true`.
            async fn archived_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
                self.0.archived_at
            }

            /// Every write to this record, newest first.
            #[graphql(complexity = "crate::graphql::engine::paging::cost(first, None, child_complexity)")]
            async fn history(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "Returns the first n events (default 20, at most 100).")]
                first: Option<i32>,
                #[graphql(desc = "Returns the events after this cursor.")]
                after: Option<String>,
            ) -> async_graphql::Result<$crate::graphql::audit::AuditConnection> {
                $crate::graphql::audit::history(ctx, stringify!($name), self.0.id, first, after).await
            }
        }

        #[doc = concat!("Conditions on ", stringify!($name), " records; all given conditions must hold.")]
        #[derive(async_graphql::InputObject, Default, Debug)]
        pub struct $filter {
            /// The record's global ID.
            pub id: Option<$crate::graphql::engine::filter::IdFilter>,
            $(
                $(#[$field_meta])*
                pub $field: Option<field_filter!($kind)>,
            )*
            $(
                $(#[$parent_meta])*
                pub $parent: Option<Box<<$parent_node as $crate::graphql::engine::record::NodeType>::Filter>>,
            )*
            $(
                $(#[$rel_meta])*
                pub $rel_field: Option<$crate::graphql::inputs::ListFilter<
                    <$rel_node as $crate::graphql::engine::record::NodeType>::Filter,
                >>,
            )*
            /// When the record was created in the hub.
            pub created_at: Option<$crate::graphql::engine::filter::DateTimeFilter>,
            /// When the record last changed in the hub.
            pub updated_at: Option<$crate::graphql::engine::filter::DateTimeFilter>,
            /// All of these filters match.
            pub and: Option<Vec<$filter>>,
            /// At least one of these filters matches.
            pub or: Option<Vec<$filter>>,
            /// This filter does not match (a comparison with an empty field
            /// counts as not matching).
            pub not: Option<Box<$filter>>,
        }

        impl $crate::graphql::engine::filter::Filter for $filter {
            fn to_pred(&self) -> $crate::error::AppResult<$crate::graphql::engine::filter::Pred> {
                use $crate::graphql::engine::filter::{Column, FieldFilter, Filter, Pred};
                let mut preds = Vec::new();
                if let Some(id) = &self.id {
                    id.preds(stringify!($name), &mut preds)?;
                }
                $(
                    if let Some(field) = &self.$field {
                        let column = Column {
                            name: stringify!($field),
                            folded: concat!(stringify!($field), "_folded"),
                        };
                        field.preds(column, &mut preds)?;
                    }
                )*
                $(
                    if let Some(parent) = &self.$parent {
                        const _: fn(&entity::$model::Model) = |row| {
                            let _ = &row.$fk;
                        };
                        preds.push(Pred::Parent {
                            fk: stringify!($fk),
                            table: <$parent_node as $crate::graphql::engine::record::NodeType>::TABLE,
                            pred: Box::new(parent.to_pred()?),
                        });
                    }
                )*
                $(
                    if let Some(related) = &self.$rel_field {
                        related.preds(&$filter::$rel_field.def, &mut preds)?;
                    }
                )*
                for (field, name) in [(&self.created_at, "created_at"), (&self.updated_at, "updated_at")] {
                    if let Some(field) = field {
                        field.preds(Column { name, folded: name }, &mut preds)?;
                    }
                }
                if let Some(all) = &self.and {
                    let all = all.iter().map(Filter::to_pred).collect::<$crate::error::AppResult<Vec<_>>>()?;
                    preds.push(Pred::All(all));
                }
                if let Some(any) = &self.or {
                    let any = any.iter().map(Filter::to_pred).collect::<$crate::error::AppResult<Vec<_>>>()?;
                    preds.push(Pred::Any(any));
                }
                if let Some(not) = &self.not {
                    preds.push(Pred::Not(Box::new(not.to_pred()?)));
                }
                Ok(Pred::all(preds))
            }
        }

        #[doc = concat!("What ", stringify!($name), " lists can be sorted by.")]
        #[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
        pub enum $order_field {
            $(
                $(#[$key_meta])*
                $variant,
            )*
            /// When the record was created in the hub.
            CreatedAt,
            /// When the record last changed in the hub.
            UpdatedAt,
        }

        #[doc = concat!("A sort key of ", stringify!($name), " lists.")]
        #[derive(async_graphql::InputObject, Debug)]
        pub struct $order {
            /// What to sort by.
            pub field: $order_field,
            /// Which way (ascending by default).
            #[graphql(default)]
            pub direction: $crate::graphql::engine::filter::OrderDirection,
        }

        impl $crate::graphql::engine::paging::OrderInput for $order {
            fn key(&self) -> (&'static str, $crate::graphql::engine::filter::OrderDirection) {
                let column = match self.field {
                    $($order_field::$variant => stringify!($column),)*
                    $order_field::CreatedAt => "created_at",
                    $order_field::UpdatedAt => "updated_at",
                };
                (column, self.direction)
            }
        }

        /// Root fields of this type.
        #[derive(Default)]
        pub struct $root;

        #[async_graphql::Object]
        impl $root {
            $(#[$list_meta])*
            #[graphql(complexity = "crate::graphql::engine::paging::cost(first, last, child_complexity) + crate::graphql::engine::paging::filter_cost(&filter)")]
            #[allow(clippy::too_many_arguments)]
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
                #[graphql(desc = "Only the items that match.")]
                filter: Option<$filter>,
                #[graphql(desc = "Sort keys, first the most significant (at most 5); ties are broken by ID.")]
                order_by: Option<Vec<$order>>,
                #[graphql(desc = "Also list archived records (default: false).")]
                include_archived: Option<bool>,
            ) -> async_graphql::Result<$crate::graphql::engine::connection::Connection<$name>> {
                let page = $crate::graphql::engine::paging::PageArgs { first, after, last, before };
                $crate::graphql::engine::node::root_list(ctx, page, filter, order_by, include_archived).await
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
                $crate::graphql::engine::node::lookup(ctx, id.into(), &[$((stringify!($key), $key)),*]).await
            }
        }
    };
}
