//! Gives every error of a response an `extensions.code`, including those
//! async-graphql raises itself (parse, validation, argument coercion), and
//! hides any uncoded error raised while executing behind `INTERNAL`.
//!
//! This runs on the finished response, not as a schema extension: an
//! extension, even one that only looks at errors, sends every field's
//! resolution through its hooks. The phase an error comes from is told by
//! its path: errors raised while executing a field carry the field's path,
//! those raised before (validation, limits, choosing the operation) carry
//! none. Documents that do not parse never reach the executor: see
//! [`parse_failed`].

use async_graphql::{Response, ServerError};

use crate::error::{Code, INTERNAL_MESSAGE, TIMEOUT_MESSAGE};

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|ext| ext.get("code").is_some())
}

fn set_code(error: &mut ServerError, code: Code) {
    if !has_code(error) {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code.as_str());
    }
}

/// An input value the client sent does not fit its type, or is missing.
/// (Messages naming a variable in quotes are about the document instead:
/// a variable used where its type does not fit, or never declared.)
fn is_input_error(message: &str) -> bool {
    message.starts_with("Invalid value for argument")
        || message.starts_with("Expected input type")
        || message.starts_with("Failed to parse")
        || (message.starts_with("Variable ") && !message.starts_with("Variable \""))
}

/// The code of an error raised before execution.
fn validation_code(message: &str) -> Code {
    if message.starts_with("Query is too complex")
        || message.starts_with("Query is nested too deep")
    {
        Code::QueryTooComplex
    } else if message.starts_with("The recursion depth of the query")
        || message.starts_with("The number of directives on the field")
    {
        // Checked on the parsed document, before validation.
        Code::ParseFailed
    } else if is_input_error(message) {
        Code::BadUserInput
    } else {
        Code::ValidationFailed
    }
}

/// Codes the errors of a response that have no code yet; an uncoded error
/// raised while executing is logged, and shown only as `INTERNAL`.
pub fn code_errors(response: &mut Response) {
    for error in &mut response.errors {
        if has_code(error) {
            continue;
        }
        if error.path.is_empty() {
            let code = validation_code(&error.message);
            set_code(error, code);
        } else if is_input_error(&error.message) {
            set_code(error, Code::BadUserInput);
        } else {
            tracing::error!(message = %error.message, path = ?error.path, "uncoded error while executing");
            error.message = INTERNAL_MESSAGE.to_owned();
            set_code(error, Code::Internal);
        }
    }
    failure_fails_all(response);
    bound(response);
}

/// A database that failed under a request, or a request stopped at its
/// time limit (by the hub or by the database's own statement limit, which
/// ever comes first), fails the whole request: its answer is that one
/// error, with no partial data a client could take for the answer (over
/// HTTP, a 503 with `Retry-After` for the database).
fn failure_fails_all(response: &mut Response) {
    let whole =
        [Code::DbUnavailable, Code::Timeout].map(|code| async_graphql::Value::from(code.as_str()));
    let failed = response.errors.iter().position(|error| {
        error
            .extensions
            .as_ref()
            .and_then(|ext| ext.get("code"))
            .is_some_and(|code| whole.contains(code))
    });
    if let Some(at) = failed {
        let mut error = response.errors.swap_remove(at);
        error.path.clear();
        error.locations.clear();
        response.data = async_graphql::Value::Null;
        response.errors = vec![error];
    }
}

/// The answer to a document that does not parse, or that was refused
/// before it ran (with the code it was refused with).
pub fn parse_failed(mut error: ServerError) -> Response {
    if !has_code(&error)
        && let Some(message) = syntax_message(&error.message)
    {
        error.message = message;
    }
    set_code(&mut error, Code::ParseFailed);
    let mut response = Response::from_errors(vec![error]);
    bound(&mut response);
    response
}

/// A syntax error said in one line, without the document's line the
/// parser quotes (which may be the whole document): `syntax error at
/// 1:12: expected selection_set`.
fn syntax_message(message: &str) -> Option<String> {
    let at = message
        .trim_start()
        .strip_prefix("--> ")?
        .lines()
        .next()?
        .trim();
    let expected = message
        .lines()
        .rev()
        .find_map(|line| line.trim_start().strip_prefix("= "))
        .unwrap_or("unexpected input");
    Some(format!("syntax error at {at}: {expected}"))
}

/// Longest error message an answer carries, in characters: messages may
/// quote the client's text (a name, a line of the document).
const LONGEST_MESSAGE: usize = 300;

/// Most errors one answer carries; the rest are summed up in one more.
const MOST_ERRORS: usize = 20;

/// Bounds what an answer's errors may repeat of the request: at most
/// [`MOST_ERRORS`] errors, each message cut at [`LONGEST_MESSAGE`].
fn bound(response: &mut Response) {
    if response.errors.len() > MOST_ERRORS {
        let more = response.errors.len() - MOST_ERRORS;
        let code = response.errors[MOST_ERRORS]
            .extensions
            .as_ref()
            .and_then(|ext| ext.get("code").cloned());
        response.errors.truncate(MOST_ERRORS);
        let mut rest = ServerError::new(format!("and {more} more errors like these"), None);
        if let Some(code) = code {
            rest.extensions
                .get_or_insert_with(Default::default)
                .set("code", code);
        }
        response.errors.push(rest);
    }
    for error in &mut response.errors {
        if error.message.chars().nth(LONGEST_MESSAGE).is_some() {
            error.message = super::guard::excerpt(&error.message, LONGEST_MESSAGE);
        }
    }
}

