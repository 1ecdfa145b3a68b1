//! Counting failed logins, so that guessing is slow for the guesser and nobody else.
//!
//! Three counts, each with its own limit:
//!
//! - one address on one account name (known or not): the first to lock, so an attacker's
//!   guesses lock the attacker's address out of that account while the owner, from elsewhere,
//!   still logs in;
//! - one address on every account name: spraying many accounts locks the address out of all;
//! - one account from every address, in the User's status (every replica sees it): the bound on
//!   a guesser with many addresses, at a higher limit (or none), and the one an administrator
//!   lifts with [`Rbac::unlock_user`](super::Rbac::unlock_user).
//!
//! The two counts of an address live in this process's memory ([`Throttle`]): a replica knows
//! only the attempts it served (sharing them between replicas is issue 19's). Keeping them in
//! the cluster would mean a write per address into the User object for every guess, from an
//! unbounded number of addresses, and nowhere to keep those of unknown account names.
//!
//! Every count is taken before the password is checked ([`Counter::reserve`]): the attempt
//! counts as a failure until it proves right, so a burst of concurrent guesses cannot have more
//! passwords checked than the limit. A success forgives the failures counted up to its own
//! attempt, and lifts a lock only when it set it itself, that is when nothing was counted after
//! it: a lock set meanwhile by another attempt of the same burst stays, and the success is
//! refused as a login to a locked account is.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Mutex, MutexGuard},
    time::Duration,
};

use jiff::{SignedDuration, Timestamp};

/// The most counts of addresses kept in memory (about 100 bytes each); past it, those that no
/// longer matter are forgotten first.
const MAX_TRACKED: usize = 100_000;

/// Where a login comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Source {
    /// The client's address; an IPv6 address is reduced to its /64, which one host usually
    /// holds whole.
    Addr(IpAddr),
    /// The caller does not know it (a library caller): all such logins share one count.
    Unknown,
}

impl Source {
    pub(crate) fn of(addr: Option<IpAddr>) -> Source {
        match addr {
            None => Source::Unknown,
            Some(IpAddr::V4(v4)) => Source::Addr(IpAddr::V4(v4)),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => Source::Addr(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !(u128::from(u64::MAX));
                    Source::Addr(IpAddr::V6(prefix.into()))
                }
            },
        }
    }
}

/// When a count locks, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit {
    /// Attempts that lock; 0 never locks.
    pub(crate) max: u32,
    /// The first lock; also the window attempts are counted in, where there is one.
    pub(crate) lockout: Duration,
    /// The longest lock: each lock since the last success doubles the next, up to this.
    pub(crate) max_lockout: Duration,
}

impl Limit {
    fn lock_for(&self, strikes: u32) -> Duration {
        let cap = self.max_lockout.max(self.lockout);
        1u32.checked_shl(strikes)
            .and_then(|factor| self.lockout.checked_mul(factor))
            .map_or(cap, |d| d.min(cap))
    }
}

/// `t + d`, or the end of time.
pub(crate) fn plus(t: Timestamp, d: Duration) -> Timestamp {
    SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// One count of attempts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counter {
    /// Attempts counted (failed, or still being checked) since the last success, the end of
    /// the last lock or the start of the window.
    pub(crate) failures: u32,
    /// Attempts are refused until then.
    pub(crate) locked_until: Option<Timestamp>,
    /// Locks since the last success, for the back-off.
    pub(crate) strikes: u32,
    /// The start of the window attempts are counted in; `None` for counts without a window.
    pub(crate) window_start: Option<Timestamp>,
}

impl Counter {
    /// When the lock in force ends, if there is one.
    pub(crate) fn locked(&self, now: Timestamp) -> Option<Timestamp> {
        self.locked_until.filter(|until| *until > now)
    }

