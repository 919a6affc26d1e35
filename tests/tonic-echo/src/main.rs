//! A tonic server answering every unary call with the request's own bytes, on one thread:
//! what the gRPC front's HTTP/2 stack (tonic on hyper's h2) costs a call at the least, as
//! tests/grpcload's -echo shows it for grpc-go. Usage: tonic-echo 127.0.0.1:7001

use std::future::{ready, Ready};

use bytes::Bytes;
use tonic::server::{Grpc, UnaryService};
use tonic::Status;

#[path = "../../../wrappers/grpc-front/src/raw_codec.rs"]
mod raw_codec;
use raw_codec::RawCodec;

struct Echo;

impl UnaryService<Bytes> for Echo {
    type Response = Bytes;
    type Future = Ready<Result<tonic::Response<Bytes>, Status>>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        ready(Ok(tonic::Response::new(request.into_inner())))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Some(address) = std::env::args().nth(1).and_then(|address| address.parse().ok()) else {
        eprintln!("usage: tonic-echo <host:port>");
        std::process::exit(2);
    };
    // Every path answered by the echo, as the front's fallback service answers every method.
    let every_method = |request: axum::extract::Request| async { Grpc::new(RawCodec).unary(Echo, request).await };
    let routes = tonic::service::Routes::default()
        .into_axum_router()
        .fallback(every_method);
    let served = tonic::transport::Server::builder()
        .add_routes(tonic::service::Routes::from(routes).prepare())
        .serve(address)
        .await;
    if let Err(err) = served {
        eprintln!("tonic-echo: {err}");
        std::process::exit(1);
    }
}