/// The answer to a request stopped at its time limit.
pub fn timed_out() -> Response {
    let mut error = ServerError::new(TIMEOUT_MESSAGE, None);
    set_code(&mut error, Code::Timeout);
    Response::from_errors(vec![error])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_inputs_have_their_own_codes() {
        assert_eq!(
            validation_code("Query is too complex."),
            Code::QueryTooComplex
        );
        assert_eq!(
            validation_code("Query is nested too deep."),
            Code::QueryTooComplex
        );
        assert_eq!(
            validation_code("Invalid value for argument \"first\", expected type \"Int\""),
            Code::BadUserInput
        );
        assert_eq!(
            validation_code("Variable n is not defined."),
            Code::BadUserInput
        );
        assert_eq!(
            validation_code("Variable \"$n\" is not defined"),
            Code::ValidationFailed
        );
        assert_eq!(
            validation_code("Unknown field \"nope\" on type \"Query\"."),
            Code::ValidationFailed
        );
        assert_eq!(
            validation_code("The recursion depth of the query cannot be greater than `32`"),
            Code::ParseFailed
        );
    }

    #[test]
    fn a_database_failing_under_a_request_fails_all_of_it() {
        let mut unavailable = ServerError::new(crate::error::UNAVAILABLE_MESSAGE, None);
        unavailable.path = vec![async_graphql::PathSegment::Field("territory".into())];
        set_code(&mut unavailable, Code::DbUnavailable);
        let mut failed = ServerError::new("connection reset by peer", None);
        failed.path = vec![async_graphql::PathSegment::Field("deployments".into())];
        let mut response = Response::new(async_graphql::value!({
            "territories": { "totalCount": 3 },
            "territory": null,
        }));
        response.errors = vec![failed, unavailable];
        code_errors(&mut response);
        assert_eq!(response.data, async_graphql::Value::Null);
        assert_eq!(response.errors.len(), 1);
        assert_eq!(code_of(&response.errors[0]), "\"DB_UNAVAILABLE\"");
        assert!(response.errors[0].path.is_empty());
    }

    #[test]
    fn a_statement_stopped_at_the_time_limit_fails_the_whole_request() {
        let mut stopped = ServerError::new(crate::error::TIMEOUT_MESSAGE, None);
        stopped.path = vec![async_graphql::PathSegment::Field("territories".into())];
        set_code(&mut stopped, Code::Timeout);
        let mut response = Response::new(
            async_graphql::value!({ "territories": null, "network": { "name": "x" } }),
        );
        response.errors = vec![stopped];
        code_errors(&mut response);
        assert_eq!(response.data, async_graphql::Value::Null);
        assert_eq!(code_of(&response.errors[0]), "\"TIMEOUT\"");
        assert!(response.errors[0].path.is_empty());
    }

    #[test]
    fn syntax_errors_say_where_without_quoting_the_line() {
        let long = format!("{{ {} ( }}", "a".repeat(10_000));
        let error = async_graphql::parser::parse_query(&long).unwrap_err();
        let response = parse_failed(error.into());
        let message = &response.errors[0].message;
        assert!(message.starts_with("syntax error at 1:"), "{message}");
        assert!(message.len() < LONGEST_MESSAGE, "{message}");
    }

    #[test]
    fn answers_repeat_a_bounded_part_of_their_errors() {
        let errors = (0..100)
            .map(|_| ServerError::new("x".repeat(10_000), None))
            .collect();
        let mut response = Response::from_errors(errors);
        code_errors(&mut response);
        assert_eq!(response.errors.len(), MOST_ERRORS + 1);
        assert!(
            response
                .errors
                .iter()
                .all(|e| e.message.chars().count() <= LONGEST_MESSAGE + 1)
        );
        assert_eq!(
            response.errors[MOST_ERRORS].message,
            "and 80 more errors like these"
        );
    }

    fn code_of(error: &ServerError) -> String {
        error
            .extensions
            .as_ref()
            .unwrap()
            .get("code")
            .unwrap()
            .to_string()
    }

    #[test]
    fn errors_with_a_path_were_raised_executing_and_are_hidden_unless_coded() {
        let mut failed = ServerError::new("connection reset by peer", None);
        failed.path = vec![async_graphql::PathSegment::Field("territory".into())];
        let mut coerced = ServerError::new("Invalid value for argument \"first\"", None);
        coerced.path = failed.path.clone();
        let unknown = ServerError::new("Unknown field \"nope\" on type \"Query\".", None);
        let mut response = Response::from_errors(vec![failed, coerced, unknown]);
        code_errors(&mut response);
        let [failed, coerced, unknown] = &response.errors[..] else {
            panic!("three errors")
        };
        assert_eq!(failed.message, INTERNAL_MESSAGE);
        assert_eq!(code_of(failed), "\"INTERNAL\"");
        assert_eq!(code_of(coerced), "\"BAD_USER_INPUT\"");
        assert_eq!(unknown.message, "Unknown field \"nope\" on type \"Query\".");
        assert_eq!(code_of(unknown), "\"GRAPHQL_VALIDATION_FAILED\"");
    }
}
