//! The hub's one error type, and how each case reaches a client.
//!
//! Every error a client sees carries an `extensions.code` (the codes of
//! DESIGN.md). Database and unexpected errors are logged here, with their
//! detail, and reach the client as `INTERNAL` with a fixed message: no SQL,
//! no paths, no Rust debug text ever leaves the hub.

use std::sync::Arc;

use async_graphql::ErrorExtensions;
use sea_orm::DbErr;

/// The `extensions.code` values of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The request is well-formed but an argument is wrong.
    BadUserInput,
    /// The document does not parse.
    ParseFailed,
    /// The document parses but does not fit the schema.
    ValidationFailed,
    /// The document is deeper or costlier than the configured limits.
    QueryTooComplex,
    /// What was asked for does not exist.
    NotFound,
    /// The request has no valid credentials for what it asks.
    Unauthenticated,
    /// The credentials are valid but do not allow this.
    Forbidden,
    /// The record changed since the client read it.
    Conflict,
    /// The database cannot be reached now; try again shortly.
    DbUnavailable,
    /// Too many requests from this client; `Retry-After` says when to retry.
    RateLimited,
    /// Without an API key, this hub runs only its safelisted operations.
    PersistedQueryRequired,
    /// The request ran longer than the hub's time limit and was stopped.
    Timeout,
    /// Something failed inside the hub; details are in its log.
    Internal,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadUserInput => "BAD_USER_INPUT",
            Code::ParseFailed => "GRAPHQL_PARSE_FAILED",
            Code::ValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Code::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Code::NotFound => "NOT_FOUND",
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Forbidden => "FORBIDDEN",
            Code::Conflict => "CONFLICT",
            Code::DbUnavailable => "DB_UNAVAILABLE",
            Code::RateLimited => "RATE_LIMITED",
            Code::PersistedQueryRequired => "PERSISTED_QUERY_REQUIRED",
            Code::Timeout => "TIMEOUT",
            Code::Internal => "INTERNAL",
        }
    }
}

/// The message of DB_UNAVAILABLE.
pub const UNAVAILABLE_MESSAGE: &str = "the database cannot be reached now; try again shortly";

/// The message of TIMEOUT.
pub const TIMEOUT_MESSAGE: &str = "the request ran longer than the hub's time limit and was \
     stopped; ask for less (smaller pages, a narrower filter), or try again later";

/// Whether a database error says the database stopped a statement that ran
/// past its time limit (PostgreSQL's `statement_timeout`: SQLSTATE 57014).
pub fn is_timeout(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::Query(RuntimeErr::SqlxError(err)) | DbErr::Exec(RuntimeErr::SqlxError(err)) => err
            .as_database_error()
            .and_then(|err| err.code())
            .is_some_and(|code| code == "57014"),
        _ => false,
    }
}

