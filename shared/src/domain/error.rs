use serde::Serialize;

/// One invalid field of a request, named as it is on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    #[error("invalid input: {}", summarize(.0))]
    Invalid(Vec<FieldError>),
}

fn summarize(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Collects every invalid field of a request, so a client learns all of them at once.
#[derive(Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    pub fn check(&mut self, ok: bool, field: &'static str, message: impl Into<String>) {
        if !ok {
            self.0.push(FieldError {
                field,
                message: message.into(),
            });
        }
    }

    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.check(false, field, message);
    }

    pub fn into_result(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(self.0))
        }
    }
}