    /// Counts one more attempt, as a failure until it proves right, and locks when it reaches
    /// the limit; refused (with the end of the lock) while locked. `windowed` counts start
    /// afresh once `limit.lockout` has passed since the first of them.
    pub(crate) fn reserve(
        &mut self,
        now: Timestamp,
        limit: &Limit,
        windowed: bool,
    ) -> Result<(), Timestamp> {
        if let Some(until) = self.locked(now) {
            return Err(until);
        }
        if self.locked_until.take().is_some() {
            self.failures = 0;
            self.window_start = None;
        }
        if windowed {
            match self.window_start {
                Some(start) if plus(start, limit.lockout) > now => {}
                _ => {
                    self.failures = 0;
                    self.window_start = Some(now);
                }
            }
        }
        self.failures = self.failures.saturating_add(1);
        if limit.max > 0 && self.failures >= limit.max {
            self.locked_until = Some(plus(now, limit.lock_for(self.strikes)));
            self.strikes = self.strikes.saturating_add(1);
        }
        Ok(())
    }
}

/// A count in memory, with the version of its last change.
#[derive(Debug, Clone, Copy)]
struct Slot {
    counter: Counter,
    version: u64,
    last_seen: Timestamp,
}

/// What a reservation left in one slot, to recognise the slot unchanged since.
#[derive(Debug, Clone, Copy)]
struct Mark {
    version: u64,
    before: Counter,
    failures: u32,
}

/// An attempt counted in memory, until it is settled.
#[derive(Debug, Clone)]
pub(crate) struct Ticket {
    source: Source,
    account: String,
    pair: Mark,
    overall: Mark,
}

#[derive(Debug, Default)]
struct Table {
    by_source: HashMap<Source, Slot>,
    by_pair: HashMap<(Source, String), Slot>,
    version: u64,
}

/// The counts of addresses, in this process's memory.
#[derive(Debug)]
pub(crate) struct Throttle {
    table: Mutex<Table>,
    /// One address on one account name.
    per_pair: Limit,
    /// One address on every account name.
    per_source: Limit,
}

fn reserve_in<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, Slot>,
    key: K,
    version: u64,
    now: Timestamp,
    limit: &Limit,
) -> Mark {
    let slot = map.entry(key).or_insert(Slot {
        counter: Counter::default(),
        version: 0,
        last_seen: now,
    });
    let before = slot.counter;
    // The caller checked the slot is not locked, so the count always goes up.
    let _ = slot.counter.reserve(now, limit, true);
    slot.version = version;
    slot.last_seen = now;
    Mark {
        version,
        before,
        failures: slot.counter.failures,
    }
}

