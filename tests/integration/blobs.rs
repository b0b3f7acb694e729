//! One conformance suite, two blob stores: every case runs against files in a fresh
//! directory and against S3 (real SDK, emulator) in a freshly provisioned `TicketsBucket`.

use std::path::PathBuf;
use std::sync::Arc;

use evreg::adapters::aws::{s3_client, S3Blobs};
use evreg::adapters::embedded::FileBlobs;
use evreg::ports::Blobs;
use evreg_tests::emulator::{sdk_config, unique_prefix};
use evreg_tests::provision::provision;

const PNG: &str = "image/png";

/// A blob store and what to remove once a case is done.
struct Fixture {
    blobs: Arc<dyn Blobs>,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Emulator(Box<(aws_config::SdkConfig, evreg_tests::provision::Provisioned)>),
}

impl Fixture {
    async fn finish(self) {
        match self.cleanup {
            // A case that only reads or is refused never creates the directory.
            Cleanup::Dir(dir) => match std::fs::remove_dir_all(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("{e}"),
                _ => {}
            },
            Cleanup::Emulator(emulator) => {
                let (sdk, provisioned) = *emulator;
                provisioned.teardown(&sdk).await.unwrap();
            }
        }
    }
}

fn files() -> Fixture {
    let dir = std::env::temp_dir().join(unique_prefix("blobs"));
    Fixture {
        blobs: Arc::new(FileBlobs::new(dir.clone())),
        cleanup: Cleanup::Dir(dir),
    }
}

async fn s3() -> Option<Fixture> {
    let sdk = sdk_config().await?;
    let provisioned = provision(&sdk, &unique_prefix("blobs"))
        .await
        .expect("provisioning the emulator from template.yaml");
    let bucket = provisioned.tickets_bucket();
    assert!(!bucket.is_empty(), "template.yaml has no TicketsBucket");
    Some(Fixture {
        blobs: Arc::new(S3Blobs::new(s3_client(&sdk), bucket)),
        cleanup: Cleanup::Emulator(Box::new((sdk, provisioned))),
    })
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod files {
            $(#[tokio::test] async fn $case() {
                let fixture = super::files();
                super::$case(fixture.blobs.as_ref()).await;
                fixture.finish().await;
            })*
        }
        mod s3 {
            $(#[tokio::test] async fn $case() {
                if let Some(fixture) = super::s3().await {
                    super::$case(fixture.blobs.as_ref()).await;
                    fixture.finish().await;
                }
            })*
        }
    };
}

conformance!(
    a_put_blob_reads_back,
    a_put_replaces_the_previous_blob,
    a_missing_key_is_none,
    empty_blobs_are_blobs,
);

/// Not valid PNG, but every byte value, so no layer may treat the body as text.
fn bytes(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

async fn a_put_blob_reads_back(blobs: &dyn Blobs) {
    let key = format!(
        "tickets/{}/{}.png",
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4()
    );
    let content = bytes(1, 70_000);
    blobs.put(&key, PNG, content.clone()).await.unwrap();
    assert_eq!(blobs.get(&key).await.unwrap(), Some(content));

    // A key beside it is untouched, and a flat key works as well as a nested one.
    blobs.put("flat.png", PNG, bytes(2, 10)).await.unwrap();
    assert_eq!(blobs.get("flat.png").await.unwrap(), Some(bytes(2, 10)));
    assert_eq!(blobs.get(&key).await.unwrap(), Some(bytes(1, 70_000)));
}

async fn a_put_replaces_the_previous_blob(blobs: &dyn Blobs) {
    let key = "tickets/e/r.png";
    blobs.put(key, PNG, bytes(1, 5_000)).await.unwrap();
    // Shorter than before: nothing of the old content may survive past the new end.
    blobs.put(key, PNG, bytes(9, 100)).await.unwrap();
    assert_eq!(blobs.get(key).await.unwrap(), Some(bytes(9, 100)));
    // Writing the same again (a redelivered ticket) is harmless.
    blobs.put(key, PNG, bytes(9, 100)).await.unwrap();
    assert_eq!(blobs.get(key).await.unwrap(), Some(bytes(9, 100)));
}

async fn a_missing_key_is_none(blobs: &dyn Blobs) {
    assert_eq!(blobs.get("tickets/nobody.png").await.unwrap(), None);
    assert_eq!(blobs.get("never/written/at/all.png").await.unwrap(), None);
}

async fn empty_blobs_are_blobs(blobs: &dyn Blobs) {
    blobs.put("empty", PNG, Vec::new()).await.unwrap();
    assert_eq!(blobs.get("empty").await.unwrap(), Some(Vec::new()));
}

#[tokio::test]
async fn files_refuse_keys_that_leave_their_directory() {
    let fixture = files();
    let blobs = fixture.blobs.as_ref();
    for key in [
        "",
        "/etc/passwd",
        "../outside.png",
        "a/../../outside.png",
        "a//b",
        "./a",
    ] {
        assert!(blobs.put(key, PNG, bytes(0, 3)).await.is_err(), "{key:?}");
        assert!(blobs.get(key).await.is_err(), "{key:?}");
    }
    let outside = std::env::temp_dir().join("outside.png");
    assert!(!outside.exists() || std::fs::read(&outside).unwrap() != bytes(0, 3));
    fixture.finish().await;
}

/// Readers racing a writer see one whole version or the other, never a torn file, and no
/// temporary file is left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn files_are_replaced_atomically() {
    let dir = std::env::temp_dir().join(unique_prefix("blobs-atomic"));
    let blobs = Arc::new(FileBlobs::new(dir.clone()));
    let (a, b) = (bytes(1, 200_000), bytes(2, 200_000));
    blobs.put("t.png", PNG, a.clone()).await.unwrap();

    let writer = {
        let (blobs, a, b) = (blobs.clone(), a.clone(), b.clone());
        tokio::spawn(async move {
            for i in 0..100 {
                let content = if i % 2 == 0 { b.clone() } else { a.clone() };
                blobs.put("t.png", PNG, content).await.unwrap();
            }
        })
    };
    while !writer.is_finished() {
        let read = blobs.get("t.png").await.unwrap().unwrap();
        assert!(
            read == a || read == b,
            "a torn read of {} bytes",
            read.len()
        );
    }
    writer.await.unwrap();

    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["t.png"]);
    std::fs::remove_dir_all(dir).unwrap();
}
