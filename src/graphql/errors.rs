//! Gives every error of a response an `extensions.code`, including those
//! async-graphql raises itself (parse, validation, argument coercion), and
//! hides any uncoded error raised while executing behind `INTERNAL`.

use std::sync::Arc;

use async_graphql::{
    Response, ServerError, ServerResult, ValidationResult, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest,
        NextValidation,
    },
    parser::types::ExecutableDocument,
};

use crate::error::{Code, INTERNAL_MESSAGE};

pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

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

fn validation_code(message: &str) -> Code {
    if message.starts_with("Query is too complex")
        || message.starts_with("Query is nested too deep")
    {
        Code::QueryTooComplex
    } else if is_input_error(message) {
        Code::BadUserInput
    } else {
        Code::ValidationFailed
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        // What is still uncoded failed before execution: choosing the
        // operation to run.
        for error in &mut response.errors {
            set_code(error, Code::ValidationFailed);
        }
        response
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables).await.map_err(|mut error| {
            set_code(&mut error, Code::ParseFailed);
            error
        })
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            for error in &mut errors {
                let code = validation_code(&error.message);
                set_code(error, code);
            }
            errors
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        for error in &mut response.errors {
            if has_code(error) {
                continue;
            }
            if is_input_error(&error.message) {
                set_code(error, Code::BadUserInput);
            } else {
                tracing::error!(message = %error.message, path = ?error.path, "uncoded error while executing");
                error.message = INTERNAL_MESSAGE.to_owned();
                set_code(error, Code::Internal);
            }
        }
        response
    }
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
    }
}
