//! Text helpers shared by loading and look-ups.

use unicode_normalization::UnicodeNormalization;

/// Lower-cases `text` and strips its accents: `« Sécurité »` → `« securite »`.
pub fn fold(text: &str) -> String {
    text.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(|c| match c {
            'œ' | 'Œ' => "oe".chars().collect::<Vec<_>>(),
            'æ' | 'Æ' => "ae".chars().collect(),
            other => other.to_lowercase().collect(),
        })
        .collect()
}

/// A URL-friendly name: folded, every run of other characters made one `-`.
pub fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in fold(text).chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_case_and_accents() {
        assert_eq!(fold("Sécurité À Œuvre"), "securite a oeuvre");
        assert_eq!(fold("Île-de-France"), "ile-de-france");
    }

    #[test]
    fn slugs_are_url_friendly() {
        assert_eq!(slug("Nantes Métropole"), "nantes-metropole");
        assert_eq!(
            slug("Métropole de Nice Côte d'Azur"),
            "metropole-de-nice-cote-d-azur"
        );
        assert_eq!(
            slug("Communauté d'Agglomération de Béthune-Bruay Artois Lys Romane"),
            "communaute-d-agglomeration-de-bethune-bruay-artois-lys-romane"
        );
        assert_eq!(slug("  Rezé  "), "reze");
    }
}