/// Whether a database error says the database cannot be reached (no
/// connection to be had, or the connection broke), rather than that a
/// statement failed.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error};
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Query(RuntimeErr::SqlxError(err)) | DbErr::Exec(RuntimeErr::SqlxError(err)) => {
            match &**err {
                Error::Io(_)
                | Error::PoolTimedOut
                | Error::PoolClosed
                | Error::WorkerCrashed
                | Error::Tls(_) => true,
                Error::Database(err) => err.code().is_some_and(|code| gone(&code)),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether a SQLSTATE says the server or the connection went away, or
/// takes no more connections: a connection exception (class 08), the
/// server shutting down or not yet up (57P01, 57P02, 57P03), too many
/// connections (53300).
fn gone(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") || matches!(sqlstate, "57P01" | "57P02" | "57P03" | "53300")
}

/// The message every internal error shows.
pub const INTERNAL_MESSAGE: &str = "internal error; the hub's log has the details";

/// An error of the hub, on its way to a client.
///
/// It deliberately does not implement `Display`: async-graphql converts any
/// displayable error into a GraphQL error with its text and no code, so a
/// `?` on this type must go through our conversion below, which sets the
/// code and hides internal details.
#[derive(Debug, Clone)]
pub enum AppError {
    /// A bad argument; `argument` names it when one is to blame.
    BadUserInput {
        message: String,
        argument: Option<&'static str>,
    },
    /// Input fields that are wrong, each with its path (`input.title`).
    Invalid(Vec<FieldError>),
    /// What was asked for does not exist.
    NotFound(String),
    /// No key, or a key that is not valid.
    Unauthenticated(String),
    /// A valid key that may not do this.
    Forbidden(String),
    /// A write based on a version that is no longer the record's.
    Conflict {
        message: String,
        current_version: i32,
    },
    /// The database failed; its text is for the log only.
    Database(Arc<DbErr>),
}

impl AppError {
    pub fn bad_input(message: impl Into<String>) -> Self {
        AppError::BadUserInput {
            message: message.into(),
            argument: None,
        }
    }

    pub fn bad_argument(argument: &'static str, message: impl Into<String>) -> Self {
        AppError::BadUserInput {
            message: message.into(),
            argument: Some(argument),
        }
    }

    pub fn code(&self) -> Code {
        match self {
            AppError::BadUserInput { .. } | AppError::Invalid(_) => Code::BadUserInput,
            AppError::NotFound(_) => Code::NotFound,
            AppError::Unauthenticated(_) => Code::Unauthenticated,
            AppError::Forbidden(_) => Code::Forbidden,
            AppError::Conflict { .. } => Code::Conflict,
            AppError::Database(err) if is_unavailable(err) => Code::DbUnavailable,
            AppError::Database(err) if is_timeout(err) => Code::Timeout,
            AppError::Database(_) => Code::Internal,
        }
    }

    /// What the client may read: the message itself, except for internal
    /// errors, which are logged and replaced.
    pub fn public_message(&self) -> String {
        match self {
            AppError::BadUserInput { message, .. } => message.clone(),
            AppError::Invalid(errors) => {
                let each: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                format!("invalid input: {}", each.join("; "))
            }
            AppError::NotFound(message)
            | AppError::Unauthenticated(message)
            | AppError::Forbidden(message)
            | AppError::Conflict { message, .. } => message.clone(),
            AppError::Database(err) if is_unavailable(err) => {
                tracing::warn!(error = %err, "database unavailable");
                UNAVAILABLE_MESSAGE.to_owned()
            }
            AppError::Database(err) if is_timeout(err) => {
                tracing::warn!(error = %err, "a statement ran past the time limit");
                TIMEOUT_MESSAGE.to_owned()
            }
            AppError::Database(err) => {
                tracing::error!(error = %err, "database error");
                INTERNAL_MESSAGE.to_owned()
            }
        }
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        AppError::Database(Arc::new(err))
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let code = err.code();
        let argument = match &err {
            AppError::BadUserInput { argument, .. } => *argument,
            _ => None,
        };
        async_graphql::Error::new(err.public_message()).extend_with(|_, ext| {
            ext.set("code", code.as_str());
            if let Some(argument) = argument {
                ext.set("argument", argument);
            }
            match &err {
                AppError::Invalid(errors) => {
                    if let Some(first) = errors.first() {
                        ext.set("field", first.field.as_str());
                    }
                    let fields: Vec<async_graphql::Value> = errors
                        .iter()
                        .map(|e| {
                            let mut map = async_graphql::indexmap::IndexMap::new();
                            map.insert(
                                async_graphql::Name::new("field"),
                                async_graphql::Value::from(e.field.as_str()),
                            );
                            map.insert(
                                async_graphql::Name::new("message"),
                                async_graphql::Value::from(e.message.as_str()),
                            );
                            async_graphql::Value::Object(map)
                        })
                        .collect();
                    ext.set("fields", fields);
                }
                AppError::Conflict {
                    current_version, ..
                } => ext.set("currentVersion", *current_version),
                _ => {}
            }
        })
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// One wrong input field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Its path from the argument: `input.risks.0.category`.
    pub field: String,
    pub message: String,
}

/// Collects the wrong fields of one input, to report them all at once.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when no field is wrong.
    pub fn check(self) -> AppResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(err: &async_graphql::Error) -> String {
        let ext = err.extensions.as_ref().expect("extensions set");
        ext.get("code").expect("code set").to_string()
    }

    #[test]
    fn database_errors_become_internal_without_their_text() {
        let err: async_graphql::Error = AppError::from(DbErr::Custom(
            "near \"SELEC\": syntax error in /srv/db".into(),
        ))
        .into();
        assert_eq!(err.message, INTERNAL_MESSAGE);
        assert_eq!(code_of(&err), "\"INTERNAL\"");
        assert!(!err.message.contains("SELEC"));
    }

    #[test]
    fn bad_input_keeps_its_message_and_names_the_argument() {
        let err: async_graphql::Error = AppError::bad_argument("first", "too large").into();
        assert_eq!(err.message, "too large");
        assert_eq!(code_of(&err), "\"BAD_USER_INPUT\"");
        let ext = err.extensions.unwrap();
        assert_eq!(ext.get("argument").unwrap().to_string(), "\"first\"");
    }

    #[test]
    fn not_found_is_coded() {
        let err: async_graphql::Error = AppError::NotFound("no such territory".into()).into();
        assert_eq!(code_of(&err), "\"NOT_FOUND\"");
        assert_eq!(err.message, "no such territory");
    }
}
