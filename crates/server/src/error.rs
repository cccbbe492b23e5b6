//! The one error type a request can end in, rendered as AWS error XML.

use std::fmt;

pub use crate::protocol::generated::errors::ErrorCode;

/// Whether AWS blames the caller (`Sender`, 4xx) or itself (`Receiver`, 5xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Sender,
    Receiver,
}

impl Fault {
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Sender => "Sender",
            Fault::Receiver => "Receiver",
        }
    }
}

/// An AWS error: a code from the API model (or AWS's common errors), the
/// HTTP status that goes with it, and a message for the caller.
///
/// The message is sent to the client, so it must never carry a secret or an
/// internal detail; internal causes are logged where the error is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    /// Where AWS answers a code with another status than the model's (SigV4
    /// errors carry their own).
    status: Option<u16>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            status: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn status(&self) -> u16 {
        self.status.unwrap_or_else(|| self.code.status())
    }

    pub fn fault(&self) -> Fault {
        if self.code.sender_fault() {
            Fault::Sender
        } else {
            Fault::Receiver
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::ValidationError, message)
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidInput, message)
    }

    pub fn no_such_entity(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::NoSuchEntity, message)
    }

    /// An operation that is in the AWS model but that Portcullis does not
    /// serve yet: said plainly rather than answered with invented data.
    pub fn not_implemented(operation: &str) -> Self {
        ApiError::new(
            ErrorCode::NotImplemented,
            format!("Portcullis does not implement the operation {operation}."),
        )
    }

    pub fn internal() -> Self {
        ApiError::new(
            ErrorCode::ServiceFailure,
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }

    /// The AWS error XML document for this error, with the request id.
    pub fn to_xml(&self, xmlns: &str, request_id: &str) -> String {
        let mut w = crate::protocol::xml::XmlWriter::with_capacity(256);
        w.raw(r#"<ErrorResponse xmlns=""#);
        w.text(xmlns);
        w.raw(r#""><Error><Type>"#);
        w.raw(self.fault().as_str());
        w.raw("</Type><Code>");
        w.text(self.code.as_str());
        w.raw("</Code><Message>");
        w.text(&self.message);
        w.raw("</Message></Error><RequestId>");
        w.text(request_id);
        w.raw("</RequestId></ErrorResponse>");
        w.finish()
    }
}

/// A store failure as the AWS error it maps to. Backend failures are
/// logged here with their detail and answered with a bare `ServiceFailure`.
pub fn store_error(e: portcullis_store::StoreError) -> ApiError {
    use portcullis_store::StoreError as S;
    match e {
        S::NoSuchEntity(m) => ApiError::new(ErrorCode::NoSuchEntity, m),
        S::EntityAlreadyExists(m) => ApiError::new(ErrorCode::EntityAlreadyExists, m),
        S::DeleteConflict(m) => ApiError::new(ErrorCode::DeleteConflict, m),
        S::LimitExceeded(m) => ApiError::new(ErrorCode::LimitExceeded, m),
        S::InvalidInput(m) => ApiError::new(ErrorCode::InvalidInput, m),
        S::ConcurrentModification(m) => ApiError::new(ErrorCode::ConcurrentModification, m),
        S::ServiceFailure(detail) => {
            tracing::error!(error = %detail, "storage failure");
            ApiError::internal()
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_xml_escapes_the_message_and_names_the_fault() {
        let e = ApiError::no_such_entity("The user with name <a&b> cannot be found.");
        let xml = e.to_xml("https://iam.amazonaws.com/doc/2010-05-08/", "req-1");
        assert_eq!(
            xml,
            "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>\
             <Code>NoSuchEntity</Code><Message>The user with name &lt;a&amp;b&gt; cannot be found.</Message>\
             </Error><RequestId>req-1</RequestId></ErrorResponse>"
        );
        assert_eq!(e.status(), 404);
    }

    #[test]
    fn service_failure_is_the_receivers_fault() {
        let e = ApiError::internal();
        assert_eq!(e.fault(), Fault::Receiver);
        assert_eq!(e.status(), 500);
    }
}
