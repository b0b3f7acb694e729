//! [`Blobs`] on S3: ticket images as objects of the tickets bucket.

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use crate::ports::{BlobError, Blobs};

/// An S3 client for `sdk`'s region and endpoint.
///
/// Path-style addressing (`endpoint/bucket/key`) because emulators such as moto serve one
/// host and cannot resolve `bucket.endpoint` names; real S3 still accepts it.
pub fn s3_client(sdk: &aws_config::SdkConfig) -> Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(true)
        .build();
    Client::from_conf(config)
}

/// Ticket images (and any other blob) as objects of one bucket, keyed as given.
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    /// Objects of `bucket` through `client` (see [`s3_client`]).
    pub fn new(client: Client, bucket: &str) -> Self {
        Self {
            client,
            bucket: bucket.to_owned(),
        }
    }
}

fn blob_error(e: impl std::error::Error + Send + Sync + 'static) -> BlobError {
    BlobError(Box::new(e))
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(blob_error)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(blob_error(e)),
        };
        let body = output.body.collect().await.map_err(blob_error)?;
        Ok(Some(body.into_bytes().to_vec()))
    }
}
