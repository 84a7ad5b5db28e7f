//! Moving particles between observation times with the model's engine.
//!
//! A particle is a row of [`Propagator::width`] values: the state, then whatever else the
//! engine carries along (a jump process's parameters, which events may change). Particles
//! come in chunks; a chunk keeps its scratch space (a [`Propagator::Worker`]) for the whole
//! filter, and particle `j` of a chunk draws from `rngs[j]`.

use crate::rt::Rng;
use crate::sim::SdeSystem;
use crate::sim::mjp::model::MjpKernels;
use crate::sim::mjp::nrm::NextReaction;
use crate::sim::mjp::path::{self, PathBuffers, PathConfig};
use crate::sim::mjp::run::{MjpMethod, check_fit, describe};
use crate::sim::mjp::ssa::Direct;
use crate::sim::mjp::tau::{self, TauPlan};
use crate::sim::native::NativeSystem;
use crate::sim::schemes::{self, Increments, Method, Stepper, Tolerances};
use std::sync::atomic::{AtomicBool, Ordering};

/// Why particles could not be moved on.
#[derive(Clone, Debug, PartialEq)]
pub enum StepError {
    /// The model reached a state it does not allow (the message says where and when).
    Model(String),
    /// The cancellation flag was raised.
    Cancelled,
}

/// An engine that moves particles of a model from one time to the next.
pub trait Propagator: Sync {
    /// Per-chunk scratch space.
    type Worker: Send;
    fn worker(&self) -> Self::Worker;
    /// Values per particle; the first [`Propagator::nx`] are the model's state.
    fn width(&self) -> usize;
    fn nx(&self) -> usize;
    /// The parameter values a particle's observation model reads.
    fn params<'b>(&'b self, particle: &'b [f64]) -> &'b [f64];
    /// Draw each particle's initial state (`particles` holds `rngs.len()` particles;
    /// `first` is the index of the chunk's first particle, for messages).
    fn init(
        &self,
        w: &mut Self::Worker,
        first: usize,
        particles: &mut [f64],
        rngs: &mut [Rng],
    ) -> Result<(), StepError>;
    /// Move each particle from `t0` to `t1` (`first_interval`: the particles start at
    /// `t0`, so what is due then happens).
    #[allow(clippy::too_many_arguments)]
    fn advance(
        &self,
        w: &mut Self::Worker,
        first: usize,
        t0: f64,
        t1: f64,
        first_interval: bool,
        particles: &mut [f64],
        rngs: &mut [Rng],
    ) -> Result<(), StepError>;
    /// Number of `output let` values.
    fn n_outputs(&self) -> usize;
    /// The `output let` values of each particle at `t` (`n_outputs` per particle).
    fn outputs(&self, w: &mut Self::Worker, t: f64, particles: &[f64], out: &mut [f64]);
}

/// Particles of an SDE or ODE, moved in batches by one of its schemes with steps no longer
/// than `dt` (shortened to land on the observation times).
pub struct SdeParticles<'a> {
    sys: NativeSystem<'a>,
    method: Method,
    tolerances: Tolerances,
    dt: f64,
    cancel: &'a AtomicBool,
}

pub struct SdeWorker {
    stepper: Box<dyn Stepper>,
    dw: Vec<f64>,
    i10: Vec<f64>,
    x: Vec<f64>,
}

impl<'a> SdeParticles<'a> {
    /// Particles of `sys`, or why `method` does not fit it.
    pub fn new(
        sys: NativeSystem<'a>,
        method: Method,
        tolerances: Tolerances,
        dt: f64,
        cancel: &'a AtomicBool,
    ) -> Result<SdeParticles<'a>, String> {
        schemes::stepper(method, &sys, tolerances).map_err(|u| u.0)?;
        if !(dt > 0.0 && dt.is_finite()) {
            return Err(format!(
                "the step size must be positive and finite, not {dt}"
            ));
        }
        Ok(SdeParticles {
            sys,
            method,
            tolerances,
            dt,
            cancel,
        })
    }

    /// Milstein needs commuting noise: checked at the given initial states.
    pub fn check_commutative(&self, particles: &[f64]) -> Result<(), String> {
        if self.method != Method::Milstein {
            return Ok(());
        }
        schemes::check_commutative(&self.sys, 0.0, particles).map_err(|u| u.0)
    }
}

