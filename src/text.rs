//! Text helpers shared by loading and look-ups.

pub use entity::text::fold;

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

/// A slug for `name` that `taken` does not hold yet (`-2`, `-3`… after
/// it when it does), then taken.
pub fn unique_slug(taken: &mut std::collections::BTreeSet<String>, name: &str) -> String {
    let base = slug(name);
    let mut candidate = base.clone();
    let mut n = 1;
    while !taken.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{base}-{n}");
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

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
