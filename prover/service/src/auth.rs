//! Operator authentication: a bearer token in the `authorization` metadata,
//! compared in constant time. Without a configured token every operator
//! call is refused.

use super::error::ServiceError;

/// Checks operator calls.
#[derive(Clone)]
pub struct OperatorAuth {
    token: Option<std::sync::Arc<str>>,
}

impl std::fmt::Debug for OperatorAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorAuth")
            .field("configured", &self.token.is_some())
            .finish()
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl OperatorAuth {
    /// Accepts `token` (none: refuse everything).
    pub fn new(token: Option<&str>) -> Self {
        OperatorAuth {
            token: token.map(Into::into),
        }
    }

    /// Checks a request's metadata.
    pub fn check(&self, md: &tonic::metadata::MetadataMap) -> Result<(), ServiceError> {
        let Some(expected) = &self.token else {
            return Err(ServiceError::Unauthenticated(
                "operator calls are disabled: the server has no operator_token configured".into(),
            ));
        };
        let Some(value) = md.get("authorization") else {
            return Err(ServiceError::Unauthenticated(
                "operator call without credentials: send `authorization: Bearer <token>`".into(),
            ));
        };
        let given = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if ct_eq(given.as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            Err(ServiceError::Unauthenticated(
                "operator token is not valid".into(),
            ))
        }
    }
}

impl tonic::service::Interceptor for OperatorAuth {
    fn call(&mut self, req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        self.check(req.metadata())?;
        Ok(req)
    }
}
