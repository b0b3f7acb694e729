//! The dev server's load shedding: each route's [`Throttle`] applied per source address,
//! with the numbers the template gives API Gateway's stage throttling, so a load test
//! against `make dev` meets the 429s a deployed stage would answer (API Gateway counts
//! all callers together; one local client is all callers).

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::handlers::routes::{Route, Throttle};
use crate::http::ApiError;

/// A token bucket per (throttle class, source address), as [`Throttle::limits`] sizes
/// them (the `governor` crate's GCRA, equivalent to API Gateway's token bucket).
pub struct EdgeLimiter {
    api: DefaultKeyedRateLimiter<IpAddr>,
    auth: DefaultKeyedRateLimiter<IpAddr>,
    registration: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl Default for EdgeLimiter {
    fn default() -> Self {
        Self {
            api: limiter(Throttle::Api),
            auth: limiter(Throttle::Auth),
            registration: limiter(Throttle::Registration),
            clock: DefaultClock::default(),
        }
    }
}

fn limiter(throttle: Throttle) -> DefaultKeyedRateLimiter<IpAddr> {
    let (rate, burst) = throttle.limits();
    let quota = Quota::per_second(NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
    RateLimiter::keyed(quota)
}

impl EdgeLimiter {
    /// Takes one request of `route` from `source`: `Err` 429 `rate_limited` with the whole
    /// seconds (at least 1) until one would pass, when its bucket is empty.
    pub fn admit(&self, route: Route, source: IpAddr) -> Result<(), ApiError> {
        let limiter = match route.spec().throttle {
            Throttle::Api => &self.api,
            Throttle::Auth => &self.auth,
            Throttle::Registration => &self.registration,
        };
        limiter.check_key(&source).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            ApiError::RateLimited {
                retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_admits_its_burst_per_address_then_429s_with_retry_after() {
        let limiter = EdgeLimiter::default();
        let (ann, bob): (IpAddr, IpAddr) = ([192, 0, 2, 1].into(), [192, 0, 2, 2].into());
        let (_, burst) = Throttle::Auth.limits();
        for _ in 0..burst {
            limiter
                .admit(Route::AuthLogin, ann)
                .expect("within the burst");
        }
        let Err(ApiError::RateLimited { retry_after }) = limiter.admit(Route::AuthSignup, ann)
        else {
            panic!("the auth bucket is empty");
        };
        assert_eq!(retry_after, 1, "10 per second refill one in 100 ms");
        assert!(
            limiter.admit(Route::AuthLogin, bob).is_ok(),
            "another address"
        );
        assert!(
            limiter.admit(Route::EventsList, ann).is_ok(),
            "another class"
        );
    }
}
