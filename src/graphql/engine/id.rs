//! Opaque global IDs: every record is named by its type and its integer key,
//! encoded so that clients treat the ID as a token, not a number.

use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::error::AppError;

/// The global ID of record `id` of GraphQL type `type_name`.
pub fn encode(type_name: &str, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}")))
}

/// A decoded global ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalId {
    pub type_name: String,
    pub id: i64,
}

/// Decodes any global ID; a string that is not one is BAD_USER_INPUT.
pub fn decode(id: &str) -> Result<GlobalId, AppError> {
    let malformed = || AppError::bad_argument("id", format!("`{id}` is not a Vigie ID"));
    let bytes = URL_SAFE_NO_PAD.decode(id).map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let (type_name, key) = text.split_once(':').ok_or_else(malformed)?;
    let key: i64 = key.parse().map_err(|_| malformed())?;
    let well_formed =
        key > 0 && !type_name.is_empty() && type_name.chars().all(|c| c.is_ascii_alphanumeric());
    if !well_formed {
        return Err(malformed());
    }
    Ok(GlobalId {
        type_name: type_name.to_owned(),
        id: key,
    })
}

/// Decodes a global ID that must name a record of `type_name`.
pub fn decode_as(id: &str, type_name: &str) -> Result<i64, AppError> {
    let global = decode(id)?;
    if global.type_name != type_name {
        return Err(AppError::bad_argument(
            "id",
            format!(
                "`{id}` is the ID of a {}, not of a {type_name}",
                global.type_name
            ),
        ));
    }
    Ok(global.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_opaque() {
        let id = encode("Territory", 42);
        assert!(!id.contains("42"));
        assert_eq!(
            decode(&id).unwrap(),
            GlobalId {
                type_name: "Territory".into(),
                id: 42
            }
        );
        assert_eq!(decode_as(&id, "Territory").unwrap(), 42);
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "42",
            "not base64!",
            &URL_SAFE_NO_PAD.encode("Territory"),
            &URL_SAFE_NO_PAD.encode("Territory:x"),
            &URL_SAFE_NO_PAD.encode("Territory:-1"),
            &URL_SAFE_NO_PAD.encode(":1"),
            &URL_SAFE_NO_PAD.encode("Terr itory:1"),
        ] {
            assert!(decode(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn an_id_of_another_type_is_rejected() {
        let err = decode_as(&encode("Deployment", 1), "Territory").unwrap_err();
        assert!(err.public_message().contains("Deployment"));
    }
}
