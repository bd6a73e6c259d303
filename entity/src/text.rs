//! Folding text for case- and accent-insensitive matching, the same way on
//! every database: tables keep a folded copy (`<column>_folded`) of the
//! text columns clients match words against, computed here on every save.

use unicode_normalization::UnicodeNormalization;

/// Lower-cases `text` and strips its accents: `« Sécurité »` → `« securite »`.
pub fn fold(text: &str) -> String {
    text.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(|c| match c {
            'œ' | 'Œ' => "oe".chars().collect::<Vec<_>>(),
            'æ' | 'Æ' => "ae".chars().collect(),
            'ß' => "ss".chars().collect(),
            'ø' | 'Ø' => "o".chars().collect(),
            'đ' | 'Đ' => "d".chars().collect(),
            'ł' | 'Ł' => "l".chars().collect(),
            other => other.to_lowercase().collect(),
        })
        .collect()
}

/// A text column's value, required or not.
pub trait Foldable {
    fn folded(&self) -> Option<String>;
}

impl Foldable for String {
    fn folded(&self) -> Option<String> {
        Some(fold(self))
    }
}

impl Foldable for Option<String> {
    fn folded(&self) -> Option<String> {
        self.as_deref().map(fold)
    }
}

/// Sets the folded copies of the text columns that are set.
pub trait FoldText {
    fn fold_text(&mut self);
}

/// The behaviour of a table's active model: before every save, the folded
/// copies follow the columns they copy; after it, a searchable record's
/// search words follow its text (`; searchable`: the fields listed for its
/// type in [`crate::records`]), and an archived record leaves
/// search. Bulk inserts, which skip these hooks, call
/// [`FoldText::fold_text`] themselves and rebuild the search index after.
#[macro_export]
macro_rules! behavior {
    ($($column:ident => $folded:ident),* $(,)?) => {
        $crate::behavior!(@ $($column => $folded),*;);
    };
    ($($column:ident => $folded:ident),*; searchable) => {
        $crate::behavior!(@ $($column => $folded),*;
            async fn after_save<C>(model: Model, db: &C, _insert: bool) -> Result<Model, DbErr>
            where
                C: ConnectionTrait,
            {
                let archived = model.archived_at.is_some();
                $crate::search::follow::<C, Entity>(db, &model, model.id, archived).await?;
                Ok(model)
            }
        );
    };
    (@ $($column:ident => $folded:ident),*; $($after_save:item)?) => {
        impl $crate::text::FoldText for ActiveModel {
            fn fold_text(&mut self) {
                $(
                    if let sea_orm::ActiveValue::Set(text) = &self.$column {
                        let folded = $crate::text::Foldable::folded(text);
                        self.$folded = sea_orm::ActiveValue::Set(folded);
                    }
                )*
            }
        }

        #[async_trait::async_trait]
        impl ActiveModelBehavior for ActiveModel {
            async fn before_save<C>(mut self, _db: &C, _insert: bool) -> Result<Self, DbErr>
            where
                C: ConnectionTrait,
            {
                $crate::text::FoldText::fold_text(&mut self);
                Ok(self)
            }

            $($after_save)?
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_case_and_accents() {
        assert_eq!(fold("Sécurité À Œuvre"), "securite a oeuvre");
        assert_eq!(fold("Île-de-France"), "ile-de-france");
        assert_eq!(fold("ÉCOLE Ça"), "ecole ca");
        assert_eq!(fold("Straße Łódź Øresund"), "strasse lodz oresund");
    }
}