impl Throttle {
    pub(crate) fn new(per_pair: Limit, per_source: Limit) -> Self {
        Throttle {
            table: Mutex::default(),
            per_pair,
            per_source,
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // Never held across an await; the counts stay usable after a panic elsewhere.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts an attempt of `source` on `account`, or refuses it with the end of the lock when
    /// the address is locked out of that account or of all.
    pub(crate) fn reserve(
        &self,
        source: Source,
        account: &str,
        now: Timestamp,
    ) -> Result<Ticket, Timestamp> {
        let mut table = self.table();
        table.make_room(now, &self.per_source);
        let key = (source, account.to_owned());
        let locked = [
            table
                .by_source
                .get(&source)
                .and_then(|s| s.counter.locked(now)),
            table.by_pair.get(&key).and_then(|s| s.counter.locked(now)),
        ];
        if let Some(until) = locked.into_iter().flatten().max() {
            return Err(until);
        }
        table.version += 1;
        let version = table.version;
        let overall = reserve_in(&mut table.by_source, source, version, now, &self.per_source);
        let pair = reserve_in(&mut table.by_pair, key, version, now, &self.per_pair);
        Ok(Ticket {
            source,
            account: account.to_owned(),
            pair,
            overall,
        })
    }

    /// The attempt was not checked (no permit to hash, the cluster failed): it does not count.
    pub(crate) fn undo(&self, ticket: &Ticket) {
        let mut guard = self.table();
        let table = &mut *guard;
        let key = (ticket.source, ticket.account.clone());
        for (slot, mark) in [
            (table.by_pair.get_mut(&key), ticket.pair),
            (table.by_source.get_mut(&ticket.source), ticket.overall),
        ] {
            if let Some(slot) = slot {
                if slot.version == mark.version {
                    slot.counter = mark.before;
                } else {
                    slot.counter.failures = slot.counter.failures.saturating_sub(1);
                }
            }
        }
    }

    /// The attempt proved right: the address's failures on the account up to it are forgiven,
    /// and it no longer counts against the address. False, changing nothing, when another
    /// attempt locked the address meanwhile: the success must not lift that lock.
    pub(crate) fn succeed(&self, ticket: &Ticket, now: Timestamp) -> bool {
        let mut table = self.table();
        let key = (ticket.source, ticket.account.clone());
        let changed_and_locked = |slot: Option<&Slot>, mark: &Mark| {
            slot.is_some_and(|s| s.version != mark.version && s.counter.locked(now).is_some())
        };
        if changed_and_locked(table.by_pair.get(&key), &ticket.pair)
            || changed_and_locked(table.by_source.get(&ticket.source), &ticket.overall)
        {
            return false;
        }
        table.version += 1;
        let version = table.version;
        if let Some(slot) = table.by_pair.get_mut(&key) {
            if slot.version == ticket.pair.version {
                table.by_pair.remove(&key);
            } else {
                slot.counter.failures = slot.counter.failures.saturating_sub(ticket.pair.failures);
                slot.counter.strikes = 0;
                slot.version = version;
            }
        }
        // Successes do not clear the address's count over all accounts (an attacker would log
        // in to an account of their own between guesses); this one only stops counting.
        if let Some(slot) = table.by_source.get_mut(&ticket.source) {
            if slot.version == ticket.overall.version {
                slot.counter = ticket.overall.before;
            } else {
                slot.counter.failures = slot.counter.failures.saturating_sub(1);
            }
            slot.version = version;
        }
        true
    }

    /// Forgets every address's count on `account` (an administrator unlocked it).
    pub(crate) fn forget_account(&self, account: &str) {
        self.table().by_pair.retain(|(_, name), _| name != account);
    }
}

impl Table {
    fn len(&self) -> usize {
        self.by_source.len() + self.by_pair.len()
    }

    /// Keeps the table under [`MAX_TRACKED`] counts. When full it forgets, down to three
    /// quarters of that, the counts that no longer matter (no lock in force, no window open, no
    /// recent lock to back off from); then, if an attacker with that many addresses keeps it
    /// full, those without a lock in force; then any. The account's own count, in the cluster,
    /// still bounds their guesses on an account.
    fn make_room(&mut self, now: Timestamp, limit: &Limit) {
        if self.len() < MAX_TRACKED {
            return;
        }
        let target = MAX_TRACKED * 3 / 4;
        let matters = |slot: &Slot| {
            slot.counter.locked(now).is_some()
                || slot
                    .counter
                    .window_start
                    .is_some_and(|start| plus(start, limit.lockout) > now)
                || (slot.counter.strikes > 0 && plus(slot.last_seen, limit.max_lockout) > now)
        };
        self.by_source.retain(|_, s| matters(s));
        self.by_pair.retain(|_, s| matters(s));
        if self.len() > target {
            self.by_source
                .retain(|_, s| s.counter.locked(now).is_some());
            self.by_pair.retain(|_, s| s.counter.locked(now).is_some());
        }
        let excess = self.len().saturating_sub(target);
        let pairs: Vec<_> = self.by_pair.keys().take(excess).cloned().collect();
        for key in &pairs {
            self.by_pair.remove(key);
        }
        let excess = self.len().saturating_sub(target);
        let sources: Vec<_> = self.by_source.keys().take(excess).copied().collect();
        for key in &sources {
            self.by_source.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).expect("time")
    }

    const LIMIT: Limit = Limit {
        max: 3,
        lockout: Duration::from_secs(60),
        max_lockout: Duration::from_secs(300),
    };

    #[test]
    fn a_count_locks_at_its_limit_and_each_lock_doubles_up_to_the_cap() {
        let mut c = Counter::default();
        for expected_lock in [60, 120, 240, 300, 300] {
            let start = c.locked_until.map_or(0, |t| t.as_second() - 1_700_000_000);
            for i in 0..3 {
                assert_eq!(c.reserve(at(start + i), &LIMIT, false), Ok(()));
            }
            let until = at(start + 2 + expected_lock);
            assert_eq!(c.locked(at(start + 2)), Some(until));
            assert_eq!(c.reserve(at(start + 3), &LIMIT, false), Err(until));
            assert_eq!(c.failures, 3, "a refused attempt is not counted");
        }
    }

    #[test]
    fn a_windowed_count_starts_afresh_after_the_window() {
        let mut c = Counter::default();
        c.reserve(at(0), &LIMIT, true).expect("first");
        c.reserve(at(30), &LIMIT, true).expect("second");
        c.reserve(at(61), &LIMIT, true).expect("a new window");
        assert_eq!((c.failures, c.locked_until), (1, None));
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_prefix_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(Source::of(Some(a)), Source::of(Some(b)));
        assert_ne!(Source::of(Some(a)), Source::of(Some(c)));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().expect("ip");
        let v4: IpAddr = "10.0.0.1".parse().expect("ip");
        assert_eq!(Source::of(Some(mapped)), Source::of(Some(v4)));
    }

    #[test]
    fn a_full_table_forgets_what_no_longer_matters_and_keeps_the_locks() {
        let throttle = Throttle::new(LIMIT, Limit { max: 0, ..LIMIT });
        let source = |i: usize| {
            let i = u32::try_from(i).expect("few");
            Source::of(Some(IpAddr::V4((0x0a00_0000 | i).into())))
        };
        // An address locked out of an account for the second time: until 60 + 120.
        let locked = Source::of(Some("192.0.2.1".parse().expect("ip")));
        for t in [0, 0, 0, 60, 60, 60] {
            throttle.reserve(locked, "alice", at(t)).expect("counted");
        }
        // Addresses enough to nearly fill the table (two counts each), their windows open.
        let fill = MAX_TRACKED / 2 - 5;
        for i in 0..fill {
            throttle.reserve(source(i), "bob", at(60)).expect("counted");
        }
        assert_eq!(throttle.table().len(), 2 * fill + 2);
        // Once their windows are closed, the table fills up and forgets them; not the lock.
        for i in fill..fill + 10 {
            throttle
                .reserve(source(i), "bob", at(121))
                .expect("counted");
        }
        assert!(throttle.table().len() < 100, "{}", throttle.table().len());
        assert_eq!(
            throttle.reserve(locked, "alice", at(121)).err(),
            Some(at(180))
        );
    }

    #[test]
    fn a_success_forgives_up_to_itself_but_never_a_lock_set_after_it() {
        let throttle = Throttle::new(LIMIT, Limit { max: 100, ..LIMIT });
        let me = Source::of(Some("10.0.0.1".parse().expect("ip")));
        // Alone: the success wipes the count, even a lock its own attempt set.
        for _ in 0..2 {
            let t = throttle.reserve(me, "alice", at(0)).expect("counted");
            throttle.undo(&t);
        }
        let first = throttle.reserve(me, "alice", at(0)).expect("1");
        throttle.reserve(me, "alice", at(0)).expect("2");
        let third = throttle.reserve(me, "alice", at(0)).expect("3 locks");
        assert!(throttle.reserve(me, "alice", at(1)).is_err(), "locked");
        // The first attempt of the burst proves right after the third locked: refused.
        assert!(!throttle.succeed(&first, at(1)));
        assert!(
            throttle.reserve(me, "alice", at(1)).is_err(),
            "still locked"
        );
        // The third, after which nothing was counted, lifts the lock it set itself.
        assert!(throttle.succeed(&third, at(1)));
        throttle.reserve(me, "alice", at(1)).expect("unlocked");
        let other = Source::of(Some("10.0.0.2".parse().expect("ip")));
        assert!(
            throttle.reserve(other, "alice", at(1)).is_ok(),
            "others unaffected"
        );
    }
}