impl Propagator for SdeParticles<'_> {
    type Worker = SdeWorker;

    fn worker(&self) -> SdeWorker {
        SdeWorker {
            stepper: schemes::stepper(self.method, &self.sys, self.tolerances)
                .expect("the method was checked to fit in `new`"),
            dw: Vec::new(),
            i10: Vec::new(),
            x: Vec::new(),
        }
    }

    fn width(&self) -> usize {
        self.sys.dim()
    }

    fn nx(&self) -> usize {
        self.sys.dim()
    }

    fn params<'b>(&'b self, _particle: &'b [f64]) -> &'b [f64] {
        self.sys.params()
    }

    fn init(
        &self,
        _w: &mut SdeWorker,
        _first: usize,
        particles: &mut [f64],
        rngs: &mut [Rng],
    ) -> Result<(), StepError> {
        let nx = self.sys.dim();
        for (rng, x) in rngs.iter_mut().zip(particles.chunks_mut(nx.max(1))) {
            self.sys.init(rng, x);
        }
        Ok(())
    }

    fn advance(
        &self,
        w: &mut SdeWorker,
        _first: usize,
        t0: f64,
        t1: f64,
        _first_interval: bool,
        particles: &mut [f64],
        rngs: &mut [Rng],
    ) -> Result<(), StepError> {
        let span = t1 - t0;
        if span <= 0.0 || self.sys.dim() == 0 {
            return Ok(());
        }
        // Equal steps no longer than dt (the slack keeps 0.1 / 0.01 from becoming 11).
        let steps = ((span / self.dt) - 1e-9).ceil().max(1.0) as u64;
        let h = span / steps as f64;
        let nw = self.sys.noise_dim();
        let nb = rngs.len();
        w.dw.resize(nb * nw, 0.0);
        if w.stepper.needs_area() {
            w.i10.resize(nb * nw, 0.0);
        }
        for i in 0..steps {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(StepError::Cancelled);
            }
            let t = t0 + i as f64 * h;
            if !w.stepper.step_drawing(&self.sys, t, h, particles, rngs) {
                let area = w.stepper.needs_area().then_some(&mut w.i10[..]);
                schemes::draw_increments(h, nw, rngs, &mut w.dw, area);
                let inc = Increments {
                    dw: &w.dw,
                    i10: &w.i10,
                };
                w.stepper.step(&self.sys, t, h, particles, &inc);
            }
        }
        Ok(())
    }

    fn n_outputs(&self) -> usize {
        self.sys.model().n_outputs
    }

    fn outputs(&self, w: &mut SdeWorker, t: f64, particles: &[f64], out: &mut [f64]) {
        // The batch kernel writes nothing to the state, but takes it mutably.
        w.x.clear();
        w.x.extend_from_slice(particles);
        self.sys.outputs(t, &w.x, out);
    }
}

/// Particles of a jump process, each simulated exactly (SSA, next reaction) or by
/// tau-leaping. A particle carries the parameters after its state, since events may change
/// them.
pub struct JumpParticles<'a> {
    k: MjpKernels<'a>,
    method: MjpMethod,
    plan: Option<TauPlan>,
    /// The parameter values every particle starts from.
    p: Vec<f64>,
    max_events: u64,
    cancel: &'a AtomicBool,
}

/// The exact methods' clocks; tau-leaping needs none.
enum Clock {
    Direct(Direct),
    NextReaction(NextReaction),
    None,
}

pub struct JumpWorker {
    buf: PathBuffers,
    clock: Clock,
    counts: Vec<u64>,
}

impl<'a> JumpParticles<'a> {
    /// Particles of the process `k` started with parameter values `p` (laid out as bound),
    /// or why `method` cannot simulate it.
    pub fn new(
        k: MjpKernels<'a>,
        method: MjpMethod,
        p: Vec<f64>,
        max_events: u64,
        cancel: &'a AtomicBool,
    ) -> Result<JumpParticles<'a>, String> {
        check_fit(&k, method)?;
        if p.len() != k.info.bound.p.len() {
            return Err("internal: parameters not laid out as bound".to_string());
        }
        let plan = match method {
            MjpMethod::Tau => Some(TauPlan::new(&k)?),
            _ => None,
        };
        Ok(JumpParticles {
            k,
            method,
            plan,
            p,
            max_events,
            cancel,
        })
    }

    fn load(&self, buf: &mut PathBuffers, particle: &[f64]) {
        let nx = self.k.info.nx;
        buf.x.copy_from_slice(&particle[..nx]);
        buf.p.copy_from_slice(&particle[nx..]);
    }

    fn store(&self, buf: &PathBuffers, particle: &mut [f64]) {
        let nx = self.k.info.nx;
        particle[..nx].copy_from_slice(&buf.x);
        particle[nx..].copy_from_slice(&buf.p);
    }

    fn failed(&self, particle: usize, e: path::PathError) -> StepError {
        match e {
            path::PathError::Cancelled => StepError::Cancelled,
            e => match describe(&self.k, &format!("particle {particle}"), e) {
                crate::sim::ensemble::RunError::Cancelled => StepError::Cancelled,
                other => StepError::Model(other.to_string()),
            },
        }
    }
}

