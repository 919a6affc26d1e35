//! Every call to a method the descriptors declare, relayed to the workers as it came: the
//! request message's bytes, decompressed, and the reply's bytes, never parsed here.

use std::collections::HashSet;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::header::HeaderValue;
use tonic::codec::CompressionEncoding;
use tonic::server::{Grpc, UnaryService};
use tonic::{body::Body, Status};

use crate::link::{Header, Link};
use crate::raw_codec::RawCodec;

const ENCODING: &str = "grpc-encoding";
const ACCEPT_ENCODING: &str = "grpc-accept-encoding";

/// The relay: the tower service every path the front does not answer itself reaches.
#[derive(Clone)]
pub struct Forward(Arc<Relay>);

pub struct Relay {
    pub link: Arc<Link>,
    /// "/package.Service/Method" of every method the descriptors declare.
    pub served: HashSet<String>,
    /// Metadata passed on to the workers as request headers: the trace context, when tracing is on.
    pub pass_headers: Vec<String>,
    pub max_bytes: usize,
}

impl Forward {
    pub fn new(relay: Relay) -> Self {
        Forward(Arc::new(relay))
    }
}

/// One call: its method and the metadata passed on.
struct Call {
    relay: Arc<Relay>,
    method: String,
    headers: Vec<Header>,
}

impl UnaryService<Bytes> for Call {
    type Response = Bytes;
    type Future = Pin<Box<dyn Future<Output = Result<tonic::Response<Bytes>, Status>> + Send>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let relay = self.relay.clone();
        let method = std::mem::take(&mut self.method);
        let headers = std::mem::take(&mut self.headers);
        Box::pin(async move {
            let message = request.into_inner();
            let reply = relay.link.call(&method, &headers, &message).await?;
            Ok(tonic::Response::new(reply))
        })
    }
}

impl<B> tower_service::Service<http::Request<B>> for Forward
where
    B: http_body::Body + Send + 'static,
    B::Data: Buf,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let relay = self.0.clone();
        Box::pin(async move {
            let method = request.uri().path().to_string();
            if !relay.served.contains(&method) {
                return Ok(Status::unimplemented(format!("unknown method {method}")).into_http());
            }
            let headers = relay
                .pass_headers
                .iter()
                .filter_map(|name| {
                    let value = request.headers().get(name.as_str())?.to_str().ok()?;
                    Some(Header {
                        name: name.clone(),
                        value: value.to_string(),
                    })
                })
                .collect();
            answer_in_the_request_compression(request.headers_mut());
            let mut grpc = Grpc::new(RawCodec)
                .accept_compressed(CompressionEncoding::Gzip)
                .accept_compressed(CompressionEncoding::Deflate)
                .send_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Deflate)
                .max_decoding_message_size(relay.max_bytes)
                .max_encoding_message_size(relay.max_bytes);
            let call = Call { relay, method, headers };
            Ok(grpc.unary(call, request).await)
        })
    }
}

/// A client that sends gzip or deflate gets its reply in the same one, and an uncompressed
/// request an uncompressed reply (as grpc-go's servers answer); tonic alone would answer in the
/// first compression the client lists as accepted.
fn answer_in_the_request_compression(headers: &mut http::HeaderMap) {
    match headers.get(ENCODING).cloned() {
        Some(encoding) if encoding != HeaderValue::from_static("identity") => {
            headers.insert(ACCEPT_ENCODING, encoding);
        }
        _ => {
            headers.remove(ACCEPT_ENCODING);
        }
    }
}
