//! The daemon-wide registry of listening sockets, keyed by app group and server key, and the answers to
//! `queryServer`.

use crate::sync::lock;
use std::collections::{HashMap, HashSet};
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::LbPolicy;
use super::dispatch::Dispatcher;
use super::io_thread::IoThread;
use super::link::Link;
use super::protocol::{Query, error_reply, rr_reply, shared_reply};
use super::route::RouteState;
use super::slot::{Kind, Slot, open_slot};
use super::sockets;

/// What the balancer knows of one cluster worker.
#[derive(Default)]
struct Member {
    /// Keys whose server the worker has open (it is one of their slots' users).
    keys: Vec<String>,
    /// Round-robin dispatchers the worker joined: told when it drains, dies or is gone.
    routes: Vec<Arc<Dispatcher>>,
    /// Asked to take no new connections: keys it joins later start draining.
    draining: bool,
}

#[derive(Default)]
struct State {
    slots: HashMap<(String, String), Slot>,
    released: HashSet<String>,
    members: HashMap<u64, Member>,
}

/// Daemon-wide registry of listening sockets (TCP and UDP) and round-robin dispatchers; one per daemon.
///
/// Sockets are keyed by (app group, address, port, address type, listen index) and stay open across
/// worker restarts and reloads, so a reload never loses the accept queue. A socket is closed once no
/// worker uses its key any more and [`Balancer::release_group`] was called for its group.
///
/// All cluster I/O (accept loops, IPC channels) runs on one dedicated thread with a current-thread
/// runtime: a connection's accept, hand-off and reply never cross threads, and one `epoll_wait` serves
/// every channel and listener that is ready.
pub struct Balancer {
    state: Mutex<State>,
    io: IoThread,
}

/// How to answer one `queryServer`.
pub(crate) enum Answer {
    /// Plain reply; for round robin also the dispatcher to join (and how) once the reply is queued.
    Reply(Value, Option<(Arc<Dispatcher>, RouteState)>),
    /// Reply wrapped in a `NODE_HANDLE` of `kind` with `fd`.
    Handle(&'static str, Value, Arc<OwnedFd>),
}

fn errno_of(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EINVAL)
}

