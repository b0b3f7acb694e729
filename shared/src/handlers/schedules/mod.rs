//! The schedule table: every scheduled job in one row — its handler module (and so its
//! Lambda binary, named like it), what its function reads at init ([`Needs`]), the name
//! of what it counts in its answer, and how often the dev server runs it. In AWS each is
//! a function on an EventBridge schedule (`template.yaml`: every minute); in embedded mode
//! the dev server runs each on its own interval. A job is `<module>.rs` here, with the
//! one signature `async fn run(ctx: &AppContext) -> Result<usize, BoxError>`: how many
//! things it did.

use std::time::Duration;

use super::declare::Needs;
use crate::app::AppContext;
use crate::ports::BoxError;

/// One row of the schedule table.
#[derive(Debug)]
pub struct ScheduleSpec {
    /// Which job.
    pub schedule: Schedule,
    /// The binary under `functions/src/bin/`: the module's name in kebab case.
    pub binary: &'static str,
    /// What its Lambda function reads at init.
    pub needs: Needs,
    /// What its count is of, as its Lambda answers it (`{"released": 2}`) and its log says.
    pub counts: &'static str,
    /// How often the dev server runs it (the deployed schedule is every minute).
    pub dev_every: Duration,
}

macro_rules! schedules {
    ($($schedule:ident => $module:ident: $needs:ident, $counts:literal, every $secs:literal s;)*) => {
        $(pub mod $module;)*

        /// Every scheduled job, one per row of [`SCHEDULES`], in its order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Schedule {
            $(
                #[doc = concat!("[`", stringify!($module), "`].")]
                $schedule,
            )*
        }

        /// The schedule table.
        pub const SCHEDULES: &[ScheduleSpec] = &[$(
            ScheduleSpec {
                schedule: Schedule::$schedule,
                binary: crate::kebab!($module),
                needs: Needs::$needs,
                counts: $counts,
                dev_every: Duration::from_secs($secs),
            },
        )*];

        impl Schedule {
            /// Runs the job once (the dev server's loops call this; a Lambda binary calls
            /// its own job directly).
            pub async fn run(self, ctx: &AppContext) -> Result<usize, BoxError> {
                match self {
                    $(Self::$schedule => $module::run(ctx).await,)*
                }
            }
        }

        /// Each job by its module's name: what a Lambda binary's one line
        /// ([`crate::schedule_function!`]) names.
        #[allow(non_upper_case_globals)]
        pub mod by_module {
            use super::Schedule;
            $(
                #[doc = concat!("[`Schedule::", stringify!($schedule), "`].")]
                pub const $module: Schedule = Schedule::$schedule;
            )*
        }
    };
}

schedules! {
    // Republishes what a function wrote but died before publishing (the outbox).
    OutboxSweeper => outbox_sweeper: TABLE, "republished", every 10 s;
    // Releases lapsed holds on time; the payments worker closes their checkouts.
    HoldsExpirer => holds_expirer: TABLE, "released", every 5 s;
}

impl Schedule {
    /// Its row of [`SCHEDULES`].
    pub fn spec(self) -> &'static ScheduleSpec {
        &SCHEDULES[self as usize]
    }
}
