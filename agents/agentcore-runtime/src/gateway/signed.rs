//! rmcp's Streamable HTTP client transport over requests signed with SigV4: a gateway whose
//! authorizer is `AWS_IAM` takes only signed calls, and rmcp's built-in HTTP client (reqwest)
//! has no hook to sign a request after its body is written. rmcp leaves the HTTP side of the
//! transport to a `StreamableHttpClient`; this one builds each request, signs it with the
//! runtime's credentials (service `bedrock-agentcore`), and sends it on the hyper client the
//! OTLP exporter already uses.
//!
//! Answers are read whole (a tool call's answer is one JSON message or one short event
//! stream, and the tool's timeout bounds the wait); the gateway offers no standalone GET
//! stream, so none is opened.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, Method, Request, StatusCode};
use opentelemetry_http::HttpClient;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
};
use sse_stream::{Sse, SseStream};

/// What AgentCore's APIs are signed for.
pub const SIGNING_NAME: &str = "bedrock-agentcore";
const SESSION_HEADER: &str = "mcp-session-id";
const JSON: &str = "application/json";
const EVENT_STREAM: &str = "text/event-stream";

type Error = StreamableHttpError<std::io::Error>;

#[derive(Clone)]
pub struct SignedClient {
    http: Arc<dyn HttpClient>,
    credentials: SharedCredentialsProvider,
    region: String,
}

impl SignedClient {
    pub fn new(
        credentials: SharedCredentialsProvider,
        region: String,
        timeout: Duration,
    ) -> anyhow::Result<SignedClient> {
        Ok(SignedClient {
            http: crate::telemetry::https_client(timeout)?,
            credentials,
            region,
        })
    }

    /// Signs and sends one request; the answer's status, headers and whole body.
    async fn send(&self, request: Request<Bytes>) -> Result<http::Response<Bytes>, Error> {
        let request = self.sign(request).await.map_err(client_error)?;
        self.http
            .send_bytes(request)
            .await
            .map_err(|err| client_error(anyhow::anyhow!("{err}")))
    }

    async fn sign(&self, mut request: Request<Bytes>) -> anyhow::Result<Request<Bytes>> {
        let credentials = self.credentials.provide_credentials().await?;
        let identity = Identity::from(credentials);
        let params = SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(SIGNING_NAME)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()?
            .into();
        let uri = request.uri().to_string();
        let headers = request
            .headers()
            .iter()
            .map(|(name, value)| Ok((name.as_str(), value.to_str()?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let signable = SignableRequest::new(
            request.method().as_str(),
            &uri,
            headers.into_iter(),
            SignableBody::Bytes(request.body()),
        )?;
        let (instructions, _signature) = sign(signable, &params)?.into_parts();
        instructions.apply_to_request_http1x(&mut request);
        Ok(request)
    }
}

fn client_error(err: anyhow::Error) -> Error {
    StreamableHttpError::Client(std::io::Error::other(format!("{err:#}")))
}

fn request(
    method: Method,
    uri: &str,
    session_id: Option<&str>,
    custom_headers: HashMap<HeaderName, HeaderValue>,
    body: Bytes,
) -> Result<Request<Bytes>, Error> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(ACCEPT, format!("{JSON}, {EVENT_STREAM}"));
    if !body.is_empty() {
        builder = builder.header(CONTENT_TYPE, JSON);
    }
    if let Some(session) = session_id {
        builder = builder.header(SESSION_HEADER, session);
    }
    for (name, value) in custom_headers {
        builder = builder.header(name, value);
    }
    builder
        .body(body)
        .map_err(|err| client_error(anyhow::anyhow!("cannot build the request: {err}")))
}

fn media_type(response: &http::Response<Bytes>) -> Option<String> {
    let value = response.headers().get(CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next()?.trim().to_ascii_lowercase())
}

impl StreamableHttpClient for SignedClient {
    type Error = std::io::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, Error> {
        let body = serde_json::to_vec(&message).map_err(|err| client_error(err.into()))?;
        let request = request(
            Method::POST,
            &uri,
            session_id.as_deref(),
            custom_headers,
            body.into(),
        )?;
        let response = self.send(request).await?;
        let status = response.status();
        let session = response
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if matches!(status, StatusCode::ACCEPTED | StatusCode::NO_CONTENT) {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if status == StatusCode::NOT_FOUND && session_id.is_some() {
            return Err(StreamableHttpError::SessionExpired);
        }
        let awaits_nothing = !matches!(message, ClientJsonRpcMessage::Request(_));
        let kind = media_type(&response);
        if !status.is_success() {
            // A JSON-RPC error in the body says more than the status.
            if let Ok(error) = serde_json::from_slice::<ServerJsonRpcMessage>(response.body()) {
                return Ok(StreamableHttpPostResponse::Json(error, session));
            }
            let body = String::from_utf8_lossy(response.body());
            let body: String = body.chars().take(500).collect();
            return Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
                format!("HTTP {status}: {body}"),
            )));
        }
        match kind.as_deref() {
            Some(EVENT_STREAM) => {
                let whole =
                    futures_util::stream::iter([Ok::<_, std::io::Error>(response.into_body())]);
                let events = SseStream::from_bytes_stream(whole).boxed();
                Ok(StreamableHttpPostResponse::Sse(events, session))
            }
            Some(JSON) => match serde_json::from_slice(response.body()) {
                Ok(message) => Ok(StreamableHttpPostResponse::Json(message, session)),
                Err(_) if awaits_nothing => Ok(StreamableHttpPostResponse::Accepted),
                Err(err) => Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
                    format!("the answer is not JSON-RPC: {err}"),
                ))),
            },
            _ if awaits_nothing => Ok(StreamableHttpPostResponse::Accepted),
            other => Err(StreamableHttpError::UnexpectedContentType(
                other.map(str::to_string),
            )),
        }
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), Error> {
        let request = request(
            Method::DELETE,
            &uri,
            Some(&session_id),
            custom_headers,
            Bytes::new(),
        )?;
        let response = self.send(request).await?;
        // A server without sessions to delete says so with 405; either way the session ends.
        if response.status().is_success() || response.status() == StatusCode::METHOD_NOT_ALLOWED {
            Ok(())
        } else {
            Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
                format!("HTTP {} deleting the MCP session", response.status()),
            )))
        }
    }

    async fn get_stream(
        &self,
        _uri: Arc<str>,
        _session_id: Option<Arc<str>>,
        _last_event_id: Option<String>,
        _auth_header: Option<String>,
        _custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, Error> {
        Err(StreamableHttpError::ServerDoesNotSupportSse)
    }
}