impl Drop for Balancer {
    fn drop(&mut self) {
        if let Ok(st) = self.state.get_mut() {
            for slot in st.slots.values() {
                slot.close();
            }
        }
        if let Some(stop) = self.io.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Balancer {
    /// Creates an empty balancer.
    pub fn new() -> Arc<Self> {
        Arc::new(Balancer {
            state: Mutex::new(State::default()),
            io: IoThread::start(),
        })
    }

    /// Runs `f` in the context of the balancer's I/O runtime (fds registered there are polled there).
    pub(crate) fn in_io<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.io.handle {
            Some(h) => {
                let _guard = h.enter();
                f()
            }
            None => f(),
        }
    }

    /// Spawns `fut` on the balancer's I/O runtime (or the caller's when it has none).
    pub(crate) fn spawn_io<F>(&self, fut: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.io.handle {
            Some(h) => h.spawn(fut),
            None => tokio::spawn(fut),
        }
    }

    /// Marks an app group as released (app stopped or deleted): each of its sockets closes as soon as no
    /// worker uses it. A later `queryServer` from the group un-releases it.
    pub fn release_group(&self, group: &str) {
        let mut st = lock(&self.state);
        st.released.insert(group.to_owned());
        st.slots.retain(|(g, _), slot| {
            let keep = g != group || !slot.users.is_empty();
            if !keep {
                slot.close();
            }
            keep
        });
    }

    /// `newconn`s refused by workers, over every stream key (tests synchronise on it).
    pub fn refusals(&self) -> u64 {
        lock(&self.state)
            .slots
            .values()
            .filter_map(|slot| match &slot.kind {
                Kind::Stream { disp, .. } => disp.get().map(|d| d.refusals()),
                Kind::Udp { .. } => None,
            })
            .sum()
    }

    /// Number of open keys (sockets or UDP ports) across all groups.
    pub fn open_keys(&self) -> usize {
        lock(&self.state).slots.len()
    }

    /// Answers a worker's `queryServer`; the worker becomes a user of the key unless binding failed.
    pub(crate) fn query(&self, link: &Arc<Link>, q: &Query, cwd: &Path) -> Answer {
        let mut st = lock(&self.state);
        st.released.remove(&link.group);
        let k = (link.group.clone(), q.key.clone());
        let mut fresh_udp = None;
        if !st.slots.contains_key(&k) {
            match open_slot(q, cwd) {
                Ok((kind, udp)) => {
                    fresh_udp = udp;
                    st.slots.insert(
                        k.clone(),
                        Slot {
                            kind,
                            users: HashSet::new(),
                            data: Value::Null,
                        },
                    );
                }
                Err(e) => {
                    return Answer::Reply(error_reply(q, errno_of(&e), link.next_seq()), None);
                }
            }
        }
        let slot = st.slots.get_mut(&k).expect("slot inserted above");
        if slot.data.is_null() {
            slot.data = q.data.clone();
        }
        let mut answer = match &slot.kind {
            Kind::Stream {
                listener,
                sockname,
                disp,
                ..
            } => match link.policy {
                LbPolicy::Shared => Answer::Handle(
                    "net.Native",
                    shared_reply(q, link.next_seq()),
                    listener.clone(),
                ),
                LbPolicy::Rr => {
                    let d = match disp.get() {
                        Some(d) => d.clone(),
                        None => match self.in_io(|| Dispatcher::start(&q.key, listener.clone())) {
                            Ok(d) => disp.get_or_init(|| d).clone(),
                            Err(e) => {
                                return Answer::Reply(
                                    error_reply(q, errno_of(&e), link.next_seq()),
                                    None,
                                );
                            }
                        },
                    };
                    Answer::Reply(
                        rr_reply(q, *sockname, link.next_seq()),
                        Some((d, RouteState::Routable)),
                    )
                }
            },
            Kind::Udp { addr, v6only } => {
                let sock = match fresh_udp {
                    Some(s) => s,
                    None => match sockets::udp_socket(addr.ip(), addr.port(), *v6only) {
                        Ok(s) => s,
                        Err(e) => {
                            return Answer::Reply(
                                error_reply(q, errno_of(&e), link.next_seq()),
                                None,
                            );
                        }
                    },
                };
                Answer::Handle(
                    "dgram.Native",
                    shared_reply(q, link.next_seq()),
                    Arc::new(sock),
                )
            }
        };
        let (Answer::Reply(reply, _) | Answer::Handle(_, reply, _)) = &mut answer;
        reply["data"] = slot.data.clone();
        slot.users.insert(link.id);
        let member = st.members.entry(link.id).or_default();
        if !member.keys.contains(&q.key) {
            member.keys.push(q.key.clone());
        }
        if let Answer::Reply(_, Some((d, state))) = &mut answer {
            if member.draining {
                *state = RouteState::Draining;
            }
            if !member.routes.iter().any(|r| Arc::ptr_eq(r, d)) {
                member.routes.push(d.clone());
            }
        }
        answer
    }

    /// The dispatchers worker `id` joined (cloned out, so no dispatcher runs under the balancer's lock).
    fn routes_of(&self, id: u64) -> Vec<Arc<Dispatcher>> {
        let st = lock(&self.state);
        st.members
            .get(&id)
            .map(|m| m.routes.clone())
            .unwrap_or_default()
    }

    /// Worker `link` gets no new connections of any key, now or later (its sockets stay open).
    pub(crate) fn drain(&self, link: &Link) {
        let routes = {
            let mut st = lock(&self.state);
            let m = st.members.entry(link.id).or_default();
            m.draining = true;
            m.routes.clone()
        };
        for d in routes {
            d.drain(link.id);
        }
    }

    /// The worker answered our `newconn` `ack`.
    pub(crate) fn newconn_answered(&self, link: &Link, ack: u64, accepted: bool) {
        for d in self.routes_of(link.id) {
            if d.answered(link.id, ack, accepted) {
                return;
            }
        }
    }

    /// Worker `id`'s route state in every dispatcher it joined (tests).
    #[cfg(test)]
    pub(crate) fn route_state(&self, id: u64) -> Vec<RouteState> {
        self.routes_of(id)
            .iter()
            .filter_map(|d| d.state_of(id))
            .collect()
    }

    /// The worker closed its server for `key`: it no longer uses the key.
    pub(crate) fn leave(&self, link: &Link, key: &str) {
        let mut st = lock(&self.state);
        if let Some(m) = st.members.get_mut(&link.id) {
            m.keys.retain(|k| k != key);
        }
        let k = (link.group.clone(), key.to_owned());
        let Some(slot) = st.slots.get_mut(&k) else {
            return;
        };
        slot.users.remove(&link.id);
        let disp = match &slot.kind {
            Kind::Stream { disp, .. } => disp.get().cloned(),
            Kind::Udp { .. } => None,
        };
        if slot.users.is_empty() && st.released.contains(&link.group) {
            if let Some(slot) = st.slots.remove(&k) {
                slot.close();
            }
        }
        drop(st);
        if let Some(d) = disp {
            d.kill(link.id);
        }
    }

    /// The worker's channel is gone: nothing more is sent to it and it leaves every key it used.
    /// Connections it accepted but never read stay held until [`Balancer::gone`].
    pub(crate) fn channel_closed(&self, link: &Link) {
        let keys = {
            let mut st = lock(&self.state);
            st.members
                .get_mut(&link.id)
                .map(|m| std::mem::take(&mut m.keys))
                .unwrap_or_default()
        };
        for d in self.routes_of(link.id) {
            d.kill(link.id);
        }
        for key in keys {
            self.leave(link, &key);
        }
    }

    /// The worker process was reaped: its fds are closed, so connections it never took up go to the
    /// other workers; the balancer forgets it.
    pub(crate) fn gone(&self, link: &Link) {
        self.channel_closed(link);
        let member = lock(&self.state).members.remove(&link.id);
        for d in member.map(|m| m.routes).unwrap_or_default() {
            d.gone(link.id);
        }
    }
}