impl Propagator for JumpParticles<'_> {
    type Worker = JumpWorker;

    fn worker(&self) -> JumpWorker {
        let channels = self.k.info.channels;
        JumpWorker {
            buf: PathBuffers::new(&self.k),
            clock: match self.method {
                MjpMethod::Ssa => Clock::Direct(Direct::new(channels)),
                MjpMethod::Nrm => Clock::NextReaction(NextReaction::new(channels)),
                MjpMethod::Tau => Clock::None,
            },
            counts: vec![0; self.k.info.group_names.len()],
        }
    }

    fn width(&self) -> usize {
        self.k.info.nx + self.p.len()
    }

    fn nx(&self) -> usize {
        self.k.info.nx
    }

    fn params<'b>(&'b self, particle: &'b [f64]) -> &'b [f64] {
        &particle[self.k.info.nx..]
    }

    fn init(
        &self,
        w: &mut JumpWorker,
        first: usize,
        particles: &mut [f64],
        rngs: &mut [Rng],
    ) -> Result<(), StepError> {
        let width = self.width();
        for (j, (rng, particle)) in rngs.iter_mut().zip(particles.chunks_mut(width)).enumerate() {
            let buf = &mut w.buf;
            buf.p.copy_from_slice(&self.p);
            self.k.init_with(rng, &mut buf.p, &mut buf.x);
            path::check_counts(&self.k, &buf.x, 0.0, "the initial state", None)
                .map_err(|e| self.failed(first + j, e))?;
            self.store(buf, particle);
        }
        Ok(())
    }

    fn advance(
        &self,
        w: &mut JumpWorker,
        first: usize,
        t0: f64,
        t1: f64,
        first_interval: bool,
        particles: &mut [f64],
        rngs: &mut [Rng],
    ) -> Result<(), StepError> {
        let width = self.width();
        let cfg = PathConfig {
            times: &[],
            t_end: t1,
            max_events: self.max_events,
            cancel: self.cancel,
        };
        if self.cancel.load(Ordering::Relaxed) {
            return Err(StepError::Cancelled);
        }
        for (j, (rng, particle)) in rngs.iter_mut().zip(particles.chunks_mut(width)).enumerate() {
            self.load(&mut w.buf, particle);
            let (buf, counts) = (&mut w.buf, &mut w.counts[..]);
            let done = match (&mut w.clock, &self.plan) {
                (Clock::Direct(c), _) => {
                    path::advance(&self.k, c, &cfg, t0, first_interval, rng, buf, counts)
                }
                (Clock::NextReaction(c), _) => {
                    path::advance(&self.k, c, &cfg, t0, first_interval, rng, buf, counts)
                }
                (Clock::None, Some(plan)) => {
                    tau::advance(&self.k, plan, &cfg, t0, first_interval, rng, buf, counts)
                }
                (Clock::None, None) => unreachable!("tau-leaping particles have a plan"),
            };
            done.map_err(|e| self.failed(first + j, e))?;
            self.store(&w.buf, particle);
        }
        Ok(())
    }

    fn n_outputs(&self) -> usize {
        self.k.info.n_outputs
    }

    fn outputs(&self, w: &mut JumpWorker, t: f64, particles: &[f64], out: &mut [f64]) {
        let (width, n) = (self.width(), self.k.info.n_outputs);
        if n == 0 {
            return;
        }
        for (particle, out) in particles.chunks(width).zip(out.chunks_mut(n)) {
            self.load(&mut w.buf, particle);
            let buf = &mut w.buf;
            self.k.outputs(t, &mut buf.x, &mut buf.p, out);
        }
    }
}
