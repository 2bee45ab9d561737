//! Rate limits: per token (by the holder's role and name) and, for the public and for
//! unknown tokens, per client address (GCRA buckets, the `governor` crate). A request
//! over its limit is answered 429 `rate_limited` with `Retry-After` (seconds).
//!
//! The address is the TCP peer's: behind a reverse proxy every public caller shares the
//! proxy's address (rate-limit at the proxy then, or run with `--rate-limit off`).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::auth::Role;
use super::{ApiError, Shared};

/// Requests a minute one token may make, sustained.
pub const RATE_PER_MINUTE: u32 = 600;
/// Requests one token may make at once before the per-minute rate applies.
pub const RATE_BURST: u32 = 120;
/// Requests a minute from one client address without a token (or with an unknown one).
pub const PUBLIC_RATE_PER_MINUTE: u32 = 300;
/// Requests at once from one client address without a token.
pub const PUBLIC_RATE_BURST: u32 = 120;
/// Keys (tokens, addresses) tracked before idle ones are forgotten at once.
pub const RATE_KEYS_MAX: usize = 100_000;

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// A limit: so many a minute, so many at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Rate {
    fn quota(self) -> Option<Quota> {
        let per = NonZeroU32::new(self.per_minute)?;
        let burst = NonZeroU32::new(self.burst)?;
        Some(Quota::with_period(Duration::from_secs(60) / per.get())?.allow_burst(burst))
    }
    fn text(self) -> String {
        format!("{} a minute, {} at once", self.per_minute, self.burst)
    }
}

/// `--rate-limit`: `off` (None), or `PER_MINUTE/BURST` for tokens and addresses alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateSetting(pub Option<Rate>);

pub fn parse_rate(s: &str) -> Result<RateSetting, String> {
    parse_rate_value(s).map(RateSetting)
}

fn parse_rate_value(s: &str) -> Result<Option<Rate>, String> {
    if s == "off" {
        return Ok(None);
    }
    let (a, b) = s.split_once('/').ok_or_else(|| format!("`{s}`: expected off or PER_MINUTE/BURST, e.g. 600/120"))?;
    let n = |x: &str| x.trim().parse::<u32>().ok().filter(|&v| v > 0).ok_or_else(|| format!("`{x}` is not a positive integer"));
    Ok(Some(Rate { per_minute: n(a)?, burst: n(b)? }))
}

/// The rate limiters of a server.
pub struct RateLimits {
    tokens: Option<(Rate, Keyed)>,
    public: Option<(Rate, Keyed)>,
}

impl Default for RateLimits {
    /// The named limits.
    fn default() -> RateLimits {
        RateLimits::new(Some(Rate { per_minute: RATE_PER_MINUTE, burst: RATE_BURST }), Some(Rate { per_minute: PUBLIC_RATE_PER_MINUTE, burst: PUBLIC_RATE_BURST }))
    }
}

impl RateLimits {
    /// Limits for token holders and for addresses (None: unlimited).
    pub fn new(tokens: Option<Rate>, public: Option<Rate>) -> RateLimits {
        let make = |r: Option<Rate>| r.and_then(|r| Some((r, Keyed::keyed(r.quota()?))));
        RateLimits { tokens: make(tokens), public: make(public) }
    }

    /// Counts one request for `key`; Err: the limit it is over and how long to wait.
    fn check(&self, token: bool, key: &str) -> Result<(), (Rate, Duration)> {
        let Some((rate, lim)) = (if token { &self.tokens } else { &self.public }) else { return Ok(()) };
        if lim.len() > RATE_KEYS_MAX {
            lim.retain_recent();
        }
        lim.check_key(&key.to_string()).map_err(|not_until| (*rate, not_until.wait_time_from(DefaultClock::default().now())))
    }

    /// Forgets keys whose buckets are full again (run now and then).
    pub fn sweep(&self) {
        for (_, l) in [&self.tokens, &self.public].into_iter().flatten() {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// The middleware: keys the request by its token's holder, or by the client's address.
pub async fn rate_limit(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let (token, key) = match st.tokens.caller(req.headers()) {
        Ok(c) if c.role != Role::Public => (true, format!("{}:{}", c.role.as_str(), c.name)),
        _ => (false, req.extensions().get::<ConnectInfo<SocketAddr>>().map_or_else(|| "local".to_string(), |c| c.0.ip().to_string())),
    };
    match st.rate.check(token, &key) {
        Ok(()) => next.run(req).await,
        Err((rate, wait)) => {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let (name, whom) = if token { ("RATE_PER_MINUTE/RATE_BURST", "this token") } else { ("PUBLIC_RATE_PER_MINUTE/PUBLIC_RATE_BURST", "this address") };
            let e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", format!("more requests than {whom} may make ({name}: {}); retry in {} s", rate.text(), secs.max(1)));
            let mut r = e.into_response();
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
            r
        }
    }
}
