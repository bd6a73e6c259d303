//! Where records come from. A data file's source, as the file describes
//! it ([`SourceFile`]); and for a record written through the API, the
//! source its writer names, or else the writer itself — « contributed by »
//! the editor of its territories, or by an admin — as a source of its own,
//! made on the first such write.

use chrono::Utc;
use entity::{source, territory};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select,
};
use serde::Deserialize;

use super::{Author, bulk};
use crate::{auth::Writer, error::AppResult};

/// A source as the data files describe it (the reference files, a
/// dataset's `source.json`), found again by its document.
#[derive(Debug, Clone, Deserialize)]
pub struct SourceFile {
    pub title: String,
    pub publisher: Option<String>,
    pub url: Option<String>,
    /// The document, its natural key.
    pub document: String,
    /// The version of the data, added to the title when given.
    pub version: Option<String>,
    pub retrieved_on: Option<chrono::NaiveDate>,
    pub licence: Option<String>,
    pub attribution: Option<String>,
}

impl SourceFile {
    /// Its record, if the database holds it already.
    pub fn find(&self) -> Select<source::Entity> {
        source::Entity::find().filter(source::Column::Document.eq(&self.document))
    }

    /// Its record as the file describes it.
    pub fn record(&self) -> source::ActiveModel {
        let title = match &self.version {
            Some(version) => format!("{} {version}", self.title),
            None => self.title.clone(),
        };
        source::ActiveModel {
            title: Set(title),
            publisher: Set(self.publisher.clone()),
            url: Set(self.url.clone()),
            document: Set(Some(self.document.clone())),
            retrieved_on: Set(self.retrieved_on),
            licence: Set(self.licence.clone()),
            attribution: Set(self.attribution.clone()),
            ..Default::default()
        }
    }
}

/// How the source of a writer's contributions names its document: every
/// such source's document starts so.
pub const CONTRIBUTED_PREFIX: &str = "contributed by ";

/// The source of what `writer` contributes without naming a source: found
/// by its document (`contributed by admin`, `contributed by editor for
/// nantes-metropole`), or made; and whether it was made now.
pub async fn contributed<C: ConnectionTrait>(db: &C, writer: &Writer) -> AppResult<(i64, bool)> {
    let (who, title, publisher) = if writer.is_admin() {
        (
            "admin".to_owned(),
            "Contributions des administrateurs de Vigie (API)".to_owned(),
            "Vigie".to_owned(),
        )
    } else {
        let territories = territory::Entity::find()
            .filter(territory::Column::Id.is_in(writer.territories.iter().copied()))
            .order_by_asc(territory::Column::Slug)
            .all(db)
            .await?;
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
        return Ok((found.id, false));
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
        Some(source) => Ok((source.id, true)),
        None => Err(sea_orm::DbErr::RecordNotInserted.into()),
    }
}
