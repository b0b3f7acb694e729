//! Embedded mode has no CDN in front of it: invalidations are logged, so a developer sees
//! what production would purge, and the latest are kept for the tests to read.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::ports::{Cdn, CdnError};

/// How many invalidations [`LoggingCdn::invalidations`] remembers (the oldest go first):
/// a long-running dev server keeps a bounded record.
const KEPT: usize = 100;

/// Logs each invalidation instead of making one, and remembers the latest [`KEPT`].
#[derive(Debug, Default)]
pub struct LoggingCdn {
    made: Mutex<VecDeque<Vec<String>>>,
}

impl LoggingCdn {
    /// The paths of each invalidation asked for, oldest first.
    pub fn invalidations(&self) -> Vec<Vec<String>> {
        self.made
            .lock()
            .map(|made| made.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[async_trait]
impl Cdn for LoggingCdn {
    async fn invalidate(&self, paths: &[String], caller_reference: &str) -> Result<(), CdnError> {
        tracing::info!(?paths, caller_reference, "CDN invalidation");
        if let Ok(mut made) = self.made.lock() {
            if made.len() == KEPT {
                made.pop_front();
            }
            made.push_back(paths.to_vec());
        }
        Ok(())
    }
}
