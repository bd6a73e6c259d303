//! Where a record written through the API comes from: the source its
//! writer names, or else the writer itself — « contributed by » the
//! editor of its territories, or by an admin — as a source of its own,
//! made on the first such write.

use chrono::Utc;
use entity::{source, territory};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::{Author, bulk};
use crate::{auth::Writer, error::AppResult};

/// How the source of a writer's contributions names its document: every
/// such source's document starts so.
pub const CONTRIBUTED_PREFIX: &str = "contributed by ";

/// The source of what `writer` contributes without naming a source: found
/// by its document (`contributed by admin`, `contributed by editor for
/// nantes-metropole`), or made.
pub async fn contributed<C: ConnectionTrait>(db: &C, writer: &Writer) -> AppResult<i64> {
    let territories = territory::Entity::find()
        .filter(territory::Column::Id.is_in(writer.territories.iter().copied()))
        .order_by_asc(territory::Column::Slug)
        .all(db)
        .await?;
    let (who, title, publisher) = if writer.is_admin() {
        (
            "admin".to_owned(),
            "Contributions des administrateurs de Vigie (API)".to_owned(),
            "Vigie".to_owned(),
        )
    } else {
        let slugs: Vec<&str> = territories.iter().map(|t| t.slug.as_str()).collect();
        let names: Vec<&str> = territories.iter().map(|t| t.name.as_str()).collect();
        (
            format!("editor for {}", slugs.join(", ")),
            format!("Contributions des éditeurs de {} (API)", names.join(", ")),
            names.join(", "),
        )
    };
    let document = format!("{CONTRIBUTED_PREFIX}{who}");
    let find = || {
        source::Entity::find()
            .filter(source::Column::Document.eq(document.clone()))
            .filter(source::Column::ArchivedAt.is_null())
            .order_by_asc(source::Column::Id)
    };
    if let Some(found) = find().one(db).await? {
        return Ok(found.id);
    }
    let author = Author {
        key: writer.key_id,
        label: &writer.label,
        at: Utc::now(),
    };
    let made = bulk::insert(
        db,
        vec![source::ActiveModel {
            title: Set(title),
            publisher: Set(Some(publisher)),
            document: Set(Some(document.clone())),
            ..Default::default()
        }],
        author,
    )
    .await?;
    match made.into_iter().next() {
        Some(source) => Ok(source.id),
        None => Err(sea_orm::DbErr::RecordNotInserted.into()),
    }
}
