//! Time travel for tests: leases, grace periods and TTLs without sleeping.

use evreg::ports::Clock;
use time::{Duration, OffsetDateTime};

/// The real time plus a fixed offset.
pub struct LaterClock(pub Duration);

impl Clock for LaterClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + self.0
    }
}
