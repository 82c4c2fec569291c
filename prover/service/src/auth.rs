//! Who may call: operator authentication (a bearer token in the
//! `authorization` metadata, compared in constant time with `subtle`;
//! without a configured token every operator call is refused; a request
//! with more than one `authorization` header is refused), and the [`Gate`]
//! a node closes when it stops taking requests at shutdown.

use std::sync::Arc;

use super::error::ServiceError;

/// Open while the node takes requests; closed once a shutdown has drained
/// and the node stops taking them: a request that still arrives gets
/// UNAVAILABLE (retriable), never an error of the request itself, and
/// whatever waits on [`Gate::closed`] (the server's shutdown, open
/// `WatchJob` streams) ends.
#[derive(Debug, Clone)]
pub struct Gate {
    closed: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            closed: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }
}

impl Gate {
    /// Stops taking requests.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Resolves once the gate is closed.
    pub async fn closed(&self) {
        let mut rx = self.closed.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }

    /// Refuses a request once closed.
    pub fn check(&self) -> Result<(), ServiceError> {
        if *self.closed.borrow() {
            Err(ServiceError::ShuttingDown)
        } else {
            Ok(())
        }
    }
}

impl tonic::service::Interceptor for Gate {
    fn call(&mut self, req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        self.check()?;
        Ok(req)
    }
}

/// Checks operator calls (and the node's [`Gate`]).
#[derive(Clone)]
pub struct OperatorAuth {
    token: Option<std::sync::Arc<str>>,
    gate: Gate,
}

impl std::fmt::Debug for OperatorAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorAuth")
            .field("configured", &self.token.is_some())
            .finish()
    }
}

impl OperatorAuth {
    /// Accepts `token` (none: refuse everything) while `gate` is open.
    pub fn new(token: Option<&str>, gate: Gate) -> Self {
        OperatorAuth {
            token: token.map(Into::into),
            gate,
        }
    }

    /// Whether a token is configured (operator calls possible at all).
    pub fn configured(&self) -> bool {
        self.token.is_some()
    }

    /// Whether the request carries any `authorization` header.
    pub fn presented(md: &tonic::metadata::MetadataMap) -> bool {
        md.get("authorization").is_some()
    }

    /// Checks a request's metadata.
    pub fn check(&self, md: &tonic::metadata::MetadataMap) -> Result<(), ServiceError> {
        use subtle::ConstantTimeEq;
        let Some(expected) = &self.token else {
            return Err(ServiceError::Unauthenticated(
                "operator calls are disabled: the server has no operator_token configured".into(),
            ));
        };
        let mut values = md.get_all("authorization").iter();
        let Some(value) = values.next() else {
            return Err(ServiceError::Unauthenticated(
                "operator call without credentials: send `authorization: Bearer <token>`".into(),
            ));
        };
        if values.next().is_some() {
            return Err(ServiceError::Unauthenticated(
                "more than one `authorization` header: send exactly one".into(),
            ));
        }
        let given = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        // `ct_eq` on slices of different lengths is false without looking
        // at the contents; the length of the token is not a secret.
        if bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
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
        self.gate.check()?;
        self.check(req.metadata())?;
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::metadata::{MetadataMap, MetadataValue};

    fn md(values: &[&str]) -> MetadataMap {
        let mut m = MetadataMap::new();
        for v in values {
            m.append("authorization", MetadataValue::try_from(*v).unwrap());
        }
        m
    }

    #[test]
    fn exactly_one_right_token() {
        let auth = OperatorAuth::new(Some("0123456789abcdef"), Gate::default());
        assert!(auth.check(&md(&["Bearer 0123456789abcdef"])).is_ok());
        for bad in [
            vec![],
            vec!["Bearer 0123456789abcdeg"],
            vec!["Bearer 0123456789abcde"],
            vec!["0123456789abcdef"],
            vec!["Bearer 0123456789abcdef", "Bearer wrong"],
            vec!["Bearer wrong", "Bearer 0123456789abcdef"],
            vec!["Bearer 0123456789abcdef", "Bearer 0123456789abcdef"],
        ] {
            let e = auth.check(&md(&bad)).unwrap_err();
            assert_eq!(e.code(), tonic::Code::Unauthenticated, "{bad:?}");
        }
        let e = auth
            .check(&md(&["Bearer 0123456789abcdef", "Bearer x"]))
            .unwrap_err();
        assert!(e.to_string().contains("more than one"), "{e}");
        let none = OperatorAuth::new(None, Gate::default());
        assert!(none.check(&md(&["Bearer 0123456789abcdef"])).is_err());
    }
}
